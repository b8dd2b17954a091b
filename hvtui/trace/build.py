"""From a trace to the scenarios that could explain it.

One streaming pass (`scan`) keeps only the events the model decides (a
1M-line trace of mostly kvm_entry/kvm_exit costs the memory of its few
flushes); `build` then lays them out per actor and writes the program:

- the vCPU count: the highest vCPU any event or mask names (kvm_entry's and
  kvm_exit's too), plus one;
- each vCPU's flush ops with their targets. A flush traced again after the
  vCPU's suspension and before any result is the same op retried: 5/7 does
  not skip the instruction, so the guest re-executes it;
- the ioctls. `set_inhibit(x, false)` is traced by the unsuspensions it makes
  (one scan: consecutive `kvm_hv_vcpu_unsuspend_tlb_flush` of one thread, in
  ascending vCPU order); `set_inhibit(x, true)` is never traced, so it is
  inferred: the first suspension waiting on x needs x inhibited. Each x's first
  inhibit is either there from the start (no ioctl) or an ioctl; the
  candidates come fewest ioctls first. An ioctl on x needs x out of KVM_RUN,
  so it goes into the window of x's latest `kvm_userspace_exit` before it
  (QEMU runs vCPU ioctls on the vCPU's own thread), or before x's first
  KVM_RUN while x has printed nothing, on a VMM thread `vmm:cpuX` that also
  kicks and re-runs x around every userspace exit. Under wake-all a scan
  wakes every waiter, so its unsuspensions do not say whose flag was
  cleared: each way of choosing (`_clear_options`) is one reading of the
  events, the fewest guesses first;
- the initial modes: a vCPU whose thread printed nothing itself starts
  outside KVM_RUN (its ioctls need no kick); the others run guest code.

A skeleton (`--with FILE.yaml`) overrides what a trace cannot say: its vCPU
ops replace the inferred ones of the vCPUs it gives ops to (e.g. the sparse
banks of an _ex flush), and if it has VMM threads they replace the inferred
ioctls, with its `initial` block.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

from hvtui.errors import InputError
from hvtui.model.state import (
    MAX_VCPUS,
    USER,
    Exit,
    Flush,
    KernelWork,
    Op,
    Program,
    Run,
    SetInhibit,
    vmm_sort_key,
)
from hvtui.trace import formats, lines
from hvtui.trace.lines import Reader
from hvtui.trace.mapping import Mapper, Source

MAX_CANDIDATES = 64
_MODEL_EVENTS = (
    formats.FLUSH,
    formats.FLUSH_EX,
    formats.DONE,
    formats.SUSPEND,
    formats.UNSUSPEND,
    formats.USEREXIT,
)
# a kvm_exit..kvm_entry pair of one thread with no flush and no userspace exit
# inside: a kernel_work op (model v2), read only with `--kernel-work`
VMEXIT = "kernel_work vmexit"
VMENTRY = "kernel_work vmentry"
SERIES = frozenset(("flush", "done", "suspend", "unsuspend"))
# what kind of model key each tracepoint gives (tracepoints.Emit.key[0])
KIND = {
    VMEXIT: "vmexit",
    VMENTRY: "vmentry",
    formats.FLUSH: "flush",
    formats.FLUSH_EX: "flush",
    formats.DONE: "done",
    formats.SUSPEND: "suspend",
    formats.UNSUSPEND: "unsuspend",
    formats.USEREXIT: "userexit",
}


class Raw(NamedTuple):
    line: int
    ts: int
    pid: int
    name: str
    fields: formats.Fields


class Obs(NamedTuple):
    """One trace event the model must produce: its line, time, and what it says.
    (Its text stays in the file: line_texts() reads back the few a report shows.)"""

    line: int
    ts: int
    key: tuple


@dataclass
class Scan:
    path: str
    lines: int
    skipped: dict[str, int]
    clock: str
    cpus: frozenset[int]
    events: list[Raw]
    mapper: Mapper
    other_results: int  # kvm_hv_hypercall_done of hypercalls that are not flushes
    l2: int  # flushes a nested guest issued (the model has no L2: read as L1)


def scan(path: str, manual: dict[int, int], kernel_work: bool = False) -> Scan:
    reader = Reader(path)
    open_exit: dict[int, lines.Record] = {}  # pid -> its kvm_exit with no kvm_entry yet
    clean: dict[int, bool] = {}  # pid -> nothing since that kvm_exit makes it a flush
    mapper = Mapper(manual)
    events: list[Raw] = []
    cpus: set[int] = set()
    in_flush: dict[int, bool] = {}  # pid -> inside a flush hypercall (a result is its)
    other = l2 = 0
    for r in reader.records():
        cpus.add(r.cpu)
        f = r.fields
        mapper.saw(r.pid, r.comm, f.vcpu if r.name in _VCPU_FIELD else -1, r.name)
        if kernel_work:
            if r.name == formats.EXIT:
                open_exit[r.pid] = r
                clean[r.pid] = True
                continue
            if r.name == formats.ENTRY:
                ex = open_exit.pop(r.pid, None)
                if ex is not None and clean[r.pid]:
                    events.append(Raw(ex.line, ex.ts, r.pid, VMEXIT, ex.fields))
                    events.append(Raw(r.line, r.ts, r.pid, VMENTRY, f))
                continue
            if r.name != formats.HYPERCALL or f.other in formats.FLUSH_CODES:
                clean[r.pid] = False
        if r.name == formats.HYPERCALL:
            in_flush[r.pid] = f.other in formats.FLUSH_CODES
            continue
        if r.name == formats.DONE:
            if not in_flush.get(r.pid, False):
                other += 1
                continue
            in_flush[r.pid] = False
        elif r.name in (formats.FLUSH, formats.FLUSH_EX):
            in_flush[r.pid] = True
            l2 += f.l2
        if r.name in _MODEL_EVENTS:
            events.append(Raw(r.line, r.ts, r.pid, r.name, f))
    return Scan(
        path,
        reader.lines,
        reader.skipped,
        reader.clock,
        frozenset(cpus),
        events,
        mapper,
        other,
        l2,
    )


_VCPU_FIELD = (formats.ENTRY, formats.EXIT, formats.SUSPEND)


@dataclass
class Candidate:
    program: Program
    obs: dict[str, list[Obs]]  # actor name -> its events, in order
    ioctls: int  # inferred set_inhibit(x, true) ioctls
    initial_inhibit: tuple[int, ...]
    guesses: int = 0  # wake-all scans read as clearing another flag than their likeliest


@dataclass
class Built:
    scan: Scan
    vcpus: int
    mapping: dict[int, Source]
    enabled: frozenset[str]  # model event kinds the trace records
    candidates: list[Candidate]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Period:
    need_by: int  # ts of the first suspension waiting on x
    after: int  # ts of the clear before it (-1: none)
    line: int


def build(
    s: Scan,
    skeleton: Program | None = None,
    vp: dict[int, int] | None = None,
    wake_all: bool = False,
    untraced: frozenset[str] = frozenset(),
) -> Built:
    """The candidate scenarios; `wake_all`: the variant's scan wakes every waiter,
    so one scan's unsuspensions need not all wait on the same vCPU."""
    vp = vp or {}
    mapping = s.mapper.table()
    notes = list(s.mapper.conflicts)
    if s.l2:
        notes.append(f"{s.l2} flush(es) carry (L2): the model has no nested guest, read as L1")
    # who prints each event
    owner: list[int] = []
    for e in s.events:
        if e.name in (formats.SUSPEND, formats.UNSUSPEND):
            owner.append(e.fields.vcpu)
            continue
        src = mapping.get(e.pid)
        if src is None:
            raise InputError(
                s.path,
                f"{e.name} on pid {e.pid} ({s.mapper.comms.get(e.pid, '?')}): no vCPU for this "
                "thread (expected a QEMU `CPU N/KVM` thread, a kvm_entry/kvm_exit with its "
                "vcpu on the same pid, or --pid-map PID=VCPU)",
                e.line,
                1,
            )
        owner.append(src.vcpu)
    n = _vcpu_count(s, owner, skeleton, vp, mapping)
    events = sorted(zip(s.events, owner, strict=True), key=_when(s.events, owner))
    # A tracepoint recorded but never fired looks the same as one not recorded: the
    # series' four go together (one of them seen, all were on, as the recording
    # line in `hvtui trace --help` has it); kvm_userspace_exit counts once seen.
    enabled = {KIND[e.name] for e in s.events}
    if enabled & SERIES:
        enabled |= SERIES
    enabled = frozenset(enabled - {KIND[name] for name in untraced})
    exits = "userexit" in enabled
    first = _read(events, n, vp, skeleton, wake_all, exits, ())
    notes += first.notes
    built = Built(s, n, mapping, enabled, [], notes)
    for picks in _picks(first.options):
        reading = first if not picks else _read(events, n, vp, skeleton, wake_all, exits, picks)
        built.candidates += _candidates(reading, skeleton, exits, sum(map(bool, picks)))
    # fewest guesses first: inferred ioctls, and wake-all scans read as clearing
    # another flag than their likeliest
    built.candidates.sort(key=lambda c: c.ioctls + c.guesses)
    del built.candidates[MAX_CANDIDATES:]
    return built


def _picks(options: list[tuple[int, ...]]):
    """Which of its options each wake-all scan clears: the likeliest of every
    scan first, then one scan's other options, then two scans', ... (at most
    MAX_CANDIDATES choices in all)."""
    count = 0
    scans = [i for i, here in enumerate(options) if len(here) > 1]  # the others have no choice
    for k in range(len(scans) + 1):
        for which in itertools.combinations(scans, k):
            alternatives = [range(1, len(options[i])) for i in which]
            for chosen in itertools.product(*alternatives):
                picks = [0] * len(options)
                for i, j in zip(which, chosen, strict=True):
                    picks[i] = j
                yield tuple(picks) if k else ()
                count += 1
                if count >= MAX_CANDIDATES:
                    return


def _candidates(r: _Reading, skeleton, exits_traced: bool, guesses: int) -> list[Candidate]:
    """The scenarios of one reading: one per way of placing the inferred ioctls."""
    n = len(r.flush_ops)
    user = {x for x in set(r.periods) | set(r.clears) if x not in r.own}
    vcpu_ops = [tuple(ops) for ops in r.flush_ops]
    if skeleton is not None:
        vcpu_ops = [
            skeleton.vcpu_ops[c] if c < skeleton.vcpus and skeleton.vcpu_ops[c] else vcpu_ops[c]
            for c in range(n)
        ]
    if skeleton is not None and skeleton.threads:
        program = Program(
            n,
            tuple(vcpu_ops),
            skeleton.threads,
            skeleton.initial_inhibit,
            skeleton.initial_mode or tuple(sorted((x, USER) for x in user)),
        )
        return [Candidate(program, r.obs, 0, tuple(sorted(skeleton.initial_inhibit)), guesses)]
    out = []
    layout = _Layout(r.periods, r.clears, r.userexits, user, exits_traced, r.first_own)
    for choice in layout.choices():
        per_vcpu, outside = layout.threads(choice)
        threads = tuple(
            sorted(
                ((f"vmm:cpu{x}", tuple(ops)) for x, ops in per_vcpu.items() if ops),
                key=lambda t: vmm_sort_key(t[0]),
            )
        )
        initial = tuple(sorted(x for x, how in choice.items() if how == "initial"))
        program = Program(
            n,
            tuple(vcpu_ops),
            threads,
            frozenset(initial),
            tuple(sorted((x, USER) for x in user | outside)),
        )
        ioctls = sum(1 for how in choice.values() if how == "ioctl")
        out.append(Candidate(program, r.obs, ioctls, initial, guesses))
    return out


@dataclass
class _Reading:
    """One reading of the events: each actor's events, the vCPUs' ops, and
    the ioctls the unsuspensions and suspensions imply."""

    obs: dict[str, list[Obs]]
    flush_ops: list[list[Flush | KernelWork]]
    userexits: dict[int, list[int]]
    periods: dict[int, list[_Period]]
    clears: dict[int, list[tuple[int, int]]]  # x -> [(ts, line)]
    own: set[int]
    first_own: dict[int, int]  # c -> when c's own thread first printed
    notes: list[str]
    # each wake-all scan's flags it may have cleared, likeliest first (picks index these)
    options: list[tuple[int, ...]]


MAX_OPTIONS = 8  # the flags a wake-all scan is tried as clearing


def _read(events, n, vp, skeleton, wake_all: bool, exits_traced: bool, picks: tuple[int, ...]):
    """Read the events in order; `picks[i]`: which of its options the i-th wake-all
    scan clears (the likeliest when not given)."""
    obs: dict[str, list[Obs]] = {}
    flush_ops: list[list[Flush | KernelWork]] = [[] for _ in range(n)]
    userexits: dict[int, list[int]] = {}
    periods: dict[int, list[_Period]] = {}
    clears: dict[int, list[tuple[int, int]]] = {}
    own = set()
    notes: list[str] = []
    options: list[tuple[int, ...]] = []
    # w -> the x of each suspension no unsuspension has answered yet, oldest
    # first (unsuspend-swapped can trace the wake after the retry suspended again)
    waiting: dict[int, list[int]] = {}
    woken: set[int] = set()  # vCPUs some scan has unsuspended
    inhibited: set[int] = set()
    last_clear: dict[int, int] = {}
    current: dict[int, tuple[Flush, tuple, bool]] = {}  # c -> (op, targets, suspended since)
    skipped_work: set[int] = set()  # vCPUs whose kernel work pair is being left out
    entered: dict[int, int] = {}  # c -> when its current flush entered
    scans: dict[int, tuple[int, int]] = {}  # pid -> (x, last w) of the scan it is printing
    last_own: dict[int, str] = {}  # c -> the last event c's own thread printed
    first_own: dict[int, int] = {}  # c -> when c's own thread first printed
    # c -> its first flush since its oldest suspension no unsuspension answered yet
    resumed: dict[int, tuple[int, int]] = {}
    orphans: list[Obs] = []
    unscanned: set[int] = set()  # x whose inferred clear no scan has traced yet

    def passed(targets: tuple[int, ...], entered: int, e: Raw) -> None:
        """A flush entered at `entered` found these targets' flags clear, as event
        e (its result, or a suspension on a later target) shows. One a suspension
        waited on before it began, and that no scan has unsuspended since, was
        cleared before e by an ioctl whose scan woke nobody, or has not yet:
        untraced (no-sync's scan can miss a vCPU still on its way to s2, and a
        scan runs after the write that clears)."""
        for t in targets:
            if t in inhibited and periods[t][-1].need_by < entered:
                clears.setdefault(t, []).append((e.ts, e.line))
                inhibited.discard(t)
                last_clear[t] = e.ts
                unscanned.add(t)

    for e, c in events:
        if e.name != formats.UNSUSPEND:
            scans.pop(e.pid, None)
            own.add(c)
            last_own[c] = e.name
            first_own.setdefault(c, e.ts)
        if e.name != formats.UNSUSPEND:
            scans.pop(e.pid, None)
            own.add(c)
        if e.name in (formats.FLUSH, formats.FLUSH_EX):
            td = _by_vcpu(formats.flush_targets(e.name, e.fields), vp)
            cur = current.get(c)
            if cur is None or cur[1] != td or not cur[2]:
                op = _flush_op(f"L{e.line}", td, n, e, notes)
                flush_ops[c].append(op)
                cur = (op, td, False)
            current[c] = (cur[0], td, False)
            entered[c] = e.ts
            if waiting.get(c):
                resumed.setdefault(c, (e.ts, e.line))
            key = ("flush", td)
        elif e.name == formats.DONE:
            key = ("done", formats.done_outcome(e.fields.result))
            cur = current.pop(c, None)
            if cur is not None and key[1] == "ok":
                passed(cur[0].targets, entered[c], e)
        elif e.name == formats.SUSPEND:
            x = e.fields.other
            if c in current:
                targets = current[c][0].targets
                if x in targets:  # it checked the targets before x and found them clear
                    passed(targets[: targets.index(x)], entered[c], e)
                current[c] = (current[c][0], current[c][1], True)
            waiting.setdefault(c, []).append(x)
            if x not in inhibited:
                inhibited.add(x)
                unscanned.discard(x)
                periods.setdefault(x, []).append(_Period(e.ts, last_clear.get(x, -1), e.line))
            key = ("suspend", c, x)
        elif e.name == formats.USEREXIT:
            userexits.setdefault(c, []).append(e.ts)
            key = ("userexit",)
        elif e.name in (VMEXIT, VMENTRY):
            if e.name == VMEXIT and c in current and current[c][2]:
                # the model retries a suspended flush before the vCPU's next op
                notes.append(
                    f"line {e.line}: kernel work between a suspension and its retry "
                    "is left out (the model retries first)"
                )
                skipped_work.add(c)
            if c in skipped_work:
                if e.name == VMENTRY:
                    skipped_work.discard(c)
                continue
            if e.name == VMEXIT:
                flush_ops[c].append(KernelWork(f"K{e.line}"))
            key = (KIND[e.name],)
        else:  # an unsuspension: it belongs to the ioctl whose scan reached w
            w = c
            key = ("unsuspend", w)
            item = Obs(e.line, e.ts, key)
            prev = scans.get(e.pid)
            pending = waiting.get(w)
            # (wake-all: a scan that matched w while another was waking it traces w again)
            if not pending and not (wake_all and w in woken):
                orphans.append(item)
                continue
            if prev is not None and w > prev[1] and (wake_all or pending[0] == prev[0]):
                x = prev[0]  # the same scan goes on
            else:
                x = pending[0] if pending else -1
                if wake_all:
                    # The scan wakes every waiter, so no event says whose flag the
                    # ioctl cleared: the flag w waited on, or another vCPU's (the
                    # bogus wake), one out of KVM_RUN for the ioctl to run on.
                    here = _clear_options(x, n, last_own, exits_traced)
                    options.append(here)
                    i = len(options) - 1
                    x = here[picks[i] if i < len(picks) else 0] if here else x
                    if x == len(flush_ops):  # a vCPU the trace never shows
                        flush_ops.append([])
                if x < 0:
                    orphans.append(item)
                    continue
                if x in unscanned:
                    unscanned.discard(x)  # the scan of the clear a flush already implied
                else:
                    if x not in inhibited and (not pending or x != pending[0]):
                        # a flag no suspension showed set: set from the start or by an ioctl
                        periods.setdefault(x, []).append(
                            _Period(e.ts, last_clear.get(x, -1), e.line)
                        )
                    clears.setdefault(x, []).append((e.ts, e.line))
                    inhibited.discard(x)
                    last_clear[x] = e.ts
            if pending:
                pending.pop(0)
                resumed.pop(w, None)
            woken.add(w)
            scans[e.pid] = (x, w)
            obs.setdefault(_clear_thread(x, skeleton), []).append(item)
            continue
        obs.setdefault(f"vcpu{c}", []).append(Obs(e.line, e.ts, key))
    # unsuspend-swapped: the scan's first write (suspended = false) wakes w, its
    # second one traces; a trace that ends between them shows w retrying with
    # no unsuspension: its flag was cleared all the same
    # (unless a completed flush of that flag inferred the clear already)
    for w, (ts, line) in resumed.items():
        if waiting.get(w) and waiting[w][0] in inhibited:
            clears.setdefault(waiting[w][0], []).append((ts, line))
    if orphans:
        obs[NOBODY] = orphans
    return _Reading(obs, flush_ops, userexits, periods, clears, own, first_own, notes, options)


def _clear_options(natural: int, n: int, last_own: dict[int, str], exits_traced: bool):
    """The flags a wake-all scan may have cleared: x out of KVM_RUN (its thread's
    last event a userspace exit, or none yet), the flag the woken vCPU waited on
    first; that one last when its vCPU is not out (the ioctl would wait for it)."""

    def out(y: int) -> bool:
        return not exits_traced or last_own.get(y, formats.USEREXIT) == formats.USEREXIT

    others = [y for y in range(n) if y != natural and out(y)][: MAX_OPTIONS - 2]
    if n < 4096:
        others.append(n)  # a vCPU the trace never shows (it printed nothing at all)
    if natural < 0:
        return tuple(others)
    return (natural, *others) if out(natural) else (*others, natural)


NOBODY = "(no ioctl)"  # unsuspensions of vCPUs that never suspended: nothing can print them


def _when(events: list[Raw], owner: list[int]):
    """The order the builder reads events in: by time, except that the k-th
    unsuspension of w comes after w's k-th suspension even when another CPU's
    clock stamped it earlier (the search, not the builder, judges the times)."""
    suspensions: dict[int, list[tuple[int, int]]] = {}
    for e in sorted(events, key=lambda e: (e.ts, e.line)):
        if e.name == formats.SUSPEND:
            suspensions.setdefault(e.fields.vcpu, []).append((e.ts, e.line))
    answered: dict[int, int] = {}
    late: dict[int, tuple[int, int]] = {}
    for e in sorted(events, key=lambda e: (e.ts, e.line)):
        if e.name == formats.UNSUSPEND:
            w = e.fields.vcpu
            k = answered.get(w, 0)
            answered[w] = k + 1
            if k < len(suspensions.get(w, ())):
                late[e.line] = max((e.ts, e.line), suspensions[w][k])
    return lambda eo: late.get(eo[0].line, (eo[0].ts, eo[0].line))


def _clear_thread(x: int, skeleton: Program | None) -> str:
    """The VMM thread whose set_inhibit(x, false) prints this scan."""
    if skeleton is not None and skeleton.threads:
        for name, ops in skeleton.threads:
            if any(isinstance(op, SetInhibit) and op.vcpu == x and not op.value for op in ops):
                return name
        return NOBODY
    return f"vmm:cpu{x}"


def _by_vcpu(td: tuple, vp: dict[int, int]) -> tuple:
    """A flush's targets by vcpu_id rather than VP index."""
    if td[0] != "set" or not vp:
        return td
    return ("set", tuple(sorted({vp.get(i, i) for i in td[1]})))


def _vcpu_count(s: Scan, owner: list[int], skeleton: Program | None, vp, mapping) -> int:
    # (a vCPU whose thread prints only kvm_entry/kvm_exit counts: a wake-all scan
    # may have cleared its flag)
    top = max([*owner, *vp.values(), *(src.vcpu for src in mapping.values())], default=0)
    for e in s.events:
        if e.name == formats.SUSPEND:
            top = max(top, e.fields.other)
        elif e.name == formats.FLUSH and not e.fields.flags & formats.HV_FLUSH_ALL_PROCESSORS:
            td = _by_vcpu(formats.flush_targets(e.name, e.fields), vp)
            top = max(top, *td[1]) if td[0] == "set" else top
        elif e.name == formats.FLUSH_EX and e.fields.flags == formats.HV_GENERIC_SET_SPARSE_4K:
            top = max(top, 64 * (e.fields.mask.bit_length() - 1))
    n = top + 1
    if skeleton is not None:
        n = max(n, skeleton.vcpus)
    if n > MAX_VCPUS:
        raise InputError(
            s.path,
            f"the trace names vCPU {top} (expected {lines.VCPU_IDS})",
        )
    return n


def _flush_op(op_id: str, td: tuple, n: int, e: Raw, notes: list[str]) -> Flush:
    if td[0] == "all":
        return Flush(op_id, tuple(range(n)), "all")
    if td[0] == "set":
        return Flush(op_id, td[1], list(td[1]))
    banks = {}
    targets = []
    for b in range(64):
        if td[1] >> b & 1:
            ids = [t for t in range(64 * b, min(64 * b + 64, n))]
            banks[b] = sum(1 << (t - 64 * b) for t in ids)
            targets += ids
    notes.append(
        f"line {e.line}: kvm_hv_flush_tlb_ex prints which banks, not their contents: "
        f"read as every vCPU of banks {sorted(banks)} (give the targets with --with)"
    )
    return Flush(op_id, tuple(targets), {"sparse": banks})


START = -1  # the window before a vCPU's first KVM_RUN: it may start outside


class _Layout:
    """Where the VMM's ioctls go, for each choice of how each x was first inhibited.

    The windows an ioctl on x can run in are x's userspace exits, and the time
    before x first enters KVM_RUN (START): a vCPU whose ioctl goes there starts
    outside KVM_RUN, and the VMM runs it after the ioctl.
    """

    def __init__(self, periods, clears, userexits, user, exits_traced: bool, first_own):
        self.periods = periods
        self.first_own = first_own  # x -> when x's own thread first printed
        self.clears = clears
        self.userexits = userexits
        self.user = user
        self.exits_traced = exits_traced

    def choices(self):
        """{x: "initial" | "ioctl"} for every x with a period, fewest ioctls first."""
        xs = sorted(self.periods)
        options = []
        for x in xs:
            first = self.periods[x][0]
            can_ioctl = self._anchor(x, first.after, first.need_by) is not None
            options.append(("initial", "ioctl") if can_ioctl else ("initial",))
        combos = sorted(itertools.product(*options), key=lambda c: c.count("ioctl"))
        return [dict(zip(xs, combo, strict=True)) for combo in combos[:MAX_CANDIDATES]]

    def _anchor(self, x: int, after: int, before: int):
        """Where an ioctl on x between `after` and `before` can run:
        ("window", ts of x's userspace exit) | ("alone", before) | None."""
        if x in self.user:
            return ("alone", before)
        lo = after
        if after >= 0:  # the window the clear before it ran in may hold it too
            lo = self._window_before(x, after)
            lo = after if lo is None else lo
        exits = [u for u in (START, *self.userexits.get(x, ())) if lo <= u < before]
        if exits:
            return ("window", exits[-1])
        if lo < self.first_own.get(x, before):
            # x prints nothing before lo: it may still be outside KVM_RUN from the
            # start, with the ioctl before its first KVM_RUN
            return ("window", START)
        if not self.exits_traced:
            return ("kick", before)
        return None

    def _window_before(self, x: int, t: int) -> int | None:
        """The time of x's latest userspace exit before t."""
        exits = [u for u in self.userexits.get(x, ()) if u < t]
        return exits[-1] if exits else None

    def threads(self, choice: dict[int, str]) -> tuple[dict[int, list[Op]], set[int]]:
        """Each x's VMM ops, and the vCPUs that start outside KVM_RUN for an ioctl."""
        out = {}
        outside = set()
        for x in sorted(set(self.periods) | set(self.clears) | set(self.userexits)):
            # (time, order, op) for ioctls; windows hold the ioctls anchored to them
            ioctls: list[tuple[tuple, int, SetInhibit]] = []
            for i, p in enumerate(self.periods.get(x, ())):
                if i == 0 and choice.get(x) == "initial":
                    continue
                where = self._anchor(x, p.after, p.need_by) or ("kick", p.need_by)
                ioctls.append((where, p.need_by, SetInhibit(f"inh{x}_L{p.line}", x, True)))
            for ts, line in self.clears.get(x, ()):
                where = self._anchor(x, -1, ts + 1) or ("kick", ts)
                ioctls.append((where, ts, SetInhibit(f"clr{x}_L{line}", x, False)))
            if any(where == ("window", START) for where, _, _ in ioctls):
                outside.add(x)
            out[x] = self._ops(x, ioctls)
        return out, outside

    def _ops(self, x: int, ioctls) -> list[Op]:
        items: list[tuple[int, int, list[Op]]] = []  # (time, tiebreak, ops)
        inside: dict[int, list[tuple[int, SetInhibit]]] = {}
        for (how, at), ts, op in ioctls:
            if how == "window":
                inside.setdefault(at, []).append((ts, op))
            elif how == "alone":
                items.append((ts, 1, [op]))
            else:
                items.append((ts, 1, [Exit(f"kick{x}_{op.id}", x), op, Run(f"run{x}_{op.id}", x)]))
        starts = [START] if START in inside else []
        for k, u in enumerate((*starts, *self.userexits.get(x, ()))):
            ops: list[Op] = [] if u == START else [Exit(f"kick{x}_{k}", x)]
            ops += [op for _, op in sorted(inside.get(u, ()), key=lambda t: t[0])]
            ops.append(Run(f"run{x}_{k}", x))
            items.append((u, 0, ops))
        items.sort(key=lambda t: (t[0], t[1]))
        return [op for _, _, ops in items for op in ops]


def line_texts(path: str, wanted: set[int]) -> dict[int, str]:
    """The text of the lines numbered `wanted` (one more pass, keeping only those)."""
    out: dict[int, str] = {}
    if not wanted:
        return out
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if number in wanted:
                out[number] = raw.decode("utf-8", "replace").rstrip("\r\n")
                if len(out) == len(wanted):
                    break
    return out

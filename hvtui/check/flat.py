"""Small states as flat tuples of interned ids: the search's fast path.

Up to 64 vCPUs (hvtui.check.search) a state is kept as one tuple of small
ints: each vCPU's value and the threads tuple interned to an id, then the
windows, `(v0, ..., vN-1, threads, windows)`. Hashing and comparing such a
tuple is a few machine words, where a `State` is objects all the way down.

What a vCPU step does and what it violates is then a table lookup: a vCPU's
guards read only its own value (Engine.vcpu_status), its effect reads only
its own and its target's (the assert behind Engine.move), and what judge()
reads of the rest for a vCPU step is the windows, whether the ioctl is
running and which flags are set (no vCPU step writes one). So a vCPU's
status is memoized by (vCPU, id), and its step -- the canonical ids it
writes and the properties it violates -- by (vCPU, id, target's id,
windows, in the ioctl, flags set). Forgetting generations and slicing are
functions of one vCPU's value (hvtui.check.generations, hvtui.check.slicing),
so they are applied once per interned value, inside that table.

A VMM thread's step runs on a decoded view of the state (a list of the
values), once per what it reads: the threads, the vCPUs its op acts on and
scans where it reads or writes them, and for synchronize_srcu's start and
the ioctl's return, which read every vCPU, a few fields of each. States are
decoded to `State` only where the API needs one: the symmetry's sort, end
states, counterexamples, and the POR with many actors. With few (por.FEW),
the POR's questions are asked of keys too (`ample`): each actor's part by
its id, and each step's visibility memoized by what props.visible reads, so
only a memo miss decodes.
"""

from __future__ import annotations

from functools import partial
from operator import attrgetter, itemgetter

from hvtui.check.generations import forget_vcpu, pruner
from hvtui.check.slicing import vcpu_slicer
from hvtui.check.symmetry import may_be_inhibited
from hvtui.model import properties as props
from hvtui.model.engine import FINISHED, Engine, Status
from hvtui.model.state import State, Thread, Vcpu, Vec
from hvtui.model.steps import ALL, BY_KIND, RECORDED, STEPS, THREAD, VMM, W, X
from hvtui.model.variants import VARIANTS

# VMM steps whose effect or judgement reads every vCPU: synchronize_srcu's
# start records every reader, and the ioctl's return is where judge() looks
# for lost wake-ups everywhere. The others read the vCPU their op acts on and
# the one the scan is at (asserted below), so child() memoizes them by those.
# These, by a few fields of every vCPU (Flat._sights): what the step table
# declares they read of ALL, and what judge() reads besides -- the sync step
# test's whether a reader is in kernel work (its pc), and at the return what
# no-lost-wakeup watches of a vCPU (test_check_flat_thread_moves).
_READS_ALL = {
    "sync": ("pc",),
    "return": tuple(f for f in props.WATCHES[props.NO_LOST_WAKEUP] if f in Vcpu._fields),
}
assert all(
    {loc.who for v in VARIANTS.values() for loc in d.reads_under(v)} <= {X, W, THREAD, RECORDED}
    for d in STEPS  # RECORDED: synced's guard, its status memoized by the records' ids
    if d.actor == VMM and d.kind not in _READS_ALL
), "a VMM step reads a vCPU Flat.child does not key its memo by"


def _declared_all(kind: str, variant) -> set[str]:
    """The vCPU fields step `kind` declares reading of every vCPU (ALL)."""
    fields = {loc.field for loc in BY_KIND[kind].reads_under(variant) if loc.who == ALL}
    assert fields <= set(Vcpu._fields), f"{kind} reads of every vCPU what is not a field"
    return fields


class View:
    """State's fields, with the vCPUs as a list: what the step table's effects,
    guards and judge() read."""

    __slots__ = ("vcpus", "threads", "windows")

    def __init__(self, vcpus: list[Vcpu], threads: tuple, windows: int):
        self.vcpus = vcpus
        self.threads = threads
        self.windows = windows


def _applied(vcpus: list[Vcpu], writes: tuple) -> tuple[list[Vcpu], list[tuple[int, Vcpu, Vcpu]]]:
    """`vcpus` with a step's writes ((), (i, vi) or (i, vi, j, vj)), and the
    (id, before, after) of each slot that changed, ascending (Vec.diff's)."""
    after = list(vcpus)
    changed = []
    for c, v in sorted(zip(writes[::2], writes[1::2], strict=True), key=_slot):
        after[c] = v
        if v is not vcpus[c] and v != vcpus[c]:
            changed.append((c, vcpus[c], v))
    return after, changed


def _nobody(key: tuple) -> tuple:
    return ()


def _slot(write: tuple[int, Vcpu]) -> int:
    return write[0]


class Flat:
    """One program under one variant, its states as flat tuples (see the module doc).

    `child` gives what `_Search.run` needs of one transition; `decode` and
    `encode` translate between keys and States.
    """

    def __init__(self, space, generations: bool, slicing: bool):
        engine: Engine = space.engine
        self.engine = engine
        self.n = n = engine.n
        program = engine.program
        self.values: list[Vcpu] = []  # id -> value
        self._inhibit: list[bool] = []  # id -> its inhibit flag (_focus reads it a state)
        self._ids: dict[Vcpu, int] = {}
        self.thread_values: list[tuple] = []  # id -> the threads tuple
        self._thread_ids: dict[tuple, int] = {}
        self._inside: list[bool] = []  # threads id -> in_ioctl
        self._recorded: list[tuple[int, ...]] = []  # threads id -> the vCPUs its records name
        self._prunes: dict[tuple, int] = {}  # see _pruned
        self._keeps: dict[tuple[int, int], bool] = {}  # see _kept
        self._reads: list[tuple] = []  # threads id -> (x, w) per thread: see _read
        # vcpu c's (status, part: see parts) by its id; a thread's by what its
        # guard reads (expand)
        self._statuses: list[dict[int, tuple]] = [{} for _ in range(n)]
        self._thread_statuses: dict[tuple, tuple] = {}
        self._readers: list = []  # threads id -> key -> the ids of its recorded vCPUs
        # (windows, in the ioctl, flags set) -> ((actor, ...) -> the move: see
        # child(), (thread actor, ...) -> its step's visibility: see visible())
        self._moves: dict[tuple, tuple[dict, dict]] = {}
        self._canon: dict[tuple[int, int], tuple[int, bool, bool]] = {}
        self._forget = forget_vcpu if generations else None
        self._prune = pruner(engine.variant) if generations else None
        self._slice = vcpu_slicer(program) if slicing else None
        self._flags = sorted(may_be_inhibited(program))  # the only flags that can be set
        self._sort = space.sort if space.symmetry else None
        # a VMM step's kind -> whether it reads or writes the vCPU its op acts on,
        # and the one its scan is at (_thread_move_key)
        self._touches = {
            d.kind: tuple(
                any(loc.who == who for loc in d.reads_under(engine.variant) + d.all_writes())
                for who in (X, W)
            )
            for d in STEPS
            if d.actor == VMM
        }
        # _READS_ALL's step kind -> the fields of a vCPU's value its move reads
        self._sights = {
            kind: attrgetter(*sorted(_declared_all(kind, engine.variant) | set(more)))
            for kind, more in _READS_ALL.items()
        }
        self.idle = [FINISHED] * len(engine.names)  # actors that never step
        self._live_vcpus = [a for a in space.live if a < n]
        self._live_threads = [a for a in space.live if a >= n]
        self.live = space.live
        assert self.live == self._live_vcpus + self._live_threads  # expand lists them so
        self._key: tuple | None = None  # the state being expanded, and what is known of it
        self._view: View | None = None
        self._state: State | None = None
        self._here_moves: dict[tuple, tuple] = {}  # _moves of the state being expanded
        self._here_parts: list[int | None] = []  # its live actors' parts (expand)
        self._por = None  # the POR whose parts expand finds (reducer)
        # the POR's questions (ample): visibility in _moves, beside the moves
        self._here_visible: dict[tuple, bool] = {}  # the threads' visibility in _moves, here
        # (may open, may clear, flags set) -> a vCPU step's visibility: see visible()
        self._vcpu_visible: dict[tuple, dict[tuple, bool]] = {}
        # (threads id, windows, flags set) -> its entry there: what fixes that key
        self._vcpu_visible_at: dict[tuple, dict[tuple, bool]] = {}
        self._here_vis: dict[tuple, bool] | None = None  # its entry at the state _focus is on
        self._aheads: dict[int, tuple[int, int]] = {}  # threads id -> see _ahead
        self._flags_set = 0  # the flags set at the state _focus is on
        self._decided = 0  # how many properties were decided when that was filled

    # -- interning ---------------------------------------------------------------

    def _vid(self, v: Vcpu) -> int:
        x = self._ids.get(v)
        if x is None:
            x = self._ids[v] = len(self.values)
            self.values.append(v)
            self._inhibit.append(v.inhibit)
        return x

    def _tid(self, threads: tuple) -> int:
        x = self._thread_ids.get(threads)
        if x is None:
            x = self._thread_ids[threads] = len(self.thread_values)
            self.thread_values.append(threads)
            self._inside.append(props.in_ioctl(self.engine, View([], threads, 0)))
            recorded = tuple(sorted({c for th in threads for c, _ in th.readers}))
            self._recorded.append(recorded)
            self._readers.append(itemgetter(*recorded) if recorded else _nobody)
            self._reads.append(tuple(self._read(i, th) for i, th in enumerate(threads)))
        return x

    def _read(self, i: int, th) -> tuple[int, int]:
        """The vCPUs thread i's next step may read, besides what _READS_ALL
        marks: the one its op acts on (its guard too: _mutex_blocked), and the
        one its unsuspend scan is at (0 where there is none)."""
        ops = self.engine.program.threads[i][1]
        return (ops[th.op].vcpu if th.op < len(ops) else 0), th.w

    def encode(self, s: State) -> tuple:
        return (*map(self._vid, s.vcpus), self._tid(s.threads), s.windows)

    def decode(self, key: tuple) -> State:
        n, values = self.n, self.values
        vcpus = Vec.of([values[x] for x in key[:n]])
        return State(vcpus, self.thread_values[key[n]], key[n + 1])

    def state(self, key: tuple) -> State:
        """decode(key), once per state expanded."""
        self._focus(key)
        if self._state is None:
            self._state = self.decode(key)
        return self._state

    def view(self, key: tuple) -> View:
        self._focus(key)
        if self._view is None:
            values, n = self.values, self.n
            vcpus = [values[x] for x in key[:n]]
            self._view = View(vcpus, self.thread_values[key[n]], key[n + 1])
        return self._view

    def _focus(self, key: tuple) -> None:
        if key is not self._key:
            self._key, self._view, self._state, self._here_vis = key, None, None, None
            inhibit, n = self._inhibit, self.n
            flags = 0
            for c in self._flags:
                if inhibit[key[c]]:
                    flags |= 1 << c
            self._flags_set = flags
            here = (key[n + 1], self._inside[key[n]], flags)
            memos = self._moves.get(here)
            if memos is None:
                memos = self._moves[here] = ({}, {})
            self._here_moves, self._here_visible = memos

    # -- expanding (as hvtui.check.search's run() reads a graph) ----------------

    def root(self, root: State) -> tuple:
        return self.encode(root)

    def dedup_key(self, key: tuple) -> tuple:
        return key

    store = None  # nothing to keep per stored state

    def expand(self, i: int, key: tuple) -> tuple[list[Status], list[int], None]:
        """Every actor's status (idle where it never steps), by actor id; the
        enabled ones; no seeds for the POR (it finds them among few actors).
        With the POR on keys (reducer), each live actor's part too (parts)."""
        self._focus(key)
        out = self.idle.copy()
        enabled = []  # in live order: the vCPUs, then the threads
        parts = self._here_parts = []
        statuses = self._statuses
        for c in self._live_vcpus:
            x = key[c]
            memo = statuses[c]
            entry = memo.get(x)
            if entry is None:
                entry = memo[x] = self._vcpu_entry(c, x, key)
            st, part = entry
            out[c] = st
            parts.append(part)
            if st.enabled:
                enabled.append(c)
        if self._live_threads:
            n, tid = self.n, key[self.n]
            reads = self._reads[tid]
            # synchronize_srcu's guard reads its recorded readers, the others x
            readers = self._readers[tid](key)
            memo = self._thread_statuses
            for a in self._live_threads:
                memo_key = (a, tid, key[reads[a - n][0]], readers)
                entry = memo.get(memo_key)
                if entry is None:
                    st = self.engine.thread_status(self.view(key), a - n)
                    entry = memo[memo_key] = (st, self._part(key, a, st))
                st, part = entry
                out[a] = st
                parts.append(part)
                if st.enabled:
                    enabled.append(a)
        return out, enabled, None

    def _vcpu_entry(self, c: int, x: int, key: tuple) -> tuple[Status, int | None]:
        """vcpu c's status and part when its value is x: functions of that value
        (Engine.vcpu_status; PartialOrder.part reads the vCPU's op and step)."""
        st = self.engine.vcpu_status(c, self.values[x])
        return st, self._part(key, c, st)

    def _part(self, key: tuple, a: int, st: Status) -> int | None:
        por = self._por
        return None if por is None else por.part(self.state(key), a, st)

    def child(self, i: int, key: tuple, a: int, st: Status, taken) -> tuple:
        """(the properties actor a's step from `key` violates, the canonical
        successor's key (twice: it is its own dedup key), whether forgetting,
        slicing and sorting changed it). The POR's `taken` States would cost
        more to encode than the memo does: they are not read."""
        n = self.n
        if a < n:  # a vCPU's id and its target's: what its step reads (Engine.move)
            arg = st.step.arg
            memo_key = (a, key[a], -1 if arg is None else key[arg])
        else:
            memo_key = self._thread_move_key(key, a, st)
        move = self._here_moves.get(memo_key)
        if move is None:
            move = self._here_moves[memo_key] = self._move(key, a, st)
        found, writes, raw, tid, windows, forgot, sliced, drops = move
        if a < n:  # the move is the vCPU's, whatever the threads: they stay
            tid = key[n]
        # (a list written in place and made a tuple once: cheaper than slicing)
        out = list(key)
        if writes:
            out[writes[0]] = writes[1]
            if len(writes) > 2:
                out[writes[2]] = writes[3]
        if a >= n:
            out[n], out[n + 1] = tid, windows
        if drops and self._recorded[tid]:  # a recorded reader moved on (see _pruned)
            kept = self._pruned(key, tid, raw, drops)
            if kept != tid:
                out[n], forgot = kept, True
        out = tuple(out)
        if self._sort is None:
            return found, out, out, forgot, sliced, False
        out, folded = self._sorted(key, out, raw)
        return found, out, out, forgot, sliced, folded

    def _thread_visible_key(self, key: tuple, a: int, st: Status) -> tuple:
        """What visible() memoizes thread actor a's step from `key` by, under
        _focus's (windows, in the ioctl, flags set): the threads' id, the ids,
        whole, of the vCPUs it acts on and scans (_read), and for the steps that
        read every vCPU (_READS_ALL) the fields of each that their move reads
        (_sights): what props.visible reads of the rest, which
        test_check_flat_thread_moves holds it to."""
        n = self.n
        tid = key[n]
        x, w = self._reads[tid][a - n]
        return self._sighted((a, tid, key[x], key[w]), st.step.kind, key)

    def _thread_move_key(self, key: tuple, a: int, st: Status) -> tuple:
        """child()'s memo key for thread actor a's step from `key`, besides _focus's
        (windows, in the ioctl, flags set): the threads' id; the ids of the vCPU
        its op acts on and of the one its scan is at, each where the step table
        says the step reads or writes it (-1 where not: a synchronize_srcu has no
        use for either); and for the steps that read every vCPU (_READS_ALL) the
        fields of each that their move reads (_sights); held to that by
        test_check_flat_thread_moves. (visible() memoizes by _thread_visible_key,
        which keeps the ids whole: what props.visible reads was not narrowed.)"""
        n = self.n
        tid = key[n]
        x, w = self._reads[tid][a - n]
        kind = st.step.kind
        on_x, on_w = self._touches[kind]
        return self._sighted((a, tid, key[x] if on_x else -1, key[w] if on_w else -1), kind, key)

    def _sighted(self, memo_key: tuple, kind: str, key: tuple) -> tuple:
        """memo_key, and for a step that reads every vCPU (_READS_ALL) the fields
        of each at `key` that its move reads (_sights)."""
        sight = self._sights.get(kind)
        if sight is None:
            return memo_key
        values = self.values
        return (*memo_key, *[sight(values[v]) for v in key[: self.n]])

    def _move(self, key: tuple, a: int, st: Status) -> tuple:
        """Actor a's step from `key`, as child() keeps it: (found, its writes as
        canonical (slot, id, ...), the same with raw ids, the threads' id and
        the windows after, forgot, sliced, the slots whose record it drops:
        see _pruned)."""
        engine, before = self.engine, self.view(key)
        if a < self.n:
            d, (_, _, writes) = engine.move(before, a, st)
            threads, windows = before.threads, before.windows
        else:
            d, _, _, threads, writes, windows = engine.thread_move(before, a, st)
        vcpus, changed = _applied(before.vcpus, writes)
        after = View(vcpus, threads, windows)
        found = props.violations(engine, before, a, d.kind, st.step.arg, after, changed)
        out, raw, forgot, sliced = self._canonical(writes)
        drops = ()
        if self._prune is not None:
            drops = tuple(
                c
                for c, x in zip(raw[::2], raw[1::2], strict=True)
                if self._kept(c, key[c]) and not self._kept(c, x)
            )
        return found, out, raw, self._tid(threads), windows, forgot, sliced, drops

    def _canonical(self, writes: tuple) -> tuple:
        """A step's writes as (slot, canonical id, ...) and (slot, raw id, ...),
        and whether forgetting or slicing changed one."""
        out, raw = [], []
        forgot = sliced = False
        for j in range(0, len(writes), 2):
            c = writes[j]
            x = self._vid(writes[j + 1])
            y, f, s = self._canonical_id(c, x)
            out += (c, y)
            raw += (c, x)
            forgot, sliced = forgot or f, sliced or s
        return tuple(out), tuple(raw), forgot, sliced

    def _canonical_id(self, c: int, x: int) -> tuple[int, bool, bool]:
        """vcpu c's value x forgotten and sliced: (its id, forgetting changed it,
        slicing changed it), once per (c, x)."""
        out = self._canon.get((c, x))
        if out is None:
            v = self.values[x]
            f = v if self._forget is None else self._forget(v)
            s = f if self._slice is None else self._slice(c, f)
            out = self._canon[c, x] = (self._vid(s), f is not v, s is not f)
        return out

    def _pruned(self, key: tuple, tid: int, raw: tuple, drops: tuple) -> int:
        """The threads' id `tid` (one step from `key`) with synchronize_srcu's
        records pruned as hvtui.check.generations does, reading the values the
        step wrote (`raw`) before they were forgotten; memoized by `tid` and
        `drops`.

        Every record a stored state holds is (c, 1) with vcpu c a reader at
        generation 1 there (test_check_flat_records): synchronize_srcu records
        forgotten generations, and pruning keeps only those at 1. So pruning
        after a step can drop only the record of a slot the step wrote, and
        only where it moved a reader on (_move's `drops`, by _kept): child()
        prunes those steps alone, and by the threads' id and those slots."""
        memo_key = (tid, drops)
        kept = self._prunes.get(memo_key)
        if kept is None:
            recorded = self._recorded[tid]
            after = [key[c] for c in recorded]
            for j in range(0, len(raw), 2):
                if raw[j] in recorded:
                    after[recorded.index(raw[j])] = raw[j + 1]
            vcpus = {c: self.values[x] for c, x in zip(recorded, after, strict=True)}
            kept = self._prunes[memo_key] = self._tid(self._prune(self.thread_values[tid], vcpus))
        return kept

    def _kept(self, c: int, x: int) -> bool:
        """Whether pruning keeps the record (c, 1) of vcpu c at value id x (the
        one record of c a stored state may hold: see _pruned), once per (c, x)."""
        out = self._keeps.get((c, x))
        if out is None:
            probe = (Thread(readers=((c, 1),)),)
            out = self._keeps[c, x] = self._prune(probe, {c: self.values[x]}) is probe
        return out

    def _sorted(self, key: tuple, out: tuple, raw: tuple) -> tuple[tuple, bool]:
        """The symmetry's canonical form of `out` (one step from `key`), and
        whether sorting changed it: on States, which it sorts."""
        s2 = self.decode(out)
        touched = sorted(raw[::2])
        s3, _ = self._sort(s2, touched, self.state(key))
        if s3 is s2:
            return out, False
        return self.encode(s3), True

    # -- the partial-order reduction, on keys -------------------------------------

    def reducer(self, por):
        """por.ample as the search calls it on keys: with few actors its plan is
        found by the actors' parts looked up by id, and visibility by the step's
        move key (ample, below), so most states are never decoded; with many,
        por.ample on the decoded state."""
        if por.few:
            self._por = por
            return partial(self.ample, por)
        return partial(self._ample_decoded, por)

    def _ample_decoded(self, por, key: tuple, statuses, enabled, taken, decided, seeds):
        return por.ample(self.state(key), statuses, enabled, taken, decided, seeds)

    def ample(self, por, key: tuple, statuses, enabled, taken, decided, seeds) -> list[int]:
        """por.ample(state, ...) with few actors (por.few), from the key `expand`
        was last asked: the same actors (test_check_flat_por). `taken` stays
        empty: child() reads the memo, not the successors."""
        assert key is self._key and seeds is None
        if len(decided) != self._decided:  # decided only grows: its size names it
            self._decided = len(decided)
            self._vcpu_visible.clear()
            self._vcpu_visible_at.clear()
            self._here_vis = None
            for _, visibles in self._moves.values():
                visibles.clear()
        plan = por.planned(self.parts(por, key, statuses), enabled)
        # first_invisible(plan, visible), its memo lookups inline: this is asked
        # at every state with more than one actor enabled
        n, threads = self.n, self._here_visible
        vcpus = self._here_vis
        for members in plan:
            for a in members:
                if a < n:  # visible()'s key, as below
                    if vcpus is None:
                        vcpus = self._vcpu_vis(por, key)
                    arg = statuses[a].step.arg
                    seen = vcpus.get((a, key[a], -1 if arg is None else key[arg]))
                else:
                    seen = threads.get(self._thread_visible_key(key, a, statuses[a]))
                if seen is None:
                    seen = self.visible(por, key, statuses, decided, a)
                if seen:
                    break
            else:
                return list(members)
        return enabled

    def parts(self, por, key: tuple, statuses) -> tuple[int, ...]:
        """por.part of each live actor at `key`, in live order, as expand found
        them: a vCPU's memoized by its id (a part is a function of the vCPU's
        value), a thread's by its status memo key (its value, and what its guard
        reads, which fix its status)."""
        assert key is self._key and por is self._por
        return tuple(self._here_parts)

    def visible(self, por, key: tuple, statuses, decided, a: int) -> bool:
        """por.visible of actor a's step from `key` (the state _focus is on), while
        `decided` stays. A vCPU's step is memoized by its move key (its id and its
        target's: what the step reads and writes) under the flags set (a suspension
        reads its waiting_on's) and what por.ahead says may open and clear ahead:
        all props.visible reads of the rest. A thread's, by _thread_visible_key
        under _focus's (windows, in the ioctl, flags set)."""
        st = statuses[a]
        if a < self.n:  # the vCPU's move key, as in child()
            memo = self._here_vis
            if memo is None:
                memo = self._vcpu_vis(por, key)
            arg = st.step.arg
            memo_key = (a, key[a], -1 if arg is None else key[arg])
        else:
            memo = self._here_visible
            memo_key = self._thread_visible_key(key, a, st)
        seen = memo.get(memo_key)
        if seen is None:
            opens, clears = self._ahead(por, key)
            seen = por.visible(self.state(key), a, st, opens, clears, None, decided)
            memo[memo_key] = seen
        return seen

    def _vcpu_vis(self, por, key: tuple) -> dict[tuple, bool]:
        """The vCPU steps' visibility memo at the state _focus is on."""
        n, flags = self.n, self._flags_set
        at = (key[n], key[n + 1], flags)
        memo = self._vcpu_visible_at.get(at)
        if memo is None:
            here = (*self._ahead(por, key), flags)
            memo = self._vcpu_visible_at[at] = self._vcpu_visible.setdefault(here, {})
        self._here_vis = memo
        return memo

    def _ahead(self, por, key: tuple) -> tuple[int, int]:
        """por.ahead of the state at `key`: what the threads' remaining ops may open
        and clear, once per threads' id, with the windows open now added."""
        n = self.n
        ahead = self._aheads.get(key[n])
        if ahead is None:
            ahead = self._aheads[key[n]] = por.ahead(View([], self.thread_values[key[n]], 0))
        return key[n + 1] | ahead[0], ahead[1]

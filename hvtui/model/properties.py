"""The properties docs/model.md names, decided one step at a time.

`step_violations` looks at one transition; it is exact for a whole trace
because every property is either about the step itself or about a state,
and a state property can only turn false where this module looks.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.engine import DONE, Engine
from hvtui.model.state import GUEST, State
from hvtui.model.steps import BY_KIND, OP_PHASES, VMM, Step, StepDef, bind

INHIBIT_HOLDS = "inhibit-holds"
NO_REQUEST = "no-request-while-inhibited"
NO_FLUSH = "no-flush-while-inhibited"
NO_LOST_WAKEUP = "no-lost-wakeup"
STAYS_PUT = "suspended-stays-put"
NO_BOGUS_STATUS = "no-bogus-status"
NO_NULL_DEREF = "no-null-deref"
SYNC_FLUSHES_ONLY = "sync-waits-for-flushes-only"
PROGRESS = "progress"

PROPERTIES = (
    INHIBIT_HOLDS,
    NO_REQUEST,
    NO_FLUSH,
    NO_LOST_WAKEUP,
    STAYS_PUT,
    NO_BOGUS_STATUS,
    NO_NULL_DEREF,
    SYNC_FLUSHES_ONLY,
    PROGRESS,
)

DESCRIPTIONS = {
    INHIBIT_HOLDS: "no flush completes while a target's inhibit window is open",
    NO_REQUEST: "no KVM_REQ_HV_TLB_FLUSH is raised for a vCPU while its window is open",
    NO_FLUSH: "no vCPU services a flush request while its window is open",
    NO_LOST_WAKEUP: "outside the ioctl, no suspended vCPU waits on a vCPU whose flag is clear",
    STAYS_PUT: "no suspended vCPU runs guest code or completes its hypercall",
    NO_BOGUS_STATUS: "no flush hypercall completes with s3's -EBUSY, a status the TLFS "
    "does not define",
    NO_NULL_DEREF: "no step reads or writes the flag of a vCPU without a Hyper-V context",
    SYNC_FLUSHES_ONLY: "the ioctl's synchronize_srcu() waits for flush hypercalls only",
    PROGRESS: "when nothing can step, every actor has finished its ops",
}

# verdicts
HOLDS = "holds"
VIOLATED = "violated"
BLOCKED_BY_DESIGN = "blocked-by-design"
INCOMPLETE = "incomplete"


def in_ioctl(engine: Engine, s: State) -> bool:
    """Some set_inhibit is between its `lock` and its `return`.

    A thread is past the first step of its op exactly when its pc is set, and
    set_inhibit is the one VMM op of more than one step (asserted below), so
    the pc alone says it: this runs at every step of a check or a replay."""
    for th in s.threads:
        if th.pc:
            return True
    return False


def lost_wakeup(engine: Engine, s: State, c: int) -> bool:
    """vcpu c is suspended and nobody will ever clear it (no-lost-wakeup)."""
    return _lost(engine, s.vcpus[c], s.vcpus)


def runs_suspended(engine: Engine, s: State, c: int) -> bool:
    return _runs_suspended(engine, s.vcpus[c])


# The two on a vCPU's value: judge() has the vCPUs a step changed at hand, and
# its `after` may hold its vCPUs in a list.
def _lost(engine: Engine, v, vcpus) -> bool:
    return engine.suspended(v) and (v.waiting_on == -1 or not vcpus[v.waiting_on].inhibit)


def _runs_suspended(engine: Engine, v) -> bool:
    return v.mode == GUEST and engine.suspended(v)


def state_violations(engine: Engine, s: State) -> set[str]:
    """The state properties, decided by looking at every vCPU."""
    found = set()
    if not in_ioctl(engine, s) and any(lost_wakeup(engine, s, c) for c in range(engine.n)):
        found.add(NO_LOST_WAKEUP)
    if any(runs_suspended(engine, s, c) for c in range(engine.n)):
        found.add(STAYS_PUT)
    return found


def step_violations(
    engine: Engine, before: State, actor: int, step: str, after: State
) -> tuple[str, ...]:
    """Properties the transition `before --actor/step--> after` violates."""
    if isinstance(step, Step):
        kind, arg = step.kind, step.arg
    else:
        kind, _, text = step.partition(" ")
        arg = int(text) if text else None
    changed = list(before.vcpus.diff(after.vcpus))  # of a step's own after, only the slots it wrote
    return violations(engine, before, actor, kind, arg, after, changed)


def violations(
    engine: Engine, before, actor: int, kind: str, arg, after, changed
) -> tuple[str, ...]:
    """step_violations, given the (id, before, after) of each vCPU that differs
    between `before` and `after` (anything with State's fields: their vcpus
    may be lists)."""
    if actor < engine.n:  # a vCPU moves no thread
        now_in = was_in = in_ioctl(engine, after)
        own = before.vcpus[actor]
    else:
        own = None
        was_in = kind in _INSIDE_BEFORE or in_ioctl(engine, before)
        now_in = kind in _INSIDE_AFTER or in_ioctl(engine, after)
    return judge(engine, actor, kind, arg, own, before, after, changed, was_in, now_in)


def judge(
    engine: Engine, actor: int, kind: str, arg, own, before, after, changed, was_in, now_in
) -> tuple[str, ...]:
    """step_violations, from what a Session's run to the end has at hand: the
    step's kind and argument, the actor's vCPU before it (`own`, None for a
    VMM thread), `before` for its windows and threads, `after` (anything
    with State's fields: its vcpus may be a list), the (id, before, after)
    of each vCPU the step changed, and in_ioctl before and after. A step
    never writes what is read here of another vCPU (the target of a check,
    the ioctl's vCPU's context, a reader's pc), so those are read in `after`.

    It is two halves, which a Session's run calls apart: STEP_TESTS[kind],
    the properties about the step itself, and `watch`, the state properties."""
    test = STEP_TESTS.get(kind)
    found = () if test is None else test(engine, actor, arg, own, before, after)
    return watch(engine, found, after, changed, was_in, now_in)


def watch(engine: Engine, found: tuple[str, ...], after, changed, was_in, now_in):
    """`found` (the step's own violations, see judge) and the state properties
    the step violates. Both are about suspended vCPUs (_runs_suspended and
    _lost ask engine.suspended first), so only a step that leaves the ioctl
    or changes some vCPU to a suspended value can add one: a Session's run
    calls this only then."""
    if STAYS_PUT not in found:
        for _, _, v in changed:
            if _runs_suspended(engine, v):
                found += (STAYS_PUT,)
                break
    if not now_in:
        vcpus = after.vcpus
        if was_in:
            # Flags only change inside the ioctl, so leaving it is the one moment
            # a vCPU that did not move can become a lost wake-up.
            if any(_lost(engine, v, vcpus) for v in vcpus):
                found += (NO_LOST_WAKEUP,)
        else:
            for _, _, v in changed:  # those that moved
                if _lost(engine, v, vcpus):
                    found += (NO_LOST_WAKEUP,)
                    break
    return found


# The properties about one step, by its kind: test(engine, actor, arg, own,
# before, after) -> what it violates (arguments as for judge). Found is a
# tuple grown only on a violation: most steps have none.


def _complete(engine: Engine, c: int, arg, own, before, after) -> tuple[str, ...]:
    found: tuple[str, ...] = ()
    if before.windows and engine.ops[c][own.op].mask & before.windows:
        found += (INHIBIT_HOLDS,)
    if engine.suspended(own):
        found += (STAYS_PUT,)
    return found


def _request(engine: Engine, c: int, arg, own, before, after) -> tuple[str, ...]:
    return (NO_REQUEST,) if before.windows >> arg & 1 else ()


def _service(engine: Engine, c: int, arg, own, before, after) -> tuple[str, ...]:
    return (NO_FLUSH,) if before.windows >> c & 1 else ()


def _check(engine: Engine, c: int, arg, own, before, after) -> tuple[str, ...]:
    # 5/7's loops read v->arch.hyperv unchecked
    return () if after.vcpus[arg].hyperv else (NO_NULL_DEREF,)


def _s3(engine: Engine, c: int, arg, own, before, after) -> tuple[str, ...]:
    # the -EBUSY fall-through
    if not engine.variant.retry and not engine.suspended(own):
        return (NO_BOGUS_STATUS,)
    return ()


# Where a VMM step stands to the ioctl, read off set_inhibit's phases: its
# first step (`lock`) enters, its last (`return`) leaves, and every step
# between runs inside it, so in_ioctl need not be asked around those.
_PHASES = OP_PHASES["set_inhibit"]
_INSIDE_BEFORE = frozenset(k for phase in _PHASES[1:] for k in phase)
_INSIDE_AFTER = frozenset(k for phase in _PHASES[:-1] for k in phase)
assert [
    op for op, phases in OP_PHASES.items() if len(phases) > 1 and BY_KIND[phases[0][0]].actor == VMM
] == ["set_inhibit"], "in_ioctl reads a set pc as being inside set_inhibit"


def _sync(engine: Engine, a: int, arg, own, before, after) -> tuple[str, ...]:
    # a reader in kernel work (pc `vmentry`) is not inside a flush hypercall
    readers = after.threads[a - engine.n].readers
    if any(after.vcpus[c].pc == "vmentry" for c, _ in readers):
        return (SYNC_FLUSHES_ONLY,)
    return ()


def _null_context(engine: Engine, a: int, arg, own, before, after) -> tuple[str, ...]:
    """set_inhibit's compare or write: vcpu->arch.hyperv->tlb_flush_inhibit,
    with no NULL check in the ioctl."""
    i = a - engine.n
    op = engine.program.threads[i][1][before.threads[i].op]
    return () if after.vcpus[op.vcpu].hyperv else (NO_NULL_DEREF,)


STEP_TESTS = {
    "complete": _complete,
    "request": _request,
    "service": _service,
    "check": _check,
    "s3": _s3,
    "compare": _null_context,
    "write": _null_context,
    "sync": _sync,
}


# -- which steps can matter to which property -----------------------------------
#
# The partial-order reduction may leave a step out only if it is invisible:
# it cannot change a property's verdict (hvtui.check.por). That is read off
# the step table: a property *judges* some step kinds (a violation is a
# step of that kind) and *watches* some fields (a state property, or the
# windows a judged step is compared with); a step is visible when it is a
# judged step that could fail from here, or its outcome writes a watched
# location where the property says the write can matter.

JUDGES = {
    INHIBIT_HOLDS: ("complete",),
    NO_REQUEST: ("request",),
    NO_FLUSH: ("service",),
    STAYS_PUT: ("complete",),
    NO_BOGUS_STATUS: ("s3",),
    NO_NULL_DEREF: ("check", "compare", "write"),
    SYNC_FLUSHES_ONLY: ("sync",),
}
assert set(STEP_TESTS) == {k for kinds in JUDGES.values() for k in kinds}, (
    "judge() tests exactly the steps a property judges"
)
WATCHES = {
    INHIBIT_HOLDS: ("windows",),
    NO_REQUEST: ("windows",),
    NO_FLUSH: ("windows",),
    NO_LOST_WAKEUP: ("inhibit", "in_ioctl", "suspended", "waiting_on"),
    STAYS_PUT: ("mode", "suspended", "waiting_on"),
}


def _at_risk(prop: str, engine: Engine, s: State, a: int, opens: int) -> bool:
    """Could actor a's judged next step violate `prop`? `opens`: windows that are
    or may become open. What the verdict reads besides the windows (a target's
    Hyper-V context, `suspended` at s3, who reads SRCU at sync) is in the
    step's footprint, so no step left out can change it either."""
    if a >= engine.n:
        i = a - engine.n
        if prop == SYNC_FLUSHES_ONLY:
            return not engine.variant.own_srcu and any(
                v.srcu_reader and v.pc == "vmentry" for v in s.vcpus
            )
        op = engine.program.threads[i][1][s.threads[i].op]
        return not s.vcpus[op.vcpu].hyperv  # NO_NULL_DEREF at compare or write
    v = s.vcpus[a]
    if prop == INHIBIT_HOLDS:
        return bool(engine.ops[a][v.op].mask & opens)
    if prop == STAYS_PUT:
        return engine.suspended(v)
    if prop == NO_BOGUS_STATUS:
        return not engine.variant.retry and not engine.suspended(v)
    if prop == NO_REQUEST:
        return bool(opens >> engine.ops[a][v.op].targets[v.k] & 1)
    if prop == NO_NULL_DEREF:
        return not s.vcpus[engine.ops[a][v.op].targets[v.k]].hyperv
    return bool(opens >> a & 1)  # NO_FLUSH: a services its own request


def _matters(
    prop: str, field: str, engine: Engine, s: State, a: int, u: int, after: State, clears: int
) -> bool:
    """Can writing `field` of u (of thread u for in_ioctl) change `prop`'s verdict?"""
    if prop != STAYS_PUT and field != "suspended" and field != "waiting_on":
        return True  # windows, a flag, entering or leaving the ioctl
    if prop == STAYS_PUT:
        # runs_suspended(u) = guest mode while suspended: only a move into or
        # out of guest mode, or a suspension change in guest mode, can flip it
        before, now = s.vcpus[u], after.vcpus[u]
        if field == "mode":
            return engine.suspended(before) and GUEST in (before.mode, now.mode)
        return GUEST in (before.mode, now.mode)
    # NO_LOST_WAKEUP: a vCPU suspending itself on a flag that stays set until
    # the end can never be a lost wake-up; any other suspension change might.
    if engine.names[a] != f"vcpu{u}":
        return True
    on = after.vcpus[u].waiting_on
    return not (on != -1 and after.vcpus[on].inhibit and not clears >> on & 1)


def visible(
    engine: Engine,
    s: State,
    a: int,
    d: StepDef,
    case: str,
    after: State,
    opens: int,
    clears: int,
    decided=(),
) -> bool:
    """Can actor a's step d, with outcome `case` (to `after`), change the verdict
    of a property not in `decided` (those already known violated)?"""
    judged, writes = _plan(d, case)
    for prop in judged:
        if prop not in decided and _at_risk(prop, engine, s, a, opens):
            return True
    for field, who, watchers in writes:
        for u in bind(engine, s, a, who):
            for p in watchers:
                if p not in decided and _matters(p, field, engine, s, a, u, after, clears):
                    return True
    return False


_PLANS: dict[tuple[str, str], tuple] = {}


def _plan(d: StepDef, case: str) -> tuple:
    """(the properties that judge d, ((field, whom, its watchers), ...) for each
    location outcome `case` writes that some property watches), built once."""
    plan = _PLANS.get((d.kind, case))
    if plan is None:
        judged = tuple(prop for prop, kinds in JUDGES.items() if d.kind in kinds)
        writes = []
        for field, who in d.case_writes(case):
            watchers = tuple(p for p, fields in WATCHES.items() if field in fields)
            if watchers:
                writes.append((field, who, watchers))
        plan = _PLANS[d.kind, case] = (judged, tuple(writes))
    return plan


class Progress(NamedTuple):
    verdict: str  # HOLDS, BLOCKED_BY_DESIGN or VIOLATED
    detail: str  # who waits on what


def progress(engine: Engine, s: State) -> Progress:
    """The verdict on a state where no step is enabled."""
    waiting = []
    by_design = True
    for a, name in enumerate(engine.names):
        st = engine.status(s, a)
        if st.why == DONE or engine.finished(s, a):
            continue
        waiting.append(f"{name} waits at {st.step}: {st.why}")
        if a >= engine.n:
            by_design = False
            continue
        v = s.vcpus[a]
        if not (engine.suspended(v) and v.waiting_on != -1 and s.vcpus[v.waiting_on].inhibit):
            by_design = False
    if not waiting:
        return Progress(HOLDS, "every actor finished its ops")
    return Progress(BLOCKED_BY_DESIGN if by_design else VIOLATED, "; ".join(waiting))

"""A VMM thread's step in the flat graph is memoized by its memo key
(Flat._thread_move_key: the threads' id, the vCPUs it reads or writes whole,
the few fields of every vCPU the steps that read them all look at) under
(windows, in the ioctl, flags set): two states that reach the same memo
entry must make the same move -- the threads, writes and windows after,
and the properties it violates.

On every thread transition the flat graph reaches, each field of each vCPU
is changed in turn; wherever that leaves the memo entry the same, the move
must not change. The same holds of the step's visibility to the POR and the
key Flat.visible memoizes it by (Flat._thread_visible_key).
"""

from functools import partial

import pytest
from test_check_flat import OPTIONS, SCENARIOS, scenario, walk

from hvtui.check.por import PartialOrder
from hvtui.model import properties as props
from hvtui.model.state import KVM_RUN, MODES, Vcpu
from hvtui.model.variants import VARIANTS


def other(field: str, old, n: int, u: int):
    """A different value for vcpu u's `field` (`old`), as its type allows."""
    if isinstance(old, bool):
        return not old
    if field == "waiting_on":
        return -1 if old != -1 else (u + 1) % n
    if field == "mode":
        return MODES[(MODES.index(old) + 1) % len(MODES)]
    if field == "mutex":
        return "" if old else KVM_RUN
    if field == "pc":
        return "enter" if old == "vmentry" else "vmentry"
    return old + 1


def move(engine, s, *, a, st):
    """What Flat keeps of thread actor a's step from s (Flat._move, on States)."""
    _, _, _, threads, writes, windows = engine.thread_move(s, a, st)
    after = s._replace(vcpus=s.vcpus.write(writes), threads=threads, windows=windows)
    return threads, writes, windows, set(props.step_violations(engine, s, a, st.step, after))


def unchanged(flat, key, a, st, entry_of, outcome, asked=lambda p: True):
    """Each (vCPU, field) whose change, at the state `key`, leaves the memo entry
    `entry_of` names for a's step the same, having asserted that `outcome` of the
    State stays the same there too; only changes that leave `asked` true."""
    s = flat.decode(key)
    memo, memo_key = entry_of(flat, key, a, st)
    expected = outcome(s)
    for u, v in enumerate(s.vcpus):
        for f in Vcpu._fields:
            changed = v._replace(**{f: other(f, getattr(v, f), flat.n, u)})
            p = s._replace(vcpus=s.vcpus.set(u, changed))
            if not asked(p):
                continue
            there, there_key = entry_of(flat, flat.encode(p), a, st)
            if there is memo and there_key == memo_key:
                assert outcome(p) == expected, (st.step, u, f)
                yield u, f


def thread_steps(name: str, variant: str, configs):
    """(flat, space, key, thread actor, its status) of each thread transition a
    walk of the flat graph reaches under each of `configs`."""
    for config in configs:
        for flat, space, key, a, statuses, _ in walk(scenario(name), variant, OPTIONS[config], 500):
            if a >= flat.n:
                yield flat, space, key, a, statuses[a]


def entry(flat, key, a, st):
    """The memo entry child() reads for a's step from `key`: its dict, its key."""
    flat._focus(key)
    return flat._here_moves, flat._thread_move_key(key, a, st)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_thread_step_reads_nothing_its_memo_key_leaves_out(name, variant):
    left_out = set()  # (step kind, field, on the op's vCPU): changed, the memo entry the same
    for flat, space, key, a, st in thread_steps(name, variant, ("all", "none")):
        x = flat._reads[key[flat.n]][a - flat.n][0]
        moved = partial(move, space.engine, a=a, st=st)
        for u, f in unchanged(flat, key, a, st, entry, moved):
            left_out.add((st.step.kind, f, u == x))
    if name == "reviewer-race.yaml":
        # the return keeps its op's vCPU whole, a sync only the SRCU fields of any
        assert ("return", "mutex", False) in left_out
        assert ("return", "mutex", True) not in left_out
        if VARIANTS[variant].sync:
            assert ("sync", "mutex", True) in left_out
            reader = "flush_srcu_reader" if VARIANTS[variant].own_srcu else "srcu_reader"
            assert not any(k == "sync" and f == reader for k, f, _ in left_out)


def stands(engine, s, *, a, st):
    """Whether actor a has status st at s: the POR asks only of the step a state enables."""
    return engine.status(s, a) == st


def visible(por, s, *, a, st):
    return por.visible(s, a, st, *por.ahead(s), None, ())


def visible_entry(flat, key, a, st):
    """The memo entry Flat.visible reads for a's step from `key`: its dict, its key."""
    flat._focus(key)
    return flat._here_visible, flat._thread_visible_key(key, a, st)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_thread_step_is_seen_by_nothing_its_visibility_key_leaves_out(name, variant):
    left_out = set()  # (step kind, field): changed, the memo entry the same
    for flat, space, key, a, st in thread_steps(name, variant, ("all",)):
        seen = partial(visible, PartialOrder(space.engine, space.live), a=a, st=st)
        asked = partial(stands, space.engine, a=a, st=st)
        for _, f in unchanged(flat, key, a, st, visible_entry, seen, asked):
            left_out.add((st.step.kind, f))
    if name == "reviewer-race.yaml":  # the return is seen by no vCPU's mutex
        assert ("return", "mutex") in left_out

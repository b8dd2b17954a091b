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


def move(engine, s, a, st):
    """What Flat keeps of thread actor a's step from s (Flat._move, on States)."""
    _, _, _, threads, writes, windows = engine.thread_move(s, a, st)
    after = s._replace(vcpus=s.vcpus.write(writes), threads=threads, windows=windows)
    return threads, writes, windows, set(props.step_violations(engine, s, a, st.step, after))


def perturbed(flat, s):
    """s with one field of one vCPU changed, for each field of each vCPU:
    (vCPU, field, the State)."""
    for u, v in enumerate(s.vcpus):
        for f in Vcpu._fields:
            changed = v._replace(**{f: other(f, getattr(v, f), flat.n, u)})
            yield u, f, s._replace(vcpus=s.vcpus.set(u, changed))


def entry(flat, key, a, st):
    """The memo entry child() reads for a's step from `key`: its dict, its key."""
    flat._focus(key)
    return flat._here_moves, flat._thread_move_key(key, a, st)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_thread_step_reads_nothing_its_memo_key_leaves_out(name, variant):
    left_out = set()  # (step kind, field, on the op's vCPU): changed, the memo entry the same
    for config in ("all", "none"):
        walked = walk(scenario(name), variant, OPTIONS[config], limit=500)
        for flat, space, key, a, statuses, _ in walked:
            st = statuses[a]
            if a < flat.n:
                continue
            engine, s = space.engine, flat.decode(key)
            memo, memo_key = entry(flat, key, a, st)
            expected = move(engine, s, a, st)
            x = flat._reads[key[flat.n]][a - flat.n][0]
            for u, f, p in perturbed(flat, s):
                there, there_key = entry(flat, flat.encode(p), a, st)
                if there is not memo or there_key != memo_key:
                    continue
                assert move(engine, p, a, st) == expected, (st.step, u, f)
                left_out.add((st.step.kind, f, u == x))
    if name == "reviewer-race.yaml":
        # the return keeps its op's vCPU whole, a sync only the SRCU fields of any
        assert ("return", "mutex", False) in left_out
        assert ("return", "mutex", True) not in left_out
        if VARIANTS[variant].sync:
            assert ("sync", "mutex", True) in left_out
            reader = "flush_srcu_reader" if VARIANTS[variant].own_srcu else "srcu_reader"
            assert not any(k == "sync" and f == reader for k, f, _ in left_out)


def visible(por, s, a, st):
    return por.visible(s, a, st, *por.ahead(s), None, ())


def visible_entry(flat, key, a, st):
    """The memo entry Flat.visible reads for a's step from `key`: its dict, its key."""
    flat._focus(key)
    return flat._here_visible, flat._thread_visible_key(key, a, st)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_thread_step_is_seen_by_nothing_its_visibility_key_leaves_out(name, variant):
    left_out = set()  # (step kind, field): changed, the memo entry the same
    walked = walk(scenario(name), variant, OPTIONS["all"], limit=500)
    for flat, space, key, a, statuses, _ in walked:
        st = statuses[a]
        if a < flat.n:
            continue
        por = PartialOrder(space.engine, space.live)
        s = flat.decode(key)
        memo, memo_key = visible_entry(flat, key, a, st)
        expected = visible(por, s, a, st)
        for u, f, p in perturbed(flat, s):
            if space.engine.status(p, a) != st:
                continue  # the POR asks only of the step the state enables
            there, there_key = visible_entry(flat, flat.encode(p), a, st)
            if there is memo and there_key == memo_key:
                assert visible(por, p, a, st) == expected, (st.step, u, f)
                left_out.add((st.step.kind, f))
    if name == "reviewer-race.yaml":  # the return is seen by no vCPU's mutex
        assert ("return", "mutex") in left_out

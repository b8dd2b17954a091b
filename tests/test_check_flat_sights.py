"""The steps that read every vCPU (synchronize_srcu's start, the ioctl's
return) read only a few fields of each: Flat.child memoizes their moves by
those (Flat._sights), so the sights must cover everything the move is made
of -- the threads, writes and windows after, and the properties it violates.

On every transition of that kind the flat graph reaches, each other field of
each vCPU but the two the step's key holds whole (the op's vCPU, the scan's)
is changed in turn: none may change the move.
"""

import pytest
from test_check_flat import OPTIONS, SCENARIOS, scenario, walk

from hvtui.check.flat import _READS_ALL
from hvtui.model import properties as props
from hvtui.model.state import KVM_RUN, MODES, Vcpu
from hvtui.model.variants import VARIANTS


def other(field: str, old, n: int, u: int):
    """A different value for a vCPU's `field` (`old`), as its type allows."""
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


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_move_that_reads_every_vcpu_reads_only_its_sight_of_each(name, variant):
    checked = set()
    for config in ("all", "none"):
        for flat, space, key, a, statuses, _ in walk(scenario(name), variant, OPTIONS[config]):
            st = statuses[a]
            if a < flat.n or st.step.kind not in _READS_ALL:
                continue
            engine, s = space.engine, flat.decode(key)
            seen = flat._sights[st.step.kind]
            held = set(flat._reads[key[flat.n]][a - flat.n])  # x and w: whole in the key
            expected = move(engine, s, a, st)
            for u, v in enumerate(s.vcpus):
                if u in held:
                    continue
                for f in Vcpu._fields:
                    p = v._replace(**{f: other(f, getattr(v, f), flat.n, u)})
                    if seen(p) != seen(v):
                        continue
                    perturbed = s._replace(vcpus=s.vcpus.set(u, p))
                    assert move(engine, perturbed, a, st) == expected, (st.step, u, f)
                    checked.add(st.step.kind)
    if name == "reviewer-race.yaml":
        assert checked == ({"sync", "return"} if VARIANTS[variant].sync else {"return"})

"""Vec, the persistent vector of vCPUs: a step's diff reads only what it wrote.

`set` remembers the Vec it came from (weakly), so diffing a step's before
and after looks at the written slots; anything else falls back to
comparing chunks. Both must give the same answer.
"""

from __future__ import annotations

import gc

from hypothesis import given, settings
from hypothesis import strategies as st

from hvtui.model.state import GUEST, KERNEL, Vcpu, Vec


def full_diff(a: Vec, b: Vec) -> list[tuple[int, Vcpu, Vcpu]]:
    return [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def unrelated_copy(v: Vec) -> Vec:
    return Vec.of(list(v))


writes = st.lists(
    st.tuples(st.integers(0, 199), st.sampled_from([GUEST, KERNEL]), st.booleans()), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(writes, st.booleans())
def test_diff_of_a_set_matches_a_full_comparison(changes, pair):
    base = Vec.of([Vcpu() for _ in range(200)])
    v = base
    for i, mode, flag in changes:
        before = v
        if pair and i != 0:
            v = v.set_both(i, Vcpu(mode=mode, pending_flush=flag), 0, Vcpu(flushes=i))
        else:
            v = v.set(i, Vcpu(mode=mode, pending_flush=flag))
        assert list(before.diff(v)) == full_diff(before, v)
        assert list(v.diff(before)) == [(i, y, x) for i, x, y in full_diff(before, v)]
    assert list(base.diff(v)) == full_diff(base, v)  # several sets apart: the slow path
    assert list(unrelated_copy(base).diff(v)) == full_diff(base, v)


def test_touched_names_the_written_slots_only_between_parent_and_child():
    base = Vec.of([Vcpu() for _ in range(130)])
    one = base.set(129, Vcpu(mode=KERNEL))
    two = one.set_both(70, Vcpu(flushes=1), 3, Vcpu(flushes=2))
    assert one.touched(base) == base.touched(one) == (129,)
    assert two.touched(one) == (3, 70)  # ascending, whatever the argument order
    assert two.touched(base) is None
    assert base.touched(base) == ()
    assert two == unrelated_copy(two) and hash(two) == hash(unrelated_copy(two))


def test_a_vec_does_not_keep_the_one_it_came_from_alive():
    base = Vec.of([Vcpu() for _ in range(64)])
    child = base.set(5, Vcpu(mode=KERNEL))
    del base
    gc.collect()
    assert child._parent() is None  # history is not chained alive through the states
    assert child.touched(Vec.of([Vcpu() for _ in range(64)])) is None

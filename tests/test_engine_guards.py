"""A vCPU outside a hypercall has at most one enabled step, whatever its fields.

Engine.vcpu_status tries the guards of the steps a vCPU chooses from (the
always-available ones and its op's first step) in the order it finds the
likeliest first, and returns the first that holds: that is its status only
because no two of them ever hold together. Here every combination of the
fields the guards read, under every variant and before every kind of op,
has at most one, and the status is it (or waits, or is done, when none).
"""

from __future__ import annotations

from itertools import product

import pytest
from engine_support import flush, program, work

from hvtui.model.engine import DONE, Engine
from hvtui.model.state import MODES, Vcpu
from hvtui.model.steps import BY_KIND
from hvtui.model.variants import VARIANTS

# vcpu0 is before a flush (op 0), before kernel work (op 1), then done (op 2)
PROGRAM = program(2, {0: [flush(1), work()]})
FIRSTS = {0: "enter", 1: "vmexit", 2: None}


FIELDS = ("mode", "exit_pending", "pending_flush", "hyperv", "suspended", "waiting_on", "op")
BOTH = (False, True)


def values():
    """Every combination of what the guards read (mode, the flags, the suspension)."""
    for combo in product(MODES, BOTH, BOTH, BOTH, BOTH, (-1, 1), FIRSTS):
        v = Vcpu()._replace(**dict(zip(FIELDS, combo, strict=True)))
        if v.mode != "kernel":  # inside a hypercall the pc decides, with no guard
            yield v


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_two_guards_of_a_vcpu_outside_a_hypercall_hold_together(variant):
    engine = Engine(PROGRAM, VARIANTS[variant])
    choices = {first: engine._choice[first] for first in FIRSTS.values()}
    seen = set()
    for v in values():
        first = FIRSTS[v.op]
        holding = [d.kind for d in choices[first] if d.when(engine, 0, v, first)]
        assert len(holding) <= 1, (v, holding)
        st = engine.vcpu_status(0, v)
        if holding:
            assert st.enabled and st.step == holding[0], (v, st)
            assert st is engine._ready[holding[0]]
        else:
            assert not st.enabled and (st.why == DONE or st.step.kind in BY_KIND), (v, st)
        seen.add(st.step.kind if st.enabled else None)
    # every step a vCPU can choose is reached by some value: the check is not empty
    assert seen == {"leave", "resume", "service", "enter", "vmexit", None}

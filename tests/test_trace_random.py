"""Any run of the model, traced, is explained by `hvtui trace`: random programs,
variants and interleavings (hypothesis), printed by the ftrace export and read back.

The scenario `hvtui trace` builds is not the one that ran (a trace does not
show a set_inhibit(x, true), nor an ioctl that woke nobody), so this checks
that the inference never asks for less than what happened.

Not under wake-all / wake-all-retry: their scan wakes every waiter, so an
unsuspension does not say whose flag was cleared, and the builder takes the
flag the woken vCPU waited on. When the clear was of another vCPU's flag, one
no event names, the trace is judged inconsistent: a known limit of the
inference (the README's trace section says so), not of the search.
"""

from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_programs import play, programs, schedules

from hvtui.exports.ftrace import render
from hvtui.model.engine import Engine
from hvtui.model.variants import VARIANTS
from hvtui.trace.check import check

NAMED_CLEARS = sorted(name for name, v in VARIANTS.items() if not v.wake_all)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(NAMED_CLEARS), schedules)
def test_every_traced_run_is_consistent(program, variant, choices):
    session, _ = play(Engine(program, VARIANTS[variant]), choices)
    text = render(None, session)
    with tempfile.NamedTemporaryFile("w", suffix=".trace") as f:
        f.write(text)
        f.flush()
        report = check(f.name, None, variant, 0, None, True)
    result = report.result
    assert result.consistent, (report.failed_text, result.instead, text)
    assert result.explained == result.total

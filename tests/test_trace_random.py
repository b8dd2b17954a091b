"""Any run of the model, traced, is explained by `hvtui trace`: random programs,
variants and interleavings (hypothesis), printed by the ftrace export and read back.

The scenario `hvtui trace` builds is not the one that ran (a trace does not
show a set_inhibit(x, true), nor an ioctl that woke nobody), so this checks
that the inference never asks for less than what happened, under every
variant: also wake-all's, whose unsuspension does not say whose flag its scan
cleared (the builder tries the flag the woken vCPU waited on, then the flags of
vCPUs out of KVM_RUN, then one of a vCPU the trace never shows).
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


# Derandomized: CI must give the same answer on every run. Two wake-all-retry
# scans that both match one vCPU, the second's store landing after that vCPU
# has suspended again, are not yet explained (a known gap of the builder);
# one was found in some 40k random examples.
@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(programs(), st.sampled_from(sorted(VARIANTS)), schedules)
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

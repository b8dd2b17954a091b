"""hvtui's checker against an independent reference model (tests/reference/model.py).

The reference is written from the series' code and docs/model.md, not from
hvtui's step table, so a mistake in the table (which the SPIN export shares)
shows up here as a disagreement: per property, the verdict and the length
of a shortest schedule must be the same on every library and checker
scenario and on random small programs, under every variant.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reference.crosscheck import batch, disagreements, wide_programs
from reference.model import (
    BLOCKED,
    BLOCKED_BY_DESIGN,
    GUEST,
    HOLDS,
    KVM_RUN,
    PROPERTIES,
    VARIANTS,
    VIOLATED,
    Model,
    explore,
)

from hvtui.model.properties import PROPERTIES as HVTUI_PROPERTIES
from hvtui.model.state import Exit, HypervInit, Program, Run, SetInhibit
from hvtui.model.variants import VARIANTS as HVTUI_VARIANTS
from hvtui.scenario.load import load

ROOT = Path(__file__).resolve().parent.parent
# every scenario but the 4096-vCPU one, whose state space no plain search ends
SCENARIOS = sorted(
    p
    for p in [*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("tests/data/check/*.yaml")]
    if p.name != "many-vcpus-4096.yaml"
)
# CI's share: `python -m reference.crosscheck N SEED` (from tests/) runs more
RANDOM_EXAMPLES = 25
RANDOM_BOUND = 5_000  # states of the reference's search


def test_the_reference_knows_every_variant_and_property():
    assert sorted(VARIANTS) == sorted(HVTUI_VARIANTS)
    assert PROPERTIES == HVTUI_PROPERTIES


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_agrees_under_every_variant(path):
    program = load(str(path)).program
    diff = {}
    for variant in VARIANTS:
        found = disagreements(program, variant, max_states=50_000)
        assert found is not None, f"{path.name} under {variant}: too big for the reference"
        if found:
            diff[variant] = found
    assert not diff


def test_random_programs_agree_under_every_variant():
    """A fixed batch (the same programs every run); a program whose state
    space is beyond the bound is not compared under that variant, and those
    must stay few, so the batch cannot pass by comparing nothing."""
    counts, found = batch(examples=RANDOM_EXAMPLES, seed=0, max_states=RANDOM_BOUND)
    assert not found, "\n".join(found)
    assert counts["compared"] >= 0.75 * counts["programs"] * len(VARIANTS), counts


def test_wide_programs_agree_under_every_variant():
    """Every v2 feature at once (hot-plugged vCPUs and hyperv_init, kernel
    work, up to 6 vCPUs and 3 VMM threads, flushes of all and of
    themselves, initial flags and modes): crosscheck.wide_programs, a fixed
    batch; `python -m reference.crosscheck N SEED wide` runs more."""
    counts, found = batch(10, 1, RANDOM_BOUND, programs=wide_programs())
    assert not found, "\n".join(found)
    assert counts["compared"] >= 0.75 * counts["programs"] * len(VARIANTS), counts


# -- the reference itself, on what the series and its review say --------------


def verdicts(path: str, variant: str) -> dict[str, tuple[str, int | None]]:
    found = explore(load(str(ROOT / path)).program, variant)
    return {prop: (f.verdict, f.length) for prop, f in found.items()}


def test_reference_reviewer_race_posted():
    """The SRCU sync keeps the guest's view; a request raised before the ioctl
    returned is serviced after it (16 steps, as docs/model.md reports)."""
    got = verdicts("scenarios/reviewer-race.yaml", "posted")
    assert got["inhibit-holds"] == (HOLDS, None)
    assert got["no-request-while-inhibited"] == (HOLDS, None)
    assert got["no-flush-while-inhibited"] == (VIOLATED, 16)
    assert got["progress"][0] == BLOCKED_BY_DESIGN


def test_reference_reviewer_race_without_sync_and_request_first():
    no_sync = verdicts("scenarios/reviewer-race.yaml", "no-sync")
    assert no_sync["inhibit-holds"] == (VIOLATED, 12)
    first = verdicts("scenarios/reviewer-race.yaml", "request-first")
    assert first["inhibit-holds"] == (HOLDS, None)
    assert first["no-request-while-inhibited"] == (VIOLATED, 10)


def test_reference_bogus_status_under_wake_all_only():
    assert verdicts("scenarios/wake-all-bogus-status.yaml", "wake-all")["no-bogus-status"][0] == (
        VIOLATED
    )
    assert verdicts("scenarios/wake-all-bogus-status.yaml", "wake-all-retry")[
        "no-bogus-status"
    ] == (HOLDS, None)


def test_reference_null_deref_and_srcu_stall():
    assert verdicts("scenarios/hotplug-flush-all.yaml", "posted")["no-null-deref"] == (VIOLATED, 4)
    assert verdicts("scenarios/ioctl-without-context.yaml", "posted")["no-null-deref"] == (
        VIOLATED,
        2,
    )
    stall = "scenarios/mmio-exit-during-uninhibit.yaml"
    assert verdicts(stall, "posted")["sync-waits-for-flushes-only"] == (VIOLATED, 5)
    assert verdicts(stall, "own-srcu")["sync-waits-for-flushes-only"] == (HOLDS, None)
    assert verdicts(stall, "no-sync")["sync-waits-for-flushes-only"] == (HOLDS, None)


# -- the cross-check notices a wrong step ---------------------------------------
#
# Each mutant is the reference with one step got wrong the way a model of
# this series plausibly could; on the scenario named beside it, the
# cross-check must disagree with hvtui (so a wrong step in hvtui's table,
# mirrored, would be caught the same way).


class SyncWaitsForNobody(Model):
    """synchronize_srcu() that returns at once."""

    def sync(self, s, a):
        s2, bad = super().sync(s, a)
        return self._sett(s2, a - self.n, readers=()), bad


class ServiceBeforeLeave(Model):
    """A pending flush serviced before a pending exit returns to userspace."""

    def _vcpu_next(self, s, c):
        v = s.vcpus[c]
        if v.mode == GUEST and v.pending and v.exit_pending:
            return self.service
        return super()._vcpu_next(s, c)


class NoEbusy(Model):
    """kvm_hv_hypercall_complete() that always returns 1, whatever the variant."""

    def s3(self, s, c):
        restart = {"pc": "enter", "k": 0, "reader": False, "freader": False}
        return self._setv(s, c, mode=BLOCKED, **restart), set()


class RunIgnoresSuspension(Model):
    """KVM_RUN that enters the guest even when the vCPU is suspended."""

    def run(self, s, a):
        x = self._op(s, a).vcpu
        s = self._setv(s, x, mutex=KVM_RUN, mode=GUEST, ran=True)
        return self._vmm_op_done(s, a), set()


class LockKeepsWindow(Model):
    """set_inhibit(x, false) that does not close x's window at its lock."""

    def lock(self, s, a):
        s2, bad = super().lock(s, a)
        return s2._replace(windows=s.windows), bad


class KernelWorkNotReader(Model):
    """kernel_work outside kvm->srcu."""

    def vmexit(self, s, c):
        s2, bad = super().vmexit(s, c)
        return self._setv(s2, c, reader=False), bad


class InitAfterRun(Model):
    """kvm_hv_vcpu_init() that creates the context even after a KVM_RUN."""

    def hyperv_init(self, s, a):
        s = self._setv(s, self._op(s, a).vcpu, hyperv=True)
        return self._vmm_op_done(s, a), set()


# vcpu1 is hot-plugged; the VMM runs it before its KVM_SET_CPUID2, so the
# context never comes and the ioctl dereferences NULL (as scenarios/hotplug-run-before-cpuid.yaml)
RUN_BEFORE_INIT = Program(
    vcpus=2,
    vcpu_ops=((), ()),
    threads=(
        (
            "vmm",
            (
                Run("r", 1),
                Exit("e", 1),
                HypervInit("h", 1),
                SetInhibit("s", 1, True),
            ),
        ),
    ),
    initial_no_hyperv=frozenset({1}),
)


def _program(name: str) -> Program:
    return load(str(ROOT / name)).program


@pytest.mark.parametrize(
    "mutant, where, variant",
    [
        (SyncWaitsForNobody, "scenarios/reviewer-race.yaml", "request-first"),
        (ServiceBeforeLeave, "tests/data/check/bystanders.yaml", "posted"),
        (NoEbusy, "scenarios/basic-suspend-wake.yaml", "no-sync"),
        (RunIgnoresSuspension, "scenarios/three-waiters.yaml", "no-sync"),
        (LockKeepsWindow, "tests/data/check/inhibit-window.yaml", "request-first"),
        (KernelWorkNotReader, "scenarios/mmio-exit-during-uninhibit.yaml", "posted"),
        (InitAfterRun, RUN_BEFORE_INIT, "posted"),
    ],
    ids=lambda x: x.__name__ if isinstance(x, type) else None,
)
def test_a_wrong_step_is_a_disagreement(mutant, where, variant):
    program = where if isinstance(where, Program) else _program(where)
    if isinstance(where, Program):  # the scenarios' agreement is tested above
        assert not disagreements(program, variant)
    assert disagreements(program, variant, model=mutant)

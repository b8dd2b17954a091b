"""What the model v2 expectations say the checker finds, variant by variant.

Programs are built directly (no YAML): each test sweeps every variant and
names where a new property fails and where it holds, then replays the
counterexample to show the interleaving a reviewer would read.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_support import flush, program, work
from test_checker_reductions import BASE, as_scenario, lengths

from hvtui.check.search import check
from hvtui.model.properties import (
    HOLDS,
    NO_BOGUS_STATUS,
    NO_NULL_DEREF,
    PROPERTIES,
    SYNC_FLUSHES_ONLY,
    VIOLATED,
)
from hvtui.model.state import Exit, HypervInit, Run, SetInhibit
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios


def verdict(prog, variant: str, prop: str):
    return check(as_scenario(prog, variant), variant).properties[prop]


def events_of(prog, variant: str, schedule) -> list:
    scenario = scenarios.with_schedule(as_scenario(prog, variant), schedule)
    session = scenarios.replay(scenario)
    return session, session.events


def assert_shortest(prog, variant: str) -> None:
    """The default check's counterexamples are as short as the plain search's."""
    scenario = as_scenario(prog, variant)
    assert lengths(check(scenario, variant)) == lengths(check(scenario, variant, BASE))


# -- no-bogus-status --------------------------------------------------------------

# vcpu0 flushes vcpu1; one VMM thread clears vcpu1, another clears vcpu2.
TWO_CLEARS = program(
    3,
    {0: [flush(1)]},
    vmm=[SetInhibit("clr1", 1, False)],
    threads={"vmm:b": [SetInhibit("clr2", 2, False)]},
    inhibit=(1, 2),
    user=(1, 2),
)
BOGUS = {"no-sync", "wake-all"}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_bogus_status_fails_exactly_where_a_scan_can_land_between_s2_and_s3(variant):
    """posted's sync keeps a clear of the flag vcpu0 waits on out of its
    s2..s3; no-sync does not, and wake-all's clear of vcpu2 matches vcpu0
    whatever it waits on. wake-all-retry returns 1 from s3 either way."""
    result = verdict(TWO_CLEARS, variant, NO_BOGUS_STATUS)
    assert result.verdict == (VIOLATED if variant in BOGUS else HOLDS)
    if variant not in BOGUS:
        return
    session, events = events_of(TWO_CLEARS, variant, result.schedule)
    last = events[-1]
    assert (last.actor, last.step) == ("vcpu0", "s3") and "guest gets -EBUSY" in last.text
    suspend = max(i for i, e in enumerate(events) if e.actor == "vcpu0" and e.step == "s2")
    woken = [e for e in events[suspend:] if e.step == "wake 0"]
    # wake-all: the scan of the clear of vcpu2, which vcpu0 does not wait on
    assert woken[0].op == ("clr2" if variant == "wake-all" else "clr1")
    assert session.state.vcpus[1].flushes == 0 and not session.state.vcpus[1].pending_flush
    assert_shortest(TWO_CLEARS, variant)


def test_wake_all_retry_keeps_the_retry_going_until_the_flag_clears():
    result = check(as_scenario(TWO_CLEARS, "wake-all-retry"), "wake-all-retry")
    assert {p for p, v in result.properties.items() if v.verdict != HOLDS} == set()


# -- no-null-deref ----------------------------------------------------------------

# vcpu0 flushes all three vCPUs while vcpu2 is being hot-plugged
HOT_PLUG = program(
    3, {0: [flush(0, 1, 2)]}, vmm=[HypervInit("init", 2), Run("run", 2)], no_hyperv=(2,)
)
# the same, but vcpu0 only starts after vcpu2's KVM_SET_CPUID2
AFTER_INIT = program(
    3,
    {0: [flush(0, 1, 2)]},
    vmm=[HypervInit("init", 2), Run("run", 0), Run("run2", 2)],
    user=(0,),
    no_hyperv=(2,),
)
IOCTL = program(2, vmm=[SetInhibit("inh", 1, True)], no_hyperv=(1,))
# vcpu0 runs once vcpu1 has its context, and races with its inhibit and clear
IOCTL_AFTER_INIT = program(
    2,
    {0: [flush(1)]},
    vmm=[
        HypervInit("init", 1),
        Run("run", 0),
        SetInhibit("inh", 1, True),
        SetInhibit("clr", 1, False),
    ],
    user=(0,),
    no_hyperv=(1,),
)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_flush_of_every_vcpu_before_the_hot_plugged_ones_init_dereferences_null(variant):
    result = verdict(HOT_PLUG, variant, NO_NULL_DEREF)
    assert result.verdict == VIOLATED
    # shortest: vcpu0 enters and checks 0, 1 and then 2, before the VMM moves
    assert result.schedule == ("vcpu0",) * (4 if not VARIANTS[variant].request_first else 7)
    _, events = events_of(HOT_PLUG, variant, result.schedule)
    assert events[-1].step == "check 2" and "(NULL dereference)" in events[-1].text
    assert result.detail == (
        "vcpu0 check 2: READ_ONCE(v->arch.hyperv->tlb_flush_inhibit): vcpu 2 has no "
        "Hyper-V context (NULL dereference)"
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_after_hyperv_init_nothing_dereferences_null(variant):
    for prog in (AFTER_INIT, IOCTL_AFTER_INIT):
        result = check(as_scenario(prog, variant), variant)
        assert result.properties[NO_NULL_DEREF].verdict == HOLDS


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_ioctl_on_a_vcpu_without_a_context_dereferences_null_at_compare(variant):
    result = check(as_scenario(IOCTL, variant), variant)
    assert result.properties[NO_NULL_DEREF].schedule == ("vmm", "vmm")
    assert result.properties[NO_NULL_DEREF].detail.startswith(
        "vmm compare: READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit): vcpu 1"
    )
    # the write went nowhere: no inhibit window, nothing else fails
    assert [p for p, v in result.properties.items() if v.verdict != HOLDS] == [NO_NULL_DEREF]


# -- sync-waits-for-flushes-only --------------------------------------------------

# vcpu0 takes an MMIO exit; the VMM inhibits vcpu1 meanwhile
MMIO = program(2, {0: [work("mmio")]}, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)])
# the same with a flush by vcpu0 first: a sync may wait for that one legitimately
FLUSH_THEN_MMIO = program(
    3,
    {0: [flush(2), work("mmio")]},
    vmm=[Exit("x", 1), SetInhibit("inh", 1, True), Run("r", 1)],
)
WAITS_ON_KVM_SRCU = {v for v in VARIANTS if VARIANTS[v].sync and not VARIANTS[v].own_srcu}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_sync_on_kvm_srcu_waits_for_kernel_work(variant):
    for prog in (MMIO, FLUSH_THEN_MMIO):
        result = verdict(prog, variant, SYNC_FLUSHES_ONLY)
        assert result.verdict == (VIOLATED if variant in WAITS_ON_KVM_SRCU else HOLDS)
        if result.verdict == VIOLATED:
            session, events = events_of(prog, variant, result.schedule)
            assert (events[-1].actor, events[-1].step) == ("vmm", "sync")
            assert events[-1].text == "synchronize_srcu: waits for vcpu0"
            assert session.state.vcpus[0].pc == "vmentry"  # inside the MMIO exit
            assert_shortest(prog, variant)


def test_own_srcu_still_waits_for_the_flush_hypercall():
    """own-srcu keeps posted's guarantees: the flush domain has the flushes."""
    posted = check(as_scenario(FLUSH_THEN_MMIO, "posted"), "posted")
    own = check(as_scenario(FLUSH_THEN_MMIO, "own-srcu"), "own-srcu")
    assert {p: v.verdict for p, v in own.properties.items() if p != SYNC_FLUSHES_ONLY} == {
        p: v.verdict for p, v in posted.properties.items() if p != SYNC_FLUSHES_ONLY
    }


def test_every_new_property_is_decided_by_the_checker():
    names = set(PROPERTIES)
    assert {NO_BOGUS_STATUS, NO_NULL_DEREF, SYNC_FLUSHES_ONLY} <= names
    result = check(as_scenario(replace(MMIO), "posted"), "posted")
    assert set(result.properties) == names

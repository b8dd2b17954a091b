"""Where the series' code settles what the model's tables leave open.

Each test is one reading a careful reader of 5/7 (and of 2/7's helpers it
calls) would make, checked on the engine and, where it is a question of
interleavings, on the independent reference models: reference.model (one
next step per actor, as hvtui) and reference.literal (any step whose
guard holds).
"""

from __future__ import annotations

import pytest
from engine_support import Walk, flush, program
from reference.crosscheck import as_scenario, batch, verdict_disagreements, wide_programs
from reference.literal import Literal
from reference.model import VARIANTS, explore

from hvtui.check.search import check
from hvtui.model.state import Flush, KernelWork, Program, SetInhibit
from hvtui.scenario.load import load, parse
from tests.conftest import SCENARIOS

ONE_THREAD = SCENARIOS / "wake-all-bogus-one-thread.yaml"


def _suspended_on_1(variant: str) -> Walk:
    """vcpu0 flushes vcpu1 (inhibited, in userspace); `vmm` clears vcpu2, also
    inhibited, with its sync begun before vcpu0 enters; vcpu0 is at s2."""
    w = Walk(
        program(3, {0: [flush(1)]}, vmm=[SetInhibit("c", 2, False)], inhibit=(1, 2), user=(1, 2)),
        variant,
    )
    w("vmm", "vmm", "vmm", "vmm")  # lock, compare, write, sync: waits for nobody
    w("vcpu0", "vcpu0", "vcpu0", "vcpu0")  # enter, check 1, s1, s2
    return w


@pytest.mark.parametrize(
    "variant, woken, case, traced",
    [
        # 5/7 puts `if (kvm_hv_vcpu_suspended(vcpu)) return 1;` first in
        # kvm_hv_hypercall_complete(), before trace_kvm_hv_hypercall_done():
        # a suspended vCPU's return traces nothing, and it does not enter the guest
        ("posted", False, "not_skipped", ()),
        # woken between s2 and s3: the fall-through reaches the tracepoint
        # with -EBUSY as the result, then the guest is entered
        ("wake-all", True, "ebusy", ("kvm_hv_hypercall_done", "kvm_entry")),
        # wake-all-retry's s3 returns 1 before the tracepoint too
        ("wake-all-retry", True, "retries", ("kvm_entry",)),
    ],
)
def test_kvm_hv_hypercall_done_is_traced_only_when_s3_falls_through(variant, woken, case, traced):
    w = _suspended_on_1(variant)
    w("vmm", "vmm", "vmm")  # synced, unsuspend 0, and under wake-all: wake 0
    assert w.suspended(0) is not woken
    (s3,) = w("vcpu0")
    assert (s3.step, s3.case, s3.tracepoints) == ("s3", case, traced)


def test_wake_all_hands_out_ebusy_with_a_single_vmm_thread():
    """No second VMM thread is needed: the one thread's clear of vcpu2 wakes
    vcpu0, which waits on vcpu1, between its s2 and s3 (docs/model.md had
    it that a second thread was)."""
    scenario = load(str(ONE_THREAD))
    assert [name for name, _ in scenario.program.threads] == ["vmm"]
    got = check(scenario, "wake-all").properties["no-bogus-status"]
    assert got.verdict == "violated"
    assert got.schedule == ("vmm",) * 4 + ("vcpu0",) * 4 + ("vmm",) * 3 + ("vcpu0",)
    assert check(scenario, "posted").properties["no-bogus-status"].verdict == "holds"
    assert check(scenario, "wake-all-retry").properties["no-bogus-status"].verdict == "holds"


# -- the order of a vCPU's steps does not decide a verdict ----------------------
#
# The model's tables give `service`, `resume`, `leave` and an op's first step
# each its own guard and no order among them; hvtui takes leave, then
# service, then the op (vcpu_run()'s order). reference.literal lets the
# vCPU take any step whose guard holds: a reader of the tables alone. Its
# verdicts must be hvtui's.


def test_the_literal_model_lets_a_vcpu_run_on_with_its_own_request_pending():
    """What makes the comparison below worth making: vcpu0 flushes itself,
    then does kernel work. hvtui (and reference.model) service the request
    vcpu0 raised on itself before its next op, as vcpu_enter_guest() does;
    reference.literal may start the kernel work first, so the kernel work
    overlaps the ioctl's sync one step sooner."""
    p = Program(
        2,
        ((Flush("f", (0,), spec=[0]), KernelWork("k")), ()),
        (("vmm", (SetInhibit("s", 1, True),)),),
        initial_mode=((1, "user"),),
    )
    stall = "sync-waits-for-flushes-only"
    fixed = explore(p, "posted")[stall]
    literal = explore(p, "posted", model=Literal)[stall]
    assert fixed.schedule == ("vcpu0",) * 6 + ("vmm",) * 4  # enter request complete service vmexit
    assert literal.schedule == ("vcpu0",) * 5 + ("vmm",) * 4  # no service before vmexit
    assert check(as_scenario(p, "posted"), "posted").properties[stall].schedule == fixed.schedule


LIBRARY = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "many-vcpus-4096.yaml")
LITERAL_BOUND = 5_000  # states of reference.literal's search; `... literal` in crosscheck: more


def test_the_library_has_the_same_verdicts_whatever_step_a_vcpu_takes_first():
    """Every library scenario under every variant, but those whose literal
    state space is past the bound (the biggest few: CI time), which must
    stay few so the test cannot pass by comparing nothing."""
    diff, compared = [], 0
    for path in LIBRARY:
        program_ = load(str(path)).program
        for variant in VARIANTS:
            found = verdict_disagreements(program_, variant, max_states=LITERAL_BOUND)
            if found is not None:
                compared += 1
                diff += [f"{path.name}: {line}" for line in found]
    assert not diff, "\n".join(diff)
    assert compared >= 0.75 * len(LIBRARY) * len(VARIANTS), compared


def test_wide_programs_have_the_same_verdicts_whatever_step_a_vcpu_takes_first():
    counts, found = batch(8, 3, 5_000, programs=wide_programs(), compare=verdict_disagreements)
    assert not found, "\n".join(found)
    assert counts["compared"] >= 0.75 * counts["programs"] * len(VARIANTS), counts


# -- the loader, against kvm_hv_flush_tlb() ----------------------------------------


def test_a_mask_naming_a_vcpu_that_does_not_exist_flushes_the_ones_that_do():
    text = (
        "name: m\nvcpus: 2\nactors:\n  vcpu0:\n"
        "    - {id: f, op: flush, targets: {mask: 0xff}}\n"
        "    - {id: g, op: flush, targets: {sparse: {0: 0x2, 1: 0x1}}}\n"
    )
    f, g = parse(text, "m.yaml").program.vcpu_ops[0]
    assert f.targets == (0, 1) and g.targets == (1,)


def test_a_zero_mask_flushes_every_vcpu_as_kvm_hv_flush_tlb_reads_it():
    """kvm_hv_flush_tlb(): `all_cpus = (flush.flags & HV_FLUSH_ALL_PROCESSORS) ||
    flush.processor_mask == 0` (the WS2012 workaround), so a zero mask checks and
    flushes every vCPU; bits only past the last vCPU name nobody."""
    text = (
        "name: m\nvcpus: 3\ninitial: {inhibit: [2], mode: {2: user}}\nactors:\n  vcpu0:\n"
        "    - {id: f, op: flush, targets: {mask: 0}}\n"
        "    - {id: g, op: flush, targets: {mask: 0xf0}}\n"
    )
    sc = parse(text, "m.yaml")
    f, g = sc.program.vcpu_ops[0]
    assert f.targets == (0, 1, 2) and g.targets == ()
    # the zero mask reaches the inhibited vcpu2, which the VMM never clears:
    # vcpu0 waits on it by design (an empty set would let every op finish)
    assert check(sc, "posted").properties["progress"].verdict == "blocked-by-design"

"""What the workbench's keys do to the session, without a screen.

Bench is the workbench minus Textual: every key is one of its methods. Each
test walks what a reviewer would do and holds the session against a fresh
replay of its recorded actors (`replayed_state`), the one reference for
"the state shown is exactly the state of these steps".
"""

from __future__ import annotations

import random
import textwrap

import pytest
from workbench_support import (
    DEMO,
    IDLE,
    SUSPEND_WAKE,
    demo,
    on_file,
    random_session,
    replayed_state,
    scenario,
)

from hvtui.errors import InputError
from hvtui.model.state import GUEST, USER, Exit, Run, SetInhibit
from hvtui.scenario.load import load
from hvtui.view.bench import Bench, describe_changes
from hvtui.view.library import scenario_files


def names(bench: Bench) -> list[str]:
    return bench.trace()[: bench.session.pos]


def test_the_demo_opens_at_step_0_with_its_schedule_as_the_recorded_future():
    bench = Bench.open(demo())
    assert bench.session.pos == 0
    assert bench.trace() == list(demo().schedule)
    actor, why = bench.next_actor()
    assert (bench.engine.names[actor], why) == ("vmm", "recorded")


def test_at_end_runs_the_schedule_and_then_round_robin_until_nothing_can_step():
    bench = Bench.open(demo(), at_end=True)
    assert bench.session.at_end
    assert bench.trace()[:10] == list(demo().schedule)
    assert bench.session.first_violations() == {"no-flush-while-inhibited": 17}


def test_step_back_returns_the_identical_state_every_time():
    bench = Bench.open(demo())
    states = [bench.session.state]
    while bench.step() is not None:
        states.append(bench.session.state)
    assert len(states) == 18
    for pos in range(17, -1, -1):
        assert bench.session.state == states[pos] == replayed_state(bench)
        assert bench.back() is (pos > 0)
    assert bench.session.pos == 0


def test_forward_after_back_walks_the_same_recorded_steps():
    bench = Bench.open(demo())
    bench.advance(100)
    events = list(bench.session.events)
    bench.goto(3)
    bench.advance(100)
    assert bench.session.events == events


def test_choosing_another_actor_takes_it_and_drops_the_recorded_future():
    bench = Bench.open(demo())
    assert [bench.engine.names[a] for a in bench.engine.enabled(bench.session.state)] == [
        "vcpu0",
        "vmm",
    ]
    chosen = bench.cycle_actor()  # after the recorded vmm comes vcpu0
    assert bench.engine.names[chosen] == "vcpu0"
    assert bench.next_actor() == (chosen, "chosen")
    bench.step()
    assert bench.trace() == ["vcpu0"]
    assert bench.session.events[0].step == "enter"
    assert bench.next_actor()[1] == "round robin"
    assert bench.session.state == replayed_state(bench)


def test_choosing_the_recorded_actor_keeps_the_recorded_future():
    bench = Bench.open(demo())
    bench.cycle_actor()
    bench.cycle_actor()  # round again to vmm, the recorded one
    bench.step()
    assert bench.trace() == list(demo().schedule)


def test_toggle_inhibit_on_a_vcpu_in_kvm_run_wraps_the_ioctl_in_exit_and_run():
    bench = Bench.open(scenario(IDLE))
    ops = bench.toggle_inhibit(1)
    assert ops == (Exit("kick1", 1), SetInhibit("inh1", 1, True), Run("run1", 1))
    assert dict(bench.program.threads)["vmm"] == ops
    bench.advance(100)
    v = bench.session.state.vcpus[1]
    assert (v.inhibit, v.mode) == (True, GUEST)
    assert [e.step for e in bench.session.events if e.actor == "vmm"] == [
        "exit", "lock", "compare", "write", "sync", "synced", "return", "run",
    ]  # fmt: skip


def test_toggle_inhibit_on_a_vcpu_outside_kvm_run_adds_only_the_ioctl():
    bench = Bench.open(scenario(IDLE))
    assert bench.toggle_inhibit(2) == (SetInhibit("inh2", 2, True),)
    bench.advance(100)
    assert bench.session.state.vcpus[2].inhibit
    assert bench.session.state.vcpus[2].mode == USER


def test_toggle_twice_before_the_vmm_ran_sets_then_clears():
    bench = Bench.open(scenario(IDLE))
    bench.toggle_inhibit(2)
    assert bench.toggle_inhibit(2) == (SetInhibit("clr2", 2, False),)
    bench.advance(100)
    assert not bench.session.state.vcpus[2].inhibit
    assert [e.text for e in bench.session.events if e.step == "write"] == [
        "WRITE_ONCE(tlb_flush_inhibit): vcpu 2 = 1",
        "WRITE_ONCE(tlb_flush_inhibit): vcpu 2 = 0",
    ]


def test_added_op_ids_never_clash_with_the_files():
    bench = Bench.open(demo())  # the demo's vmm already has a `run1`
    ops = bench.toggle_inhibit(1)
    assert [op.id for op in ops] == ["kick1", "clr1", "run1-2"]


def test_fire_flush_targets_the_marked_vcpus_else_all():
    bench = Bench.open(scenario(IDLE))
    everyone = bench.fire_flush(0)
    assert (everyone.targets, everyone.spec) == ((0, 1, 2), "all")
    bench.toggle_mark(2)
    bench.toggle_mark(1)
    bench.toggle_mark(2)
    marked = bench.fire_flush(0)
    assert (marked.id, marked.targets, marked.spec) == ("flush0-2", (1,), [1])
    assert bench.program.vcpu_ops[0] == (everyone, marked)
    bench.advance(1000)
    assert bench.session.state.vcpus[1].flushes == 2


def test_an_edit_keeps_the_position_the_recorded_steps_and_the_state():
    bench = Bench.open(demo())
    bench.advance(7)
    before = bench.session.state
    bench.fire_flush(3)
    bench.toggle_inhibit(2)
    assert bench.session.pos == 7
    assert bench.trace() == list(demo().schedule)
    assert bench.session.state.vcpus == before.vcpus
    assert bench.session.state == replayed_state(bench)
    assert bench.edited()


def test_switching_variant_replays_the_same_actors_and_says_where_it_diverged():
    bench = Bench.open(demo())
    bench.advance(100)
    replayed = bench.switch_variant("request-first")
    # request-first raises vcpu0's requests before its checks: the log reads
    # differently from step 4, and at step 14 the VMM's synchronize_srcu is
    # still waiting for vcpu0, which the posted order had let finish.
    assert replayed.first_diff == 4
    assert (replayed.steps, replayed.total) == (13, 17)
    assert replayed.why == "step 14: vmm waits at synced (synchronize_srcu waits for reader vcpu0)"
    assert replayed.describe().startswith("replayed 13 of 17 steps; diverged at step 14")
    assert bench.session.pos == 13
    assert names(bench) == bench.trace()[:13]
    assert bench.session.state == replayed_state(bench)


def test_switching_back_replays_everything_that_still_steps():
    bench = Bench.open(demo())
    bench.advance(5)
    replayed = bench.switch_variant("no-sync")
    assert replayed.why == ""
    assert bench.session.pos == 5
    assert bench.variant == "no-sync"


def test_run_to_the_next_event_stops_at_each_suspend_wake_and_violation():
    bench = Bench.open(scenario(SUSPEND_WAKE))
    stops = []
    while (reason := bench.advance(1000, interest=True)) == "interest":
        event = bench.session.events[bench.session.pos - 1]
        stops.append((event.time, event.text))
    assert reason == "end"
    assert stops == [
        (8, "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu 0 waiting on 1"),
        (14, "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"),
    ]
    assert bench.back_to_interest() == 14
    assert bench.back_to_interest() == 8
    assert bench.back_to_interest() == 0

    violating = Bench.open(demo())
    assert violating.advance(1000, interest=True) == "interest"
    assert violating.session.pos == 17
    assert violating.session.violations[16] == ("no-flush-while-inhibited",)


def test_advance_to_a_step_past_the_recorded_ones_steps_round_robin():
    bench = Bench.open(demo())
    assert bench.advance(1000, to=12) == "reached"
    assert bench.session.pos == 12
    assert bench.advance(1000, to=500) == "end"
    assert bench.session.pos == 17


def test_reload_keeps_the_position_when_the_trace_still_replays(tmp_path):
    path, bench = on_file(tmp_path, SUSPEND_WAKE)
    bench.advance(9)
    path.write_text(SUSPEND_WAKE + "  vmm:second:\n    - {id: k2, op: exit, vcpu: 2}\n")
    message = bench.reload()
    assert message == "vmm:second: +k2; replayed all 9 steps; at step 9"
    assert bench.session.pos == 9
    assert bench.session.state == replayed_state(bench)


def test_reload_says_what_changed_where_the_trace_no_longer_replays(tmp_path):
    path, bench = on_file(tmp_path, SUSPEND_WAKE)
    bench.advance(12)
    bench.fire_flush(2)
    path.write_text(SUSPEND_WAKE.replace("initial: {inhibit: [1]}", "initial: {inhibit: [2]}"))
    message = bench.reload()
    # vcpu1 is no longer inhibited: vcpu0's check passes, it never suspends,
    # and its hypercall is over by the step the trace gave it next.
    assert message == (
        "initial.inhibit [1] -> [2]; 1 op added here dropped; replayed 9 of 12 steps; "
        "diverged at step 10: vcpu0 has finished its ops; the log reads differently from "
        "step 3; moved to step 9 (was 12)"
    )
    assert bench.session.state == replayed_state(bench)
    assert not bench.edited()


def test_reload_of_a_broken_file_changes_nothing(tmp_path):
    path, bench = on_file(tmp_path, SUSPEND_WAKE)
    bench.advance(4)
    session = bench.session
    path.write_text(SUSPEND_WAKE.replace("vcpus: 3", "vcpus: 0"))
    with pytest.raises(InputError, match=r"s.yaml:3:8: vcpus: 0 is out of range"):
        bench.reload()
    assert bench.session is session and session.pos == 4


def test_describe_changes_names_each_actor_and_op():
    old = scenario(SUSPEND_WAKE).program
    new = scenario(
        textwrap.dedent("""
        name: suspend-wake
        vcpus: 4
        initial: {inhibit: [1]}
        actors:
          vcpu0: [{id: f, op: flush, targets: [1, 2]}]
          vcpu3: [{id: g, op: flush}]
          vmm:
            - {id: kick, op: exit, vcpu: 1}
            - {id: clr, op: set_inhibit, vcpu: 1, value: false}
        """)
    ).program
    assert describe_changes(old, new) == ["vcpus 3 -> 4", "vcpu0: ~f", "vcpu3: +g", "vmm: -run1"]
    assert describe_changes(old, old) == []


def test_a_counterexample_opens_at_step_0_with_its_schedule_ahead():
    bench = Bench.open(demo())
    bench.advance(5)
    schedule = ["vcpu0", "vcpu0", "vmm"]
    replayed = bench.load_trace(bench.program, "no-sync", schedule)
    assert replayed.why == "" and replayed.steps == 3
    assert bench.session.pos == 0 and bench.trace() == schedule and bench.variant == "no-sync"


def test_reload_to_fewer_vcpus_forgets_the_marks_beyond_them(tmp_path):
    path, bench = on_file(tmp_path, SUSPEND_WAKE)
    bench.toggle_mark(1)
    bench.toggle_mark(2)
    path.write_text(SUSPEND_WAKE.replace("vcpus: 3", "vcpus: 2"))
    assert bench.reload().startswith("vcpus 3 -> 2; ")
    assert bench.marked == {1}
    assert bench.fire_flush(0).targets == (1,)


def test_the_sessions_first_violations_index_agrees_with_a_scan_of_the_trace():
    """Random workbench sessions step, go back and replace their recorded future."""
    rng = random.Random(7)

    violated = []

    def agrees(bench: Bench) -> None:
        s = bench.session
        scan: dict[str, int] = {}
        for i, found in enumerate(s.violations[: s.pos]):
            for prop in found:
                scan.setdefault(prop, i + 1)
        assert s.first_violations() == scan
        violated.append(bool(scan))

    library = [p for p in scenario_files(str(DEMO)) if load(p).vcpus <= 16]
    for _ in range(60):
        random_session(rng, rng.choice(library), after=agrees)
    assert 20 < sum(violated) < len(violated)  # moments with violations and without

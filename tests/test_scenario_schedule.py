"""Schedules: who takes each next step, from a file, from `check`, or typed as --schedule.

A schedule names actors; replay() takes them in order and refuses, at the
entry that cannot be taken, with why that actor waits and who could step.
"""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

from hvtui.errors import InputError
from hvtui.scenario.load import SCHEDULE_ARG, load, parse, parse_schedule_arg, replay, with_schedule

RACE = str(SCENARIOS / "reviewer-race.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "vmm,vcpu1,vcpu0",
        "vmm, vcpu1, vcpu0",
        "vmm vcpu1 vcpu0",
        "  vmm  vcpu1,vcpu0  ",
        "[vmm, vcpu1, vcpu0]",  # as `check` prints it
        '["vmm", "vcpu1", "vcpu0"]',  # as `check --json` prints it
    ],
)
def test_a_typed_schedule_reads_with_commas_spaces_or_as_pasted(text):
    assert parse_schedule_arg(text) == ("vmm", "vcpu1", "vcpu0")


def test_an_empty_schedule_is_no_schedule():
    assert parse_schedule_arg("") == ()
    assert parse_schedule_arg("  ") == ()


def test_names_remember_their_columns():
    schedule = parse_schedule_arg("vmm,  vcpu1 vcpu0")
    assert schedule.positions == ((1, 1), (1, 7), (1, 13))
    assert schedule.source == SCHEDULE_ARG


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ",vmm",
            "--schedule:1:1: schedule[0]: a comma with no actor name before it "
            "(expected names separated by commas or spaces)",
        ),
        (
            "vmm,,vcpu0",
            "--schedule:1:5: schedule[1]: a comma with no actor name before it "
            "(expected names separated by commas or spaces)",
        ),
        ("vmm,", "--schedule:1:4: schedule[1]: a trailing comma (expected an actor name after it)"),
        (
            "vmm [vcpu0]",
            "--schedule:1:5: schedule[1]: unexpected '[' "
            "(expected actor names separated by commas or spaces)",
        ),
    ],
)
def test_a_malformed_schedule_is_refused_at_its_column(text, message):
    with pytest.raises(InputError) as error:
        parse_schedule_arg(text)
    assert str(error.value) == message


def test_an_unknown_actor_is_refused_when_the_schedule_meets_the_scenario():
    scenario = load(RACE)
    with pytest.raises(InputError) as error:
        with_schedule(scenario, parse_schedule_arg("vmm vcpu1 hypervisor"))
    assert str(error.value) == (
        "--schedule:1:11: schedule[2]: unknown actor 'hypervisor' "
        "(expected one of the scenario's actors: vcpu0, vcpu1, vcpu2, vcpu3, vmm)"
    )


def test_a_typed_schedule_replaces_the_files_and_replays():
    scenario = with_schedule(load(RACE), parse_schedule_arg("vmm vcpu1 vcpu0"))
    assert scenario.schedule == ("vmm", "vcpu1", "vcpu0")
    session = replay(scenario)
    assert [e.step for e in session.events] == ["exit", "leave", "enter"]


def test_a_step_that_cannot_be_taken_is_named_in_the_argument():
    scenario = with_schedule(load(RACE), parse_schedule_arg("vcpu0, vmm, vmm"))
    with pytest.raises(InputError) as error:
        replay(scenario)
    assert str(error.value) == (
        "--schedule:1:13: schedule[2]: vmm cannot take step 3: it waits at lock: vcpu1 is in "
        "KVM_RUN (guest), which holds vcpu->mutex "
        "(expected one of the actors that can step: vcpu0, vcpu1)"
    )


def test_a_schedule_from_check_has_no_positions_but_names_the_file():
    # check hands over a plain tuple: errors name the scenario, without a position
    scenario = with_schedule(load(RACE), ("vcpu0", "vmm", "vmm"))
    with pytest.raises(InputError) as error:
        replay(scenario)
    assert str(error.value).startswith(f"{RACE}: schedule[2]: vmm cannot take step 3: ")


def test_a_file_schedule_that_cannot_be_taken_points_at_its_entry():
    text = (
        "name: s\nvcpus: 2\ninitial: {inhibit: [1], mode: {1: user}}\n"
        "actors:\n  vcpu0:\n    - {op: flush, targets: [1]}\n"
        "schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vcpu0]\n"
    )
    with pytest.raises(InputError) as error:
        replay(parse(text, "s.yaml"))
    # five steps suspend vcpu0 on vcpu1, and nobody will clear vcpu1's flag
    assert str(error.value) == (
        "s.yaml:7:47: schedule[5]: vcpu0 cannot take step 6: it waits at resume: suspended on "
        "vcpu1 (kvm_vcpu_block) (nothing can step after step 5: the run is over)"
    )


def test_with_schedule_keeps_the_scenario_equal_apart_from_the_schedule():
    scenario = load(RACE)
    again = with_schedule(scenario, scenario.schedule)
    assert again == scenario
    assert again.schedule_source == "" and again.schedule_pos == ()

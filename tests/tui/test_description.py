"""The scenario's description, as the contract has it, is shown in the workbench:
its first sentence on the message line when the file opens, all of it at the top of
the help screen."""

from __future__ import annotations

from workbench_support import demo, opened, screen_lines

from hvtui.scenario.load import parse
from hvtui.tui.app import WorkbenchApp

PLAIN = """\
name: plain
vcpus: 2
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
"""

LISTED = """\
name: listed
description: |
  Two vCPUs, e.g. the smallest race. Nothing
  else is in it.

  - a listed line
vcpus: 2
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
"""


async def test_the_first_sentence_greets_and_the_help_screen_holds_the_rest():
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (200, 40)) as pilot:
        lines = screen_lines(app)
        assert any(
            "reviewer-race: The reviewer's question on 5/7: vcpu0's flush checks vcpu1's flag, "
            "then the VMM inhibits vcpu1 before vcpu0 raises its flush request. (? for the rest)"
            in line
            for line in lines
        )
        await pilot.press("question_mark")
        await pilot.pause()
        shown = " ".join(" ".join(screen_lines(app)).split())
        assert "reviewer-race · reviewer-race.yaml · posted" in shown
        assert "Notice vcpu1 flush inside its inhibit window (step 17" in shown


async def test_at_80_columns_the_greeting_keeps_to_one_line():
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (80, 24)):
        lines = screen_lines(app)
        greeting = [i for i, line in enumerate(lines) if "reviewer-race: The reviewer's" in line]
        assert len(greeting) == 1
        assert lines[greeting[0]].rstrip().endswith("…")
        assert "flag, then the VMM" not in lines[greeting[0] + 1]


async def test_without_a_description_the_keys_hint_greets():
    app = WorkbenchApp(parse(PLAIN, "plain.yaml"), recover=False)
    async with opened(app, (100, 30)):
        assert any("? shows every key; ctrl+p the palette" in line for line in screen_lines(app))


async def test_a_sentence_ends_at_a_full_stop_and_a_list_stays_a_list():
    app = WorkbenchApp(parse(LISTED, "listed.yaml"), recover=False)
    async with opened(app, (100, 30)) as pilot:
        assert any(
            "listed: Two vCPUs, e.g. the smallest race. (?" in line for line in screen_lines(app)
        )
        await pilot.press("question_mark")
        await pilot.pause()
        lines = screen_lines(app)
        assert any("Two vCPUs, e.g. the smallest race. Nothing else is in it." in x for x in lines)
        assert any("- a listed line" in line for line in lines)
        assert not any("in it. - a listed" in line for line in lines)

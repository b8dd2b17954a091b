"""What a first-time user met driving the workbench in a real terminal, each pinned by the
keys they pressed and what the screen then showed.

Every test here failed before its fix: the screen is read as text (`screen_lines`),
the way a person reads it, not the widgets' own state.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from textual import events
from workbench_support import ROOT, demo, opened, screen_lines, toasts

from hvtui.model.engine import Engine
from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.view import recovery
from hvtui.view.glyphs import STATES

MANY = ROOT / "scenarios" / "many-vcpus-4096.yaml"


def many() -> WorkbenchApp:
    return WorkbenchApp(load(str(MANY)), recover=False)


async def until(pilot, seen, tries: int = 100) -> list[str]:
    """The screen's lines once `seen(lines)` holds: the palette searches in a task of its own,
    which a loaded machine runs late. Fails after `tries` pauses of 0.05 s."""
    for _ in range(tries):
        lines = screen_lines(pilot.app)
        if seen(lines):
            return lines
        await pilot.pause(0.05)
    raise AssertionError("\n".join(lines))


def dialog_text(app: WorkbenchApp) -> str:
    """The words inside the dialog's frame (`█ ... █`), its lines joined as one reads them."""
    inside = []
    for line in screen_lines(app):
        left, right = line.find("█"), line.rfind("█")
        if right > left >= 0:
            inside.append(line[left + 1 : right].strip(" ▀▄"))
    return " ".join(part for part in inside if part)


async def test_shrinking_the_terminal_mid_session_lays_the_screen_out_for_the_new_size():
    """200x60 -> 80x24 kept the two-bank rows of 200 columns: the selected vCPU's panel,
    the actors and the event log were pushed off the screen."""
    fresh = many()
    async with opened(fresh, (80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        expected = screen_lines(fresh)
    app = many()
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        assert any("─vcpu0─" in line for line in lines)
        assert any("─events─" in line for line in lines)
        assert lines == expected  # the same screen as a session started at 80x24


async def test_growing_the_terminal_mid_session_gives_the_big_screen_its_zoom():
    fresh = many()
    async with opened(fresh, (200, 60)) as pilot:
        expected = screen_lines(fresh)
    app = many()
    async with opened(app, (80, 24)) as pilot:
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        await pilot.pause()
        assert screen_lines(app)[1].startswith("─vCPUs 4096 · 1 char/vCPU─")
        assert screen_lines(app) == expected


async def test_the_overwrite_question_is_shown_whole(tmp_path, monkeypatch):
    """The dialog cut its one line at its width: `... exists. Overwr`, the question lost."""
    monkeypatch.chdir(tmp_path)
    name = "a-session-saved-earlier-under-a-long-descriptive-name.yaml"
    (tmp_path / name).write_text("precious\n")
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("s", "ctrl+u", *name, "enter")
        await pilot.pause()
        text = dialog_text(app)
        assert "exists. Overwrite it?" in text
        assert name in text.replace(" ", "")  # the file, even where the line breaks


async def test_the_branches_dialog_says_what_c_does_in_full():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("a", "right_square_bracket", "b")  # vcpu0 before the recorded vmm
        await pilot.pause()
        text = dialog_text(app)
        assert "c compares it with the current line side by side" in text


async def test_side_by_side_a_violating_step_stays_in_its_columns():
    """A ✗ was put before the step number, pushing that row two columns right of the rest."""
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("a", "right_square_bracket", "b", "c")  # vcpu0 first, then compare
        await pilot.pause()
        rows = [line for line in screen_lines(app) if " │ " in line]
        violating = [row for row in rows if "✗" in row.split(" │ ")[0]]
        assert violating, "the recorded run's step 17 violates no-flush-while-inhibited"
        actor_column = {re.search(r"\d (vcpu\d|vmm)", row).start(1) for row in rows}
        assert len(actor_column) == 1, violating[0]
        assert len({row.index(" │ ") for row in rows}) == 1


async def test_reload_asks_before_it_drops_the_ops_added_here(tmp_path):
    """`r` read the file again and dropped the ops added in the session without a word
    but the message: one stray key lost the edits."""
    path = tmp_path / "race.yaml"
    path.write_text(Path(ROOT / "scenarios" / "reviewer-race.yaml").read_text())
    app = WorkbenchApp(load(str(path)))
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("right", "right", "i", "r")  # vcpu2's inhibit, then reload
        await pilot.pause()
        question = dialog_text(app)
        assert "Reloading drops the 3 ops added here, which no file holds. Save them" in question
        await pilot.press("escape")  # cancel: the edit is still there
        await pilot.pause()
        assert "unsaved" in screen_lines(app)[0]
        assert app.bench.unsaved_ops() == 3
        await pilot.press("r", "d")  # discard: the file as it is on disk
        await pilot.pause()
        assert "unsaved" not in screen_lines(app)[0]
        assert "3 ops added here dropped" in toasts(app)


async def test_after_a_discard_the_next_files_work_still_leaves_a_recovery_file(tmp_path):
    """Discarding once (to open another file) turned recovery off for the rest of the
    session: the next file's work was lost to a closed terminal."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (first, second):
        path.write_text(Path(ROOT / "scenarios" / "two-waiters.yaml").read_text())
    app = WorkbenchApp(load(str(first)))
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("i")
        app.open_file(str(second))
        await pilot.pause()
        await pilot.press("d")  # discard a.yaml's edit, open b.yaml
        await pilot.pause()
        assert app.bench.origin.file == str(second)
        await pilot.press("i")
        await pilot.pause()
        app._signalled()  # what SIGHUP (the terminal closed) runs
        await pilot.pause()
    assert not recovery.recovery_path(str(first)).exists()
    assert recovery.recovery_path(str(second)).is_file()


async def test_the_palette_offers_one_quit_one_help_and_one_screenshot():
    """Textual's "Quit: Quit the application as soon as possible", "Keys" and "Screenshot"
    sat beside the workbench's own "app: quit" (which asks first), "app: help" and
    "view: screenshot" (which says where the file went)."""
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        offered = {command.title for command in app.get_system_commands(app.screen)}
        assert {"app: quit", "app: help", "view: screenshot", "Theme"} <= offered
        assert not {"Quit", "Keys", "Screenshot"} & offered
        await pilot.press("ctrl+p")  # and what the palette shows for a search
        for word, ours in (("quit", "app: quit"), ("screenshot", "view: screenshot")):
            await pilot.press("ctrl+u", *word)
            lines = await until(pilot, lambda lines, ours=ours: ours in map(str.strip, lines))
            assert word.capitalize() not in map(str.strip, lines)


async def test_the_end_of_a_violating_run_says_what_it_violated():
    """`e` on the demo said only "the end, step 17: progress holds" with a red ✗ above it."""
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert screen_lines(app)[-2].strip() == (
            "! the end, step 17: no-flush-while-inhibited violated at 17; progress holds"
        )


async def test_a_jump_back_says_where_it_is_not_where_the_last_run_ended():
    """After `e` then `g 0`, the message line still said "the end, step 17"."""
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("e", "g", "0", "enter")
        await pilot.pause()
        assert "step 0/17" in screen_lines(app)[0]
        assert screen_lines(app)[-2].strip() == "ℹ at step 0"
        await pilot.press("g", "2", "0", "enter")  # past the end: stepped, then said
        await pilot.pause()
        await pilot.pause()
        assert "step 17/17" in screen_lines(app)[0]
        assert "the end, step 17" in screen_lines(app)[-2]


async def test_the_half_block_map_says_what_a_filled_half_is():
    """At 120x40 the 4096 vCPUs open in half blocks, the legend hidden, and the legend (L)
    explains only the cells' glyphs: nothing said what `b12/b13 ▄▄▄▄` meant."""
    app = many()
    async with opened(app, (120, 40)) as pilot:
        assert screen_lines(app)[1].startswith("─vCPUs 4096 · ½ char/vCPU · ▀▄ not idle─")
        await pilot.press("equals_sign")  # the filter: a filled half is now that state
        await pilot.pause()
        assert screen_lines(app)[1].startswith(f"─vCPUs 4096 · ½ char/vCPU · ▀▄ {STATES[0].name}─")


async def test_back_to_step_0_and_forward_again_gives_the_identical_screen():
    """`e` after five `]` left the event log's scrollbar thumb at the top while the log
    showed its end: the same step 17 drew two different screens."""
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press(*["right_square_bracket"] * 5, "e")
        await pilot.pause()
        first = screen_lines(app)
        await pilot.press("g", "0", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert screen_lines(app) == first
        for _ in range(17):  # and back step by step, then forward step by step
            await pilot.press("left_square_bracket")
        for _ in range(17):
            await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen_lines(app)[:-2] == first[:-2]  # the message: the last step's


async def test_an_edit_at_4096_vcpus_makes_one_engine_not_two(monkeypatch):
    """`i` and `f` took ~0.18 s of the UI thread at 4096 vCPUs; making an Engine is a
    sizeable part of it, and the title's quick run-length made a second one."""
    app = many()
    async with opened(app, (120, 40)) as pilot:
        made = []  # the thread each Engine was made in (the run's measure has its own)
        original = Engine.__init__

        def counted(self, *args, **kwargs):
            made.append(threading.get_ident())
            original(self, *args, **kwargs)

        monkeypatch.setattr(Engine, "__init__", counted)
        await pilot.press("i")
        await pilot.pause()
        assert "vmm: added set_inhibit(0, false)" in toasts(app)
        assert made.count(threading.get_ident()) == 1  # the edited program's, reused


async def test_the_save_dialog_counts_the_steps_the_file_records(tmp_path, monkeypatch):
    """After an edit at step 0 the dialog said "Save the session (10 steps)" beside the
    suggested name `two-waiters-43-steps.yaml`: two counts, neither explained."""
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(load(str(ROOT / "scenarios" / "two-waiters.yaml")))
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("i", "s")
        await pilot.pause()
        scheduled = len(app._to_scenario().schedule)
        assert f"a schedule of {scheduled} steps, then round robin to the end" in dialog_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert f": {scheduled} steps; `hvtui run" in toasts(app)


async def test_a_long_scenario_name_never_pushes_the_step_off_the_title(tmp_path):
    """A saved counterexample's long name filled the 80 columns: no variant, no step."""
    text = (ROOT / "scenarios" / "two-waiters.yaml").read_text()
    name = "two-waiters-" + "with-a-name-as-long-as-a-saved-counterexample-gets-" * 2
    path = tmp_path / "long.yaml"
    path.write_text(text.replace("name: two-waiters", f"name: {name}", 1))
    app = WorkbenchApp(load(str(path)))
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        title = screen_lines(app)[0]
        assert re.search(r"— posted · step 1/\d+$", title.rstrip()) and title.startswith(name[:20])
        assert "…" in title
        await pilot.resize_terminal(120, 40)  # wider: more of the name, the flags kept
        await pilot.pause()
        await pilot.pause()
        wider = screen_lines(app)[0]
        assert re.search(r"— posted · step 1/\d+$", wider.rstrip())
        assert len(wider.strip()) > len(title.strip())


async def test_escape_stops_a_run_and_the_title_stops_saying_running():
    """After escape the message said "stopped at step 14240" under a title that still
    said "· running", until the next key."""
    app = many()
    async with opened(app, (120, 40)) as pilot:
        # `e` and escape as the terminal sends them, without the pilot's wait for an
        # idle process: that wait lasts up to two seconds, and the whole run about one;
        # and each awaited on the screen, as a fixed sleep is too short on a loaded machine
        app._driver.send_message(events.Key("e", "e"))
        await until(pilot, lambda lines: "· running" in lines[0])  # 27,889 steps to go
        app._driver.send_message(events.Key("escape", None))
        lines = await until(pilot, lambda lines: "stopped at step" in lines[-2])
        lines = await until(pilot, lambda lines: "running" not in lines[0])
        pos = app.bench.session.pos
        assert f"stopped at step {pos}" in lines[-2] and f"step {pos}/" in lines[0]
        assert pos < 27_889

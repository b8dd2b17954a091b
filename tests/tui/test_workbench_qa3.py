"""A third round of a reviewer driving the workbench in a real terminal (tmux, at 80x24,
120x40, 200x60, 60x20 and 250x15, under NO_COLOR and TERM=screen), each defect pinned by
the keys they pressed and what the screen then showed.

Every test here failed before its fix; the screen is read as text, as a person reads it.
"""

from __future__ import annotations

from test_workbench_qa import until
from textual import events
from workbench_support import (
    DEMO,
    ROOT,
    SUSPEND_WAKE,
    app_on,
    demo,
    opened,
    screen_lines,
    settle,
    toasts,
)

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.view.glyphs import LEGEND, STATES

MANY = ROOT / "scenarios" / "many-vcpus-4096.yaml"


async def test_a_short_terminal_still_shows_the_event_log_above_the_keys():
    """At 60x20 and 250x15 the bands kept their 9 and 6 rows: the event log's rows sat
    under the message line and the keys (at 250x15 even its rule was gone), so the
    current step could not be seen at all."""
    for size in ((60, 20), (250, 15)):
        app = WorkbenchApp(demo(), recover=False)
        async with opened(app, size) as pilot:
            await pilot.press(*["right_square_bracket"] * 3)
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == size[1], size
            current = [i for i, line in enumerate(lines) if line.startswith("▶     3 vcpu0 f")]
            assert current and current[0] < size[1] - 2, (size, "\n".join(lines))
            assert any(line.startswith("─events─") for line in lines[: current[0]]), size
            assert lines[-1].rstrip().endswith("? help"), size


async def test_back_to_the_previous_event_says_where_it_stopped():
    """`{` moved the session but left the message line as `}` or `e` had set it: at step
    0 it still read "step 17: vcpu1 service: violates no-flush-while-inhibited"."""
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        assert "step 17/17" in screen_lines(pilot.app)[0]
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        lines = screen_lines(pilot.app)
        assert "step 0/17" in lines[0]
        assert lines[-2].strip() == "ℹ no suspend, wake-up or violation before step 17: at step 0"
    async with opened(app_on(SUSPEND_WAKE, recover=False), (120, 40)) as pilot:
        await pilot.press("e", "left_curly_bracket")
        await pilot.pause()
        lines = screen_lines(pilot.app)
        woke = "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"
        assert lines[-2].strip().endswith(f": vmm wake 0: {woke}"), lines[-2]
        assert [line for line in lines if line.startswith("▶") and woke in line]
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        lines = screen_lines(pilot.app)
        suspended = "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu 0 waiting on 1"
        assert lines[-2].strip().endswith(f": vcpu0 s2: {suspended}"), lines[-2]
        assert [line for line in lines if line.startswith("▶") and suspended in line]


async def test_reload_of_a_file_deleted_since_it_was_opened_says_it_is_gone(tmp_path):
    """`r` after `rm` (or an editor's save that left a directory in its place) did
    nothing at all: the key was greyed out for want of a file, and the message line
    kept its last words, so the reviewer could not tell a reload from a dead key."""
    path = tmp_path / "race.yaml"
    path.write_text(DEMO.read_text())
    async with opened(WorkbenchApp(load(str(path)), recover=False), (120, 40)) as pilot:
        path.unlink()
        await pilot.press("r")
        await pilot.pause()
        assert toasts(pilot.app) == (
            f"✗ reload failed; nothing changed: {path}: cannot read the file: no such file "
            "or directory (expected a scenario file)"
        )
        path.mkdir()
        await pilot.press("r")
        await pilot.pause()
        assert f"{path}: is a directory" in toasts(pilot.app)


async def test_at_80x24_the_4096_vcpu_map_says_how_many_are_suspended():
    """Under 30 rows the state counts go in the grid's title, and the half-block map's
    box is 22 columns wide: the title read `vCPUs 4096 · ½ char…`, and nothing on the
    screen said that 315 vCPUs were suspended and 5 inhibited."""
    app = WorkbenchApp(load(str(MANY)), recover=False)
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        lines = screen_lines(app)
        assert "step 27889/27889" in lines[0]
        counts = [line for line in lines if "suspended 315" in line]
        assert counts and counts[0].lstrip().startswith("inhibited 5  suspended 315  blocked 315")
        assert lines[1].startswith("─vCPUs 4096 · ½ char/vCPU · ▀▄ ")
        current = [line for line in lines if line.startswith("▶  27889 vcpu4031")]
        assert current, "\n".join(lines)  # the log kept its rows


async def test_a_dense_zoom_of_a_few_vcpus_keeps_its_title_readable():
    """`z` on the 4-vCPU demo gave a box as wide as its four characters: its title read
    `v…`, so which zoom (and, with `=`, which filter) was on could not be read."""
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        await pilot.press("z")
        await pilot.pause()
        assert screen_lines(pilot.app)[1].startswith("─vCPUs 4 · 1 char/vCPU─")
        await pilot.press("z", "equals_sign")
        await pilot.pause()
        assert screen_lines(pilot.app)[1].startswith(
            f"─vCPUs 4 · ½ char/vCPU · ▀▄ {STATES[0].name}─"
        )


async def test_the_counts_line_never_cuts_off_the_filter_or_a_count_that_is_not_zero():
    """At 120 columns `=` to `lost wake-up` (a state the counts do not list) put
    `[only lost wake-up]` after seven zero counts, where the line was cut: `[only los…`;
    at 80 columns the line stopped at `exit pe…`."""
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        lost = next(i for i, state in enumerate(STATES) if state.name == "lost wake-up")
        await pilot.press(*["equals_sign"] * (lost + 1))
        await pilot.pause()
        lines = screen_lines(pilot.app)
        assert "[only lost wake-up]" in lines[14] and "…" not in lines[14], lines[14]
    async with opened(WorkbenchApp(demo(), recover=False), (80, 30)) as pilot:
        await pilot.press(*["right_square_bracket"] * 12)  # vcpu0 in its hypercall, kicked
        await pilot.pause()
        counts = screen_lines(pilot.app)[10].strip()
        assert counts == "inhibited 1  in hypercall 1  flush pending 1", counts


async def test_at_60_columns_the_selected_vcpus_fields_stay_in_their_two_columns():
    """At 60x20 the 4096 vCPUs' map kept at least 20 columns, leaving the selected vCPU's
    panel fewer than the 39 its lines need: `waiting_on -1 mode` on one line, its `user`
    on the next."""
    async with opened(WorkbenchApp(load(str(MANY)), recover=False), (60, 20)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        lines = screen_lines(pilot.app)
        for field in (
            "inhibit       yes     suspended    no",
            "waiting_on    -1      mode         user",
        ):
            assert any(line.rstrip().endswith(field) for line in lines), "\n".join(lines)
        assert any("next    nothing: done" in line for line in lines)


async def test_saving_to_a_folder_saves_in_it_under_the_suggested_name(tmp_path, monkeypatch):
    """Typing a folder in the save dialog asked "/tmp/work exists. Overwrite it?", and a
    yes said "not saved: ... is a directory": a question with no good answer."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "sessions"
    folder.mkdir()
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("a", "right_square_bracket", "s", "ctrl+u", *str(folder), "enter")
        await pilot.pause()
        saved = folder / f"{app._to_scenario().name}.yaml"
        assert "Overwrite" not in "\n".join(screen_lines(app))
        assert toasts(app).startswith(f"ℹ saved {saved}: ")
        assert load(str(saved)).schedule == ("vcpu0",)


async def test_a_key_that_moves_the_selection_right_after_a_step_is_not_undone():
    """`]` then `l` typed quickly (or `i` then `l` at 4096 vCPUs, where the edit takes a
    tenth of a second) left vcpu0 selected: the redraw after the step put the grid's
    cursor back where the app last heard it was, before the `l` that moved it; and an
    `i` right after an `l` toggled the vCPU the cursor had just left."""
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        app = pilot.app
        for key, char in (("right_square_bracket", "]"), ("l", "l"), ("i", "i"), ("l", "l")):
            # as the terminal sends them: no wait for the app to be idle between keys
            app._driver.send_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        assert " ─vcpu2─" in lines[1], lines[1]
        assert "step 1/" in lines[0] and "vmm: added exit(1), set_inhibit(1, " in toasts(app)


async def test_enter_in_the_verdict_table_loads_the_first_counterexample():
    """After `c` the table opened on its first row, `inhibit-holds  holds`, so the enter
    its `enter to load` invites did nothing at all: the dialog stayed, nothing said."""
    async with opened(WorkbenchApp(demo(), recover=False), (80, 24)) as pilot:
        await pilot.press("c")
        await settle(pilot)
        for _ in range(200):
            if "enter to load" in "\n".join(screen_lines(pilot.app)):
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        assert toasts(pilot.app).startswith("ℹ counterexample for no-flush-while-inhibited:")
        assert "enter to load" not in "\n".join(screen_lines(pilot.app))


async def test_side_by_side_a_kernel_line_cut_at_its_column_says_so():
    """At 120 columns each run of the comparison has 57 columns, and its kernel lines were
    cut there without a mark: `kvm_vcpu_kick: vcpu 1 exi`, read as a whole line."""
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        await pilot.press("a", "right_square_bracket", "b", "c")  # vcpu0 first, then compare
        await pilot.pause()
        rows = [line for line in screen_lines(pilot.app) if " │ " in line]
        left = [row.split(" │ ")[0] for row in rows]
        kick = next(half for half in left if "vmm   kick exit" in half)
        assert kick.rstrip().endswith("kvm_vcpu_kick: vcpu 1 ex…"), kick


async def test_the_legend_shown_on_a_short_terminal_is_shown_whole():
    """`L` at 80x24 fitted the legend into the grid's nine rows: `S→3 suspended on 3`,
    `S→? lost wake-up` and `· clear` were cut off, and vCPUs 2 and 3 with them."""
    async with opened(WorkbenchApp(demo(), recover=False), (80, 24)) as pilot:
        before = screen_lines(pilot.app)
        await pilot.press("L")
        await pilot.pause()
        text = "\n".join(screen_lines(pilot.app))
        for entry in LEGEND:
            assert f"{entry.sample} {entry.meaning}" in text, entry
        assert "  2 ·g·· ·     3 ·g·· ·" in text and "▶     0 initial state" in text
        await pilot.press("L")  # and hidden again: the screen as it was
        await pilot.pause()
        assert screen_lines(pilot.app) == before


async def test_an_event_line_cut_at_80_columns_ends_in_an_ellipsis():
    """At 80 columns the log cut `READ_ONCE(tlb_flush_inhibit): vcpu 1 is not inhibited`
    to `... vcpu 1 is not in` with nothing to say it went on: it read as a whole line."""
    async with opened(WorkbenchApp(demo(), recover=False), (80, 30)) as pilot:
        lines = screen_lines(pilot.app)
        check = next(line for line in lines if "vcpu0 f    check 1" in line)
        assert check.rstrip().endswith("READ_ONCE(tlb_flush_inhibit): vcpu 1 is not i…"), check
        short = next(line for line in lines if "vmm   inh  compare" in line)
        assert short.rstrip().endswith("vcpu 1 is 0"), short  # a whole line stays as it is


async def test_side_by_side_at_an_odd_width_both_runs_get_the_same_columns():
    """At 81 columns each row of the comparison was a column wider than its view, so the
    right run's lines lost a character more than the left's at the edge."""
    async with opened(WorkbenchApp(demo(), recover=False), (81, 24)) as pilot:
        await pilot.press("a", "right_square_bracket", "b", "c")
        await pilot.pause()
        rows = [line.strip("█ ") for line in screen_lines(pilot.app) if " │ " in line]
        assert rows
        for row in rows:
            left, right = row.split(" │ ")
            assert left.endswith("…") and right.endswith("…"), row
            assert len(left.lstrip("▶ ")) == len(right.lstrip(" ")), row


async def test_the_palette_chooses_the_selected_vcpus_thread_at_4096_vcpus():
    """`a` cycles through the actors that can step in actor order: at step 0 of the 4096
    vCPUs, making vcpu2000 step first took 1,999 presses; no other key or entry chose it."""
    app = WorkbenchApp(load(str(MANY)), recover=False)
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("slash", *"2000", "enter", "ctrl+p", *"choose vcpu2000")
        await until(pilot, lambda lines: any("step: choose vcpu2000" in x for x in lines))
        await pilot.press("enter")
        await pilot.pause()
        assert "─actors · next: vcpu2000 (chosen)─" in "\n".join(screen_lines(app))
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert any(x.startswith("▶     1 vcpu2000 ") for x in screen_lines(app))


async def test_the_jump_dialog_says_what_it_takes_instead_of_guessing():
    """`g -5` went quietly to step 0, a lone `-` ended the app in a ValueError, and
    enter on an empty field did nothing; each now says what it takes and stays open."""
    from test_workbench_qa import dialog_text

    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        await pilot.press("right_square_bracket", "right_square_bracket", "g", "minus", "5")
        await pilot.press("enter")
        await pilot.pause()
        assert "at least 0" in dialog_text(pilot.app)
        for _ in range(2):
            await pilot.press("backspace")
        await pilot.press("minus", "enter")
        await pilot.pause()
        assert "type a number (escape closes)" in dialog_text(pilot.app)
        await pilot.press("backspace", "enter")
        await pilot.pause()
        assert "type a number (escape closes)" in dialog_text(pilot.app)
        assert "step 2/17" in screen_lines(pilot.app)[0]
        await pilot.press("1", "2", "enter")
        await pilot.pause()
        assert "step 12/17" in screen_lines(pilot.app)[0]


async def test_one_step_reads_as_one_step():
    """The save dialog offered "a schedule of 1 steps", the jump dialog read
    "step 0..10 is recorded"."""
    from test_workbench_qa import dialog_text

    two = "name: two\nvcpus: 2\nactors:\n  vmm: [{id: k, op: exit, vcpu: 1}]\n"
    async with opened(app_on(two, recover=False), (120, 40)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert "step 0 is recorded (now at 0)" in dialog_text(pilot.app)
        await pilot.press("escape", "a", "right_square_bracket", "s")
        await pilot.pause()
        assert "a schedule of 1 step," in dialog_text(pilot.app)
    async with opened(WorkbenchApp(demo(), recover=False), (120, 40)) as pilot:
        await pilot.press("right_square_bracket", "g")
        await pilot.pause()
        assert "steps 0..10 are recorded (now at 1)" in dialog_text(pilot.app)

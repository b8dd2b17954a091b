"""Saving a workbench session: a scenario file that replays exactly what was done.

A saved file is the program with the ops added in the workbench plus the
schedule of every actor chosen, so `hvtui run` (the schedule, then round
robin) reaches the state the workbench reaches. The save is atomic and
never replaces a file without an explicit yes in a dialog.
"""

from __future__ import annotations

import json
import random

from workbench_support import DEMO, demo, opened, random_session, settle, toasts, widget_text

from hvtui.scenario.expect import vcpu_view
from hvtui.scenario.load import load, replay, save
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.panels import TitleBar
from hvtui.tui.screens import ConfirmScreen, SaveAsScreen
from hvtui.view.bench import Bench
from hvtui.view.library import scenario_files


def final_views(bench: Bench) -> dict[str, dict]:
    """What `hvtui run --json` reports as `final`, from the bench run to its end."""
    session = bench.session
    return {f"vcpu{c}": vcpu_view(session, c) for c in range(session.engine.n)}


async def save_as(pilot, name: str) -> None:
    """s, type a file name over the suggestion, enter."""
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SaveAsScreen)
    await pilot.press("ctrl+shift+a", *name, "enter")  # select the suggestion, type over it
    await pilot.pause()


async def test_a_saved_session_replays_with_hvtui_run_to_the_identical_state(
    tmp_path, monkeypatch, cli
):
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        # vcpu0 goes first instead of the recorded vmm, then vcpu1 gets its
        # flag toggled and fires a flush at everyone.
        await pilot.press("a", "right_square_bracket", "l", "i", "f")
        await pilot.press(*["right_square_bracket"] * 6)
        await save_as(pilot, "session.yaml")
        full = tmp_path / "session.yaml"
        assert f"saved {full}: 7 steps; `hvtui run {full}` replays it" in toasts(app)
        saved = load(str(tmp_path / "session.yaml"))
        bench = app.bench
        assert saved.schedule == tuple(bench.trace())
        assert saved.program == bench.program
        assert replay(saved).state == bench.session.state
        await pilot.press("e")  # the workbench's own run to the end
        await pilot.pause()
        code, out, err = cli("run", "--json", str(tmp_path / "session.yaml"))
        assert (code, err) == (0, "")
        doc = json.loads(out)
        assert doc["final"] == final_views(bench)
        assert doc["schedule"] == bench.trace()
        assert doc["steps"] == bench.session.pos


async def test_an_existing_file_is_replaced_only_after_a_yes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keep = tmp_path / "keep.yaml"
    keep.write_text("precious\n")
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("right_square_bracket")
        await save_as(pilot, "keep.yaml")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no
        await pilot.pause()
        assert keep.read_text() == "precious\n"
        assert f"not saved: {tmp_path / 'keep.yaml'} exists" in toasts(app)
        await save_as(pilot, "keep.yaml")
        await pilot.press("escape")  # escape is no, too
        await pilot.pause()
        assert keep.read_text() == "precious\n"
        await save_as(pilot, "keep.yaml")
        await pilot.press("enter")  # the focused button is Cancel
        await pilot.pause()
        assert keep.read_text() == "precious\n"
        await save_as(pilot, "keep.yaml")
        await pilot.press("y")
        await pilot.pause()
        assert load(str(keep)).schedule == tuple(app.bench.trace())
        assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.yaml"]  # no temp file left


async def test_the_confirm_dialog_says_which_file_it_would_replace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.yaml").write_text("precious\n")
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await save_as(pilot, "keep.yaml")
        labels = [str(label.render()) for label in app.screen.query("Label")]
        assert f"{tmp_path / 'keep.yaml'} exists. Overwrite it?" in labels


async def test_a_failed_save_says_why_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await save_as(pilot, "no/such/dir/s.yaml")
        assert f"not saved: {tmp_path}/no/such/dir/s.yaml: cannot write here" in toasts(app)
        assert list(tmp_path.iterdir()) == []


async def test_the_suggested_name_never_names_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "reviewer-race-no-flush-while-inhibited-at-17"  # the run's own, generated name
    (tmp_path / f"{name}.yaml").write_text("x\n")
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.query_one("#path").value == str(tmp_path / f"{name}-2.yaml")


async def test_a_saved_session_names_and_describes_itself_and_run_and_check_verify_it(
    tmp_path, monkeypatch, cli
):
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("c")  # check first: the saved expect block then names what check finds
        await settle(pilot)
        await pilot.press("escape", "a", "right_square_bracket")  # another interleaving
        await pilot.press("s")
        await pilot.pause()
        suggested = app.screen.query_one("#path").value
        await pilot.press("enter")
        await pilot.pause()
        path = tmp_path / "reviewer-race-no-flush-while-inhibited-at-17.yaml"
        assert suggested == str(path)  # a generated name, in a folder the dialog shows
        assert f"saved {path}: 1 step;" in toasts(app)
        assert "unsaved" not in widget_text(app.query_one(TitleBar))
    saved = load(str(path))
    # the author's description first, then what this run shows
    assert saved.description.startswith(demo().description.rstrip())
    assert "What this run shows" in saved.description
    assert "Step 17 violates no-flush-while-inhibited" in saved.description.replace("\n", " ")
    assert saved.expect.violations and saved.expect.final
    code, _, err = cli("run", str(path))
    assert (code, err) == (0, "")  # `run` verifies how the replay ends
    code, out, err = cli("check", str(path))
    assert (code, err) == (0, ""), out  # `check` verifies the violations it finds


SAMPLE = 150


def test_a_random_sample_of_saved_sessions_replays_to_the_identical_state(tmp_path, cli):
    rng = random.Random(20241010)
    library = [p for p in scenario_files(str(DEMO)) if load(p).vcpus <= 16]
    files, ends = [], []
    for i in range(SAMPLE):
        bench = random_session(rng, rng.choice(library))
        out = tmp_path / f"session{i:03}.yaml"
        save(bench.to_scenario(), str(out))
        saved = load(str(out))
        # exactly the state after every recorded step, in process...
        recorded = len(bench.session.actors)
        assert replay(saved).state == bench.session.state_at(recorded)
        bench.goto(recorded)
        bench.advance(10_000)
        files.append(str(out))
        ends.append((bench.trace(), final_views(bench)))
    # ...and through the real `hvtui run`, all in one process
    code, out, err = cli("run", "--json", *files)
    assert (code, err) == (0, "")  # every kept `expect` block still holds
    results = json.loads(out)["results"]
    assert len(results) == SAMPLE
    for doc, (trace, final) in zip(results, ends, strict=True):
        assert doc["schedule"] == trace
        assert doc["final"] == final

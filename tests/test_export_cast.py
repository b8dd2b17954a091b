"""--format cast read back with the asciinema package's own parser, as `asciinema play` reads it."""

from __future__ import annotations

import re

from asciinema import asciicast

from hvtui.exports import cast
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import load
from tests.conftest import run_cli

DEMO = "scenarios/reviewer-race.yaml"
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def recorded(path) -> tuple[dict, list[list]]:
    with asciicast.open_from_url(str(path)) as recording:
        return recording.v2_header, list(recording.events())


def screen_text(data: str) -> str:
    """What a frame writes, escape sequences taken out (each cursor move a line break)."""
    return _CSI.sub("\n", data)


def test_one_frame_per_step_in_a_recording_asciinema_reads(tmp_path):
    out = tmp_path / "race.cast"
    code, _, err = run_cli("export", DEMO, "-f", "cast", "--size", "100x30", "-o", str(out))
    assert (code, err) == (0, "")
    header, events = recorded(out)
    assert header == {
        "version": 2,
        "width": 100,
        "height": 30,
        "title": "hvtui: reviewer-race",
        "env": {"TERM": "xterm-256color"},
    }
    assert "timestamp" not in header  # the same input gives the same bytes
    assert [e[1] for e in events] == ["o"] * 18  # steps 0 to 17
    times = [e[0] for e in events]
    assert times == sorted(times) and times[1] - times[0] == cast.FRAME
    for step, (_, _, data) in enumerate(events):
        assert f"step {step}/17" in screen_text(data)  # the workbench's own title bar
    assert "no-flush-while-inhibited" in screen_text(events[-1][2])


def test_the_same_scenario_gives_the_same_bytes():
    first = run_cli("export", DEMO, "-f", "cast", "--size", "80x24")
    assert first[0] == 0
    assert first == run_cli("export", DEMO, "-f", "cast", "--size", "80x24")


def test_a_long_run_is_capped_keeping_the_ends_and_the_violations():
    scenario = load("scenarios/unsuspend-swapped-clobber.yaml")
    session = replay_to_end(scenario)
    picked = cast.frames(session, 8)
    assert len(picked) == 8 and picked == sorted(set(picked))
    assert picked[0] == 0 and picked[-1] == session.pos
    assert set(session.first_violations().values()) <= set(picked)
    assert cast.frames(session, 1000) == list(range(session.pos + 1))


def test_max_frames_on_the_command_line(tmp_path):
    out = tmp_path / "short.cast"
    code, _, err = run_cli(
        "export", DEMO, "-f", "cast", "--size", "80x24", "--max-frames", "4", "-o", str(out)
    )
    assert (code, err) == (0, "")
    _, events = recorded(out)
    assert len(events) == 4
    code, _, err = run_cli("export", DEMO, "-f", "cast", "--max-frames", "1")
    assert code == 2 and "not a frame count (expected 2 or more)" in err
    code, _, err = run_cli("export", DEMO, "-f", "diagram", "--max-frames", "4")
    assert code == 2 and err == "--max-frames: only applies to --format cast, not diagram\n"

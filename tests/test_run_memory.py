"""`run --json`, `--jsonl` and `--quiet` keep no history: memory stays flat as the run grows.

A flush storm (a few vCPUs flushing all of them while the VMM clears the
flags one by one) is run at two lengths, 4x apart, and the peak of what
Python allocates while the output is written is compared (tracemalloc: not
timed, and independent of the machine's load). A history of ~100 bytes a
step, or a document held whole, would make the longer run's peak grow
with it; streaming keeps it that of one state.
"""

from __future__ import annotations

import gc
import io
import json
import tracemalloc

import pytest

from hvtui.cli.main import main
from hvtui.runs import jsonout, runner


def storm(tmp_path, flushes: int) -> str:
    """4 of 64 vCPUs flush all `flushes` times; vcpu62-63 start inhibited, cleared in turn."""
    lines = [
        "name: storm",
        "description: flushers retry after each clear",
        "vcpus: 64",
        "variant: posted",
        "initial:",
        "  inhibit: [62, 63]",
        "  mode: {62: user, 63: user}",
        "actors:",
    ]
    for c in range(4):
        ops = ", ".join(f"{{id: f{c}.{j}, op: flush, targets: all}}" for j in range(flushes))
        lines.append(f"  vcpu{c}: [{ops}]")
    lines += [
        "  vmm:",
        "    - {id: clr62, op: set_inhibit, vcpu: 62, value: false}",
        "    - {id: clr63, op: set_inhibit, vcpu: 63, value: false}",
    ]
    path = tmp_path / f"storm-{flushes}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Sink:
    """A stdout that counts what it is given and keeps none of it."""

    def __init__(self):
        self.size = 0
        self.lines = 0

    def write(self, text: str) -> None:
        self.size += len(text)
        self.lines += text.count("\n")


def peak(write, path: str) -> tuple[int, Sink]:
    """Peak bytes Python allocated while `write(scenario, sink)` ran (the
    scenario loaded before), and the sink."""
    sink = Sink()
    scenario = runner.load(path)
    gc.collect()
    tracemalloc.start()
    try:
        write(scenario, sink)
        return tracemalloc.get_traced_memory()[1], sink
    finally:
        tracemalloc.stop()


def jsonl(scenario, sink: Sink) -> None:
    runner.write_lines(scenario, runner.start(scenario), sink.write, strict=False)


def document(scenario, sink: Sink) -> None:
    session = runner.replay_to_end(scenario, history=False)
    jsonout.write(runner.parts(scenario, session), sink.write)


def quiet(scenario, sink: Sink) -> None:
    session = runner.replay_to_end(scenario, history=False)
    sink.write(json.dumps(runner.expectation(scenario, session)))


SHORT, LONG = 8, 32  # flushes a flusher makes in the two runs


def flat(short_peak: int, long_peak: int) -> bool:
    """The longer run's peak is that of the shorter, give or take a chunk of events."""
    return long_peak < 1.25 * short_peak + 200_000


@pytest.mark.parametrize("mode", [jsonl, document, quiet], ids=["jsonl", "json", "quiet"])
def test_memory_stays_flat_as_the_run_gets_four_times_longer(tmp_path, monkeypatch, mode):
    # events are taken and written a chunk at a time: a constant, but here
    # smaller than either run so both hold a full one
    monkeypatch.setattr(runner, "_CHUNK", 200)
    short_peak, short = peak(mode, storm(tmp_path, SHORT))
    long_peak, long = peak(mode, storm(tmp_path, LONG))
    if mode is not quiet:
        assert long.size > 3 * short.size  # the run really is ~4x longer
    assert flat(short_peak, long_peak), (short_peak, long_peak)


def test_a_history_is_seen_by_the_same_measure(tmp_path, monkeypatch):
    """The test above would fail with a history: its tens of bytes a step grow past
    the slack, so passing it says something."""
    monkeypatch.setattr(runner, "_CHUNK", 200)

    def kept(scenario, sink: Sink) -> None:
        sink.write(str(runner.replay_to_end(scenario).pos))

    short_peak, _ = peak(kept, storm(tmp_path, SHORT))
    long_peak, _ = peak(kept, storm(tmp_path, LONG))
    assert not flat(short_peak, long_peak), (short_peak, long_peak)


def test_the_streamed_outputs_are_what_a_full_history_gives(tmp_path, capsys):
    """--json and --jsonl without history print what the history-keeping path prints."""
    path = storm(tmp_path, 2)
    scenario = runner.load(path)
    whole = runner.document(scenario, runner.replay_to_end(scenario))
    assert main(["run", "--json", path]) == 0
    assert capsys.readouterr().out == json.dumps(whole, indent=2) + "\n"
    assert main(["run", "--jsonl", path]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    events = [{k: v for k, v in line.items() if k != "type"} for line in lines[1:-65]]
    assert events == whole["events"]
    assert [line["type"] for line in lines[-65:]] == ["final"] * 64 + ["end"]
    out = io.StringIO()
    runner.write_lines(scenario, runner.start(scenario), out.write, strict=False)
    assert out.getvalue().count("\n") == len(whole["events"]) + 66

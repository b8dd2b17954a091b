"""What `hvtui run` writes at scale: the JSON document streamed, JSON lines, an elided log.

`run --json` writes its document piece by piece (hvtui.runs.jsonout) and
must still print exactly what `json.dumps(document, indent=2)` printed;
`--jsonl` is one object a line; the text log keeps its head, its tail and
each property's first violation, and says how much it left out.
"""

from __future__ import annotations

import contextlib
import io
import json

from conftest import ROOT, SCENARIOS, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from hvtui.cli.main import main
from hvtui.cli.run import HEAD_TAIL
from hvtui.runs import jsonout
from hvtui.runs.runner import document, load, replay_to_end

SMALL = sorted(p for p in SCENARIOS.glob("*.yaml") if "4096" not in p.name)

# 150 self-flushes by vcpu2, the lost wake-up of lost-wakeup-no-sync.yaml,
# then 150 more: 313 steps, the first violation (no-lost-wakeup) at step 163.
RACE = ["vcpu0", "vcpu0", "vmm", "vmm", "vmm", "vmm", "vmm", "vmm", "vcpu0", "vcpu0", "vcpu0"]
LONG = f"""\
name: long
description: a lost wake-up between two long runs of self-flushes
vcpus: 3
variant: no-sync
initial: {{inhibit: [1], mode: {{1: user}}}}
actors:
  vcpu0: [{{id: f, op: flush, targets: [1]}}]
  vcpu2: [{", ".join(f"{{id: g{j}, op: flush, targets: [2]}}" for j in range(60))}]
  vmm:
    - {{id: clr, op: set_inhibit, vcpu: 1, value: false}}
    - {{id: run1, op: run, vcpu: 1}}
schedule: [{", ".join(["vcpu2"] * 150 + RACE)}]
"""

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(),  # any code point: ensure_ascii escapes, surrogates included
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(0, 3))
def test_the_encoder_prints_what_json_dumps_prints(value, level):
    expected = json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)
    assert jsonout.dumps(value, level) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(JSON, max_size=5), st.dictionaries(st.text(max_size=4), JSON, max_size=4))
def test_a_document_written_in_pieces_is_json_dumps_of_it_whole(items, pairs):
    doc = {"a": jsonout.Items(lambda: iter(items)), "b": jsonout.Items(pairs.items, pairs=True)}
    pieces: list[str] = []
    jsonout.write({"results": jsonout.Items(lambda: iter([doc, doc]))}, pieces.append)
    whole = {"results": [{"a": items, "b": pairs}] * 2}
    assert "".join(pieces) == json.dumps(whole, indent=2)


def test_run_json_on_every_small_scenario_is_the_document_json_dumps_printed():
    files = [str(p.relative_to(ROOT)) for p in SMALL]
    code, out, err = run_cli("run", "--json", *files)
    assert code == 0, err
    docs = [document(s, replay_to_end(s)) for s in map(load, files)]
    assert out == json.dumps({"results": docs}, indent=2) + "\n"


class _Pieces(io.StringIO):
    """stdout that remembers the largest single write."""

    largest = 0

    def write(self, text: str) -> int:
        self.largest = max(self.largest, len(text))
        return super().write(text)


def _main(*argv: str) -> tuple[int, str, int]:
    out = _Pieces()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue(), out.largest


def test_run_json_writes_a_long_run_in_small_pieces(tmp_path, monkeypatch):
    (tmp_path / "long.yaml").write_text(LONG)
    monkeypatch.chdir(tmp_path)
    code, out, largest = _main("run", "--json", "long.yaml")
    doc = json.loads(out)
    assert (code, doc["steps"], len(doc["events"])) == (0, 313, 313)
    # nothing close to the whole document (or a whole list) is ever one string
    assert len(out) > 80_000 and largest < 1_000, largest


def test_jsonl_is_a_run_line_an_event_a_line_a_final_line_a_vcpu_and_an_end_line(
    tmp_path, monkeypatch
):
    (tmp_path / "long.yaml").write_text(LONG)
    monkeypatch.chdir(tmp_path)
    code, out, _ = _main("run", "--jsonl", "long.yaml")
    lines = [json.loads(line) for line in out.splitlines()]
    doc = document(*(lambda s: (s, replay_to_end(s)))(load("long.yaml")))
    assert code == 0
    assert [x["type"] for x in lines] == ["run"] + ["event"] * 313 + ["final"] * 3 + ["end"]
    assert lines[0] == {"type": "run", **{k: doc[k] for k in ("file", "name", "variant", "vcpus")}}
    assert [{k: v for k, v in x.items() if k != "type"} for x in lines[1:314]] == doc["events"]
    assert {x.pop("vcpu"): x for x in lines[314:317] if x.pop("type")} == doc["final"]
    end = {k: doc[k] for k in ("steps", "violations", "progress", "stuck", "expect")}
    assert lines[-1] == {"type": "end", **end}


def test_jsonl_of_two_files_is_the_lines_of_each_in_turn(tmp_path, monkeypatch):
    (tmp_path / "long.yaml").write_text(LONG)
    monkeypatch.chdir(tmp_path)
    race = str(SCENARIOS / "reviewer-race.yaml")
    _, out, _ = _main("run", "--jsonl", race, "long.yaml")
    kinds = [json.loads(line)["type"] for line in out.splitlines()]
    assert kinds.count("run") == kinds.count("end") == 2
    assert kinds.index("end") < kinds.index("run", 1)


def test_json_and_jsonl_together_are_refused(tmp_path):
    code, out, err = run_cli("run", "--json", "--jsonl", str(SCENARIOS / "reviewer-race.yaml"))
    assert (code, out) == (2, "")
    assert "not allowed with argument" in err


def test_json_output_is_empty_when_a_later_file_is_bad_input(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: bad\n")
    for flag in ("--json", "--jsonl"):
        code, out, err = run_cli(
            "run", flag, str(SCENARIOS / "reviewer-race.yaml"), "bad.yaml", cwd=tmp_path
        )
        assert (code, out) == (2, ""), flag
        assert err.startswith("bad.yaml:")


def _event_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line[:5].strip().isdigit() or "elided" in line]


def test_a_long_log_keeps_its_head_its_tail_and_each_first_violation(tmp_path):
    (tmp_path / "long.yaml").write_text(LONG)
    code, out, _ = run_cli("run", "long.yaml", cwd=tmp_path)
    lines = _event_lines(out)
    steps = [int(line.split()[0]) for line in lines if "elided" not in line]
    head, tail = list(range(1, HEAD_TAIL + 1)), list(range(314 - HEAD_TAIL, 314))
    assert code == 0
    assert steps == head + [163] + tail
    assert lines[HEAD_TAIL] == "     ... 62 steps elided (--all-events prints them) ..."
    assert "<-- violates no-lost-wakeup" in lines[HEAD_TAIL + 1]
    assert lines[HEAD_TAIL + 2] == "     ... 50 steps elided (--all-events prints them) ..."
    assert "violated: no-lost-wakeup at step 163" in out


def test_all_events_prints_every_step(tmp_path):
    (tmp_path / "long.yaml").write_text(LONG)
    code, out, _ = run_cli("run", "--all-events", "long.yaml", cwd=tmp_path)
    steps = [int(line.split()[0]) for line in _event_lines(out)]
    assert steps == list(range(1, 314))
    assert "elided" not in out


def test_a_short_log_is_printed_whole():
    code, out, _ = run_cli("run", str(SCENARIOS / "reviewer-race.yaml"))
    assert [int(line.split()[0]) for line in _event_lines(out)] == list(range(1, 18))


def test_4096_vcpus_print_as_a_page_not_thousands_of_lines():
    code, out, _ = run_cli("run", str(SCENARIOS / "many-vcpus-4096.yaml"))
    lines = out.splitlines()
    assert code == 0 and len(lines) < 2 * HEAD_TAIL + 40, len(lines)
    # runs of vCPUs that end alike are one row, their ids whole
    assert any(line.startswith("│    64-831 │ -") for line in lines)
    assert any(line.startswith("│ 4033-4095 │ -       │ yes") for line in lines)
    # 315 waiters: the progress line names 8 of them and counts the rest
    (progress,) = [line for line in lines if line.startswith("progress: ")]
    assert progress.count(" waits at resume") == 8
    assert progress.endswith("; and 307 more (--json lists them all))")
    assert "steps elided (--all-events prints them)" in out


def test_jsonl_writes_each_event_while_the_run_goes_on(tmp_path, monkeypatch):
    from hvtui.runs import runner

    monkeypatch.setattr(runner, "_CHUNK", 50)  # 313 steps: several chunks
    (tmp_path / "long.yaml").write_text(LONG.replace("schedule: [", "# schedule: ["))
    scenario = load(str(tmp_path / "long.yaml"))
    session = runner.start(scenario)
    seen: list[tuple[int, int]] = []  # (event time, steps taken when it was written)

    def out(line: str) -> None:
        if line.startswith('{"type": "event"'):
            seen.append((json.loads(line)["time"], session.pos))

    runner.write_lines(scenario, session, out, strict=False)
    assert [t for t, _ in seen] == list(range(1, session.pos + 1))
    # the first events went out before the last ones were taken
    assert seen[0][1] < session.pos, (seen[0], session.pos)

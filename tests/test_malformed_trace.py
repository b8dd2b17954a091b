"""`hvtui trace` fed what is not a trace's text, through the real CLI.

Each of these was answered "consistent" (exit 0: an empty run explains no
events), silently cut down, or waited forever; now each is one line, exit 2.
"""

from __future__ import annotations

import gzip
import os

import pytest
from conftest import ROOT, run_cli

GOOD = (ROOT / "tests" / "data" / "traces" / "reviewer-race.report").read_text()
TEXT = "the text of trace-cmd report or of tracefs trace"


def refused(path) -> str:
    code, out, err = run_cli("trace", str(path))
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "no event line in the file (expected " + TEXT + ": TASK-PID [CPU] TIMESTAMP:"),
        (b"\n\nhello\nworld\n", "no event line in the file"),
        (b"name: demo\nvcpus: 4\n", "no event line in the file"),
        (gzip.compress(GOOD.encode()), "is gzip-compressed (expected its text: zcat FILE"),
        (b"\xfd7zXZ\x00\x00", "is xz-compressed (expected its text: xzcat FILE"),
        (GOOD.encode("utf-16"), "is UTF-16 (expected the UTF-8 text trace-cmd report prints)"),
        (
            b"ab\x00cd" + GOOD.encode(),
            "byte 0x00 at offset 2: the file is binary (expected " + TEXT,
        ),
    ],
    ids=["empty", "prose", "a-scenario", "gzip", "xz", "utf-16", "binary"],
)
def test_what_is_not_a_trace_is_refused(content, says, tmp_path):
    path = tmp_path / "t.report"
    path.write_bytes(content)
    assert refused(path).startswith(f"{path}: {says}")


def test_a_trace_of_nothing_is_a_trace_still(tmp_path):
    path = tmp_path / "t.report"
    path.write_text("# tracer: nop\n#\ncpus=4\n")
    code, out, err = run_cli("trace", str(path))
    assert code == 0 and "0 events the model decides" in out, err


def test_a_mask_wider_than_the_tracepoints_u64_is_not_cut_to_64_bits(tmp_path):
    path = tmp_path / "t.report"
    path.write_text(GOOD.replace("processor_mask 0x6", "processor_mask 0x1" + "0" * 16, 1))
    line = refused(path)
    assert line.startswith(f"{path}:5:60: kvm_hv_flush_tlb: 'processor_mask 0x1000")
    assert line.endswith(
        "is not in its format (expected processor_mask 0x.. address_space 0x.. flags 0x.. [(L2)])"
    )


def test_leading_zeros_still_read_as_one_u64(tmp_path):
    path = tmp_path / "t.report"
    path.write_text(GOOD.replace("processor_mask 0x6", "processor_mask 0x" + "0" * 20 + "6", 1))
    code, _, err = run_cli("trace", str(path))
    assert code == 0, err


def test_a_fifo_is_refused_rather_than_read_forever(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert refused(fifo) == f"{fifo}: is not a regular file (expected {TEXT})"


def test_a_directory_names_what_was_expected(tmp_path):
    assert refused(tmp_path) == f"{tmp_path}: is a directory (expected {TEXT})"


@pytest.mark.parametrize(
    "option, value, line",
    [
        ("--pid-map", "4821=0,4821=1", "--pid-map:1:8: PID 4821 is mapped twice"),
        ("--vp-map", "0=1, 0=2", "--vp-map:1:6: VP 0 is mapped twice"),
        ("--pid-map", " 4821=0,  x", "--pid-map:1:11: 'x' is not PID=VCPU"),
    ],
)
def test_a_hand_map_names_each_thread_once(option, value, line, tmp_path):
    # the second mapping of a PID used to win silently (and columns drifted after spaces)
    path = tmp_path / "t.report"
    path.write_text(GOOD)
    code, out, err = run_cli("trace", str(path), option, value)
    assert (code, out) == (2, "") and len(err.splitlines()) == 1, err
    assert err.startswith(line), err

"""Output closed early (`hvtui check ... | head -2`): every command stops quietly.

No traceback, nothing on stderr, and the status of a process killed by
SIGPIPE as the shell shows it (141), which is what git and coreutils give.
The reader here keeps a few bytes and closes its end; the pipe is shrunk
to one page, so a command that writes more than that is still writing when
the reader leaves, whatever the machine's speed. A command that writes
less is given a reader that has already left.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from hvtui.cli.main import COMMANDS

SIGPIPE_STATUS = 141
PAGE = 4096

# (arguments, bytes the reader keeps): a reader that keeps bytes needs a
# command that writes more than PAGE + those bytes, in more than one write:
# Python reports a single write cut short by a leaving reader as a success
# (the rest is dropped), so only a later write can fail.
COMMANDS_WITH_OUTPUT = [
    (["check", "scenarios/reviewer-race.yaml", "--variant", "all"], 10),
    (["run", "--json", "scenarios/many-vcpus-4096.yaml"], 10),
    (["run", "scenarios/reviewer-race.yaml"], 0),
    (["check", "--json", "scenarios/reviewer-race.yaml"], 0),
    (["export", "scenarios/reviewer-race.yaml", "--format", "diagram"], 0),
    (["schema"], 0),
    (["variants"], 0),
]
# every command's --help, the workbench's too: a command added later is covered
HELPS = [[name, "--help"] for name in COMMANDS] + [["--help"]]


def read_then_close(args: list[str], keep: int) -> tuple[int, bytes, str]:
    """Run `hvtui ARGS` into a one-page pipe whose reader stops after `keep` bytes."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PAGE)
    if not keep:
        os.close(read_end)  # gone before the first write
    proc = subprocess.Popen(
        [sys.executable, "-m", "hvtui", *args],
        cwd=ROOT,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    kept = b""
    if keep:
        while len(kept) < keep and (chunk := os.read(read_end, keep - len(kept))):
            kept += chunk
        os.close(read_end)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, kept, err


@pytest.mark.parametrize(
    "args, keep", COMMANDS_WITH_OUTPUT, ids=[" ".join(a) for a, _ in COMMANDS_WITH_OUTPUT]
)
def test_a_reader_that_stops_early_ends_the_command_quietly(args, keep):
    code, kept, err = read_then_close(args, keep)
    assert err == ""  # no traceback, no "Exception ignored"
    assert code == SIGPIPE_STATUS
    assert len(kept) == keep


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_help_into_a_closed_pipe_is_quiet_too(args):
    code, _, err = read_then_close(args, 0)
    assert (code, err) == (SIGPIPE_STATUS, "")


def test_the_shell_sees_141_as_for_git():
    # the issue's own pipeline: 10 MB of JSON, `head` takes 10 bytes
    done = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} -m hvtui run --json scenarios/many-vcpus-4096.yaml | head -c 10;"
            ' echo " ${PIPESTATUS[0]}"',
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == '{\n  "file" 141\n'
    assert done.stderr == ""


def test_output_to_dev_null_is_not_a_closed_pipe():
    # the SIGPIPE status is for a reader that left, not for output thrown away
    with open(os.devnull, "w") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "hvtui", "run", "scenarios/reviewer-race.yaml"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert (done.returncode, done.stderr) == (0, b"")

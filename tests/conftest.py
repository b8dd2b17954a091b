import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None):
    """The real `hvtui` CLI in a subprocess: (exit code, stdout, stderr)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "hvtui", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def interrupt_check(*args: str, checks: int = 1):
    """`hvtui check --progress ARGS` in a subprocess, sent SIGINT once `checks`
    different checks have shown progress: (exit code, stdout, stderr, the
    progress lines shown until then, the processes it had started by then)."""
    import signal
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "hvtui", "check", "--progress", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shown: list[str] = []
        while len({line.split(":")[0] for line in shown}) < checks:
            line = proc.stderr.readline()
            assert line, "the check ended before it showed progress"
            shown.append(line)
        started = descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, out, err, shown, started


def descendants(pid: int) -> list[int]:
    """Every running process descended from `pid`, as /proc shows them (Linux)."""
    found, work = [], [pid]
    while work:
        parent = work.pop()
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == parent:
                found.append(int(entry))
                work.append(int(entry))
    return found


@pytest.fixture
def cli():
    return run_cli

"""Headless replay of a 4096-vCPU flush storm: `hvtui run` steps/s and memory.

    python benchmarks/bench_replay.py [--vcpus N] [--flushers N] [--inhibited N]
                                      [--only quiet,json,jsonl,text] [--keep FILE]
                                      [--repeat K]

(about five minutes of CPU at the default size; `--vcpus 256 --flushers 8
--inhibited 2` for a quick look)

The storm (see `storm`): 64 vCPUs each flush all 4096 while the last 8
vCPUs are inhibited, and the VMM clears them one by one. Each flusher's
check loop walks up to the first inhibited vCPU and suspends there; every
clear waits in synchronize_srcu() for the flushers inside their hypercall,
wakes them with a scan of all 4096, and they retry from the first target,
so the run is about 2.6 million atomic steps of mostly `check t`.

The scenario file is generated into a temporary directory (it is ~5 KB,
but not worth committing) and run through the real CLI in a subprocess,
one at a time, so each figure is that process's own CPU time and peak RSS
(from wait4(), as `/usr/bin/time -f %M` reads it). This process stays
small: Linux carries a process's peak RSS across fork and exec, so a
child forked from a parent holding a replay's history would report the
parent's memory as its own.

- `run --quiet`: the replay itself (engine and property monitor; no
  history, since nothing reads it), with loading and start-up;
- `run --json > /dev/null` and `run --jsonl > /dev/null`: the document
  streamed, without history; its bytes counted, its memory that of one
  state (--json replays the scenario twice more, for its schedule and its
  events, which come before the verdicts);
- `run > /dev/null`: the text report, with history (its event log is
  elided past 200 steps, but shows each property's first violation), its
  grid folded.

Also Session.run() with its history (what the workbench keeps), timed as
benchmarks/bench_engine.py times its workload (CPU time of the replay
alone, no loading or output), in a child of its own (`--session FILE`),
whose peak RSS is the history's.

`--repeat K` runs each K times and keeps the run of least CPU time: on a
shared machine the others' load only ever adds to it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hvtui.atomic import write_file
from hvtui.runs.runner import load, start

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "quiet": ["--quiet"],
    "json": ["--json"],
    "jsonl": ["--jsonl"],
    "text": [],
}


def storm(vcpus: int = 4096, flushers: int = 64, inhibited: int = 8) -> str:
    """The scenario as YAML: vcpu0..flushers-1 flush all; the last `inhibited`
    vCPUs start inhibited in userspace (so the ioctl can take their mutex) and
    the VMM clears them in ascending order."""
    held = list(range(vcpus - inhibited, vcpus))
    lines = [
        f"name: storm-{vcpus}",
        "description: |",
        f"  {flushers} vCPUs flush all {vcpus} while the last {inhibited} are inhibited;",
        "  the VMM clears them one by one. Notice the retries after each clear.",
        f"vcpus: {vcpus}",
        "variant: posted",
        "initial:",
        f"  inhibit: [{', '.join(map(str, held))}]",
        "  mode: {" + ", ".join(f"{x}: user" for x in held) + "}",
        "expect:",
        "  progress: holds",
        "actors:",
    ]
    lines += [f"  vcpu{c}: [{{id: f{c}, op: flush, targets: all}}]" for c in range(flushers)]
    lines.append("  vmm:")
    lines += [f"    - {{id: clr{x}, op: set_inhibit, vcpu: {x}, value: false}}" for x in held]
    return "\n".join(lines) + "\n"


def run_cli(path: str, flags: list[str]) -> tuple[float, int, int]:
    """(CPU seconds, peak RSS in MB, stdout bytes) of one `hvtui run`, from
    wait4(): that child's own figures, whatever ran before it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hvtui", "run", *flags, path], cwd=ROOT, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err.seek(0)
            raise SystemExit(f"hvtui run {' '.join(flags)}: exit {proc.returncode}: {err.read()}")
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, out.tell()


def session_steps_per_s(path: str) -> None:
    """`--session FILE`: print the steps and CPU s of Session.run() on it."""
    session = start(load(path))
    began = time.process_time()
    session.run()
    print(session.pos, time.process_time() - began)


def session_child(path: str) -> tuple[int, float, int]:
    """(steps, CPU s, peak RSS in MB) of Session.run() with history, in a child."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--session", path], cwd=ROOT, stdout=subprocess.PIPE
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"--session {path}: {out!r}")
    steps, seconds = out.split()
    return int(steps), float(seconds), usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vcpus", type=int, default=4096)
    parser.add_argument("--flushers", type=int, default=64)
    parser.add_argument("--inhibited", type=int, default=8)
    parser.add_argument("--only", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--keep", metavar="FILE", help="also write the scenario here")
    parser.add_argument("--repeat", type=int, default=1, metavar="K", help="best of K runs")
    parser.add_argument("--session", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.session:
        session_steps_per_s(args.session)
        return
    text = storm(args.vcpus, args.flushers, args.inhibited)
    if args.keep:
        write_file(args.keep, text.encode(), overwrite=False, exists="already exists")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "storm.yaml")
        write_file(path, text.encode(), overwrite=False, exists="already exists")
        print(
            f"storm: {args.flushers} of {args.vcpus} vCPUs flush all, "
            f"{args.inhibited} inhibited and cleared one by one; pid {os.getpid()}; "
            f"best of {args.repeat}, CPU time"
        )
        steps, seconds, rss = min(
            (session_child(path) for _ in range(args.repeat)), key=lambda r: r[1]
        )
        print(
            f"Session.run() with history: {steps:,} steps, {seconds:.1f} s CPU, "
            f"{steps / seconds:,.0f} steps/s, peak {rss:,} MB"
        )
        print(f"{'hvtui run':<22} {'cpu s':>7} {'steps/s':>9} {'peak MB':>8} {'stdout':>12}")
        for mode in args.only.split(","):
            flags = MODES[mode]
            runs = (run_cli(path, flags) for _ in range(args.repeat))
            cpu, rss, size = min(runs, key=lambda r: r[0])
            label = " ".join(["run", *flags])
            print(f"{label:<22} {cpu:>7.1f} {steps / cpu:>9,.0f} {rss:>8,} {size:>12,}")


if __name__ == "__main__":
    main()

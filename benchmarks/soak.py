"""A soak, outside CI: 10,000 random keys at 4096 vCPUs, then 20 browser sessions.

    .venv/bin/python benchmarks/soak.py                  # both parts (up to an hour)
    .venv/bin/python benchmarks/soak.py keys --keys 1000  # 1,000 keys only
    .venv/bin/python benchmarks/soak.py serve --sessions 3

keys: the random-keys driver of tests/tui/test_random_keys.py on its
4096-vCPU scenario, in this process: a fresh workbench every --chunk keys
(seeded apart), every key checked against an independent replay, so a
wrong state or an error is a crash. It stops at --minutes and says how far
it got (a key costs ~0.2-0.5 s at 4096 vCPUs on a busy machine).

serve: `hvtui serve` and one headless Chromium; a tab is opened, shows the
workbench's grid, and is closed, then the next, in turn. After each close
the session's process must be gone; at the end serve gets SIGINT and
nothing it started may remain. Traffic stays on 127.0.0.1 (the browser
resolves no other host).

Printed: keys pressed, sessions, crashes, processes left, peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import test_serve as served_test  # noqa: E402  (the serve test's own helpers)

BOUND = 3600  # seconds for the serve part: the soak stops by itself


def peak_kib(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def soak_keys(total: int, chunk: int, bound: float) -> dict:
    """`total` random keys at 4096 vCPUs, `chunk` keys a workbench, within `bound` seconds."""
    sys.path.insert(0, str(ROOT / "tests" / "tui"))
    import test_random_keys as driver
    from workbench_support import scenario

    from hvtui.tui.app import WorkbenchApp

    # the 4096-vCPU test's key pool: `f` only after a mark
    pool = [k for k in driver.WEIGHTED + driver.GRID_KEYS + driver.DIALOG_KEYS if k != "f"]
    pool += ["m f"] * 3
    started = time.perf_counter()
    pressed = crashes = chunks = 0
    seen: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        os.chdir(tmp)  # saves and screenshots land here
        try:
            for seed in range(total // chunk):
                if time.perf_counter() - started > bound:
                    break
                app = WorkbenchApp(scenario(driver.BIG))
                try:
                    got = asyncio.run(driver.random_keys(app, chunk, seed=100 + seed, keys=pool))
                except Exception as exc:  # a wrong state or an error: counted, and on
                    print(f"soak: keys, seed {100 + seed}: {exc!r}", file=sys.stderr)
                    crashes += 1
                    continue
                chunks += 1
                pressed += got["keys"]
                for key, value in got.items():
                    both = (seen.get(key, 0), value)
                    seen[key] = max(both) if key == "max_steps" else sum(both)
                took = time.perf_counter() - started
                print(f"  keys: {pressed} pressed, {took:.0f} s", flush=True)
        finally:
            os.chdir(here)
    return {
        "keys asked": total,
        "keys pressed": pressed,
        "workbenches": chunks,
        "crashes": crashes,
        "peak memory MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "seconds": round(time.perf_counter() - started),
        "seen": seen,
    }


async def _one_tab(devtools: str, server) -> tuple[bool, list[int], int]:
    """Open a tab, wait for the grid, close it: (grid shown, session pids, their peak KiB)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        target, ws_url = await served_test.open_tab(http, devtools)
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            text, _, _ = await served_test.show_workbench(served_test.DevTools(ws), server.url)
            pids = server.sessions()
            peak = max((peak_kib(p) for p in pids), default=0)
        async with http.get(f"{devtools}/json/close/{target}") as r:
            await r.read()
    return "vCPUs" in text, pids, peak


def soak_serve(sessions: int) -> dict:
    chromium = served_test.CHROMIUM
    if chromium is None:
        raise SystemExit("soak: Chromium is not installed (apt-get install -y chromium)")
    started = time.perf_counter()
    server = served_test.Served()
    shown = crashes = left_after_close = 0
    session_peak = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with served_test.devtools_browser(chromium, Path(tmp) / "profile") as devtools:
                for _ in range(sessions):
                    if time.perf_counter() - started > BOUND or server.proc.poll() is not None:
                        crashes += 1
                        break
                    try:
                        ok, pids, peak = asyncio.run(_one_tab(devtools, server))
                    except Exception as exc:  # a session that broke is counted, not fatal
                        print(f"soak: session failed: {exc!r}", file=sys.stderr)
                        crashes += 1
                        continue
                    shown += ok
                    crashes += not ok or len(pids) != 1
                    session_peak = max(session_peak, peak)
                    try:
                        served_test.wait_until_gone(pids, server.mark)
                    except AssertionError:
                        left_after_close += len(set(served_test.marked(server.mark)) & set(pids))
        serve_peak = peak_kib(server.proc.pid)
        code, err = server.stop(signal.SIGINT)
        crashes += code != 0 or "Traceback" in err
        left_at_end = len(served_test.marked(server.mark))
    finally:
        server.kill_all()
    return {
        "sessions": sessions,
        "grids shown": shown,
        "crashes": crashes,
        "processes left after a close": left_after_close,
        "processes left after SIGINT": left_at_end,
        "peak memory MiB (serve)": round(serve_peak / 1024),
        "peak memory MiB (one session)": round(session_peak / 1024),
        "seconds": round(time.perf_counter() - started),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", choices=["keys", "serve"], help="one part only")
    parser.add_argument("--keys", type=int, default=10_000, help="random keys in all")
    parser.add_argument("--chunk", type=int, default=1_000, help="keys per workbench")
    parser.add_argument("--minutes", type=float, default=40, help="bound on the keys part")
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions in turn")
    args = parser.parse_args()
    results = {}
    if args.part in (None, "keys"):
        results["keys"] = soak_keys(args.keys, args.chunk, args.minutes * 60)
        print("random keys at 4096 vCPUs:", results["keys"], flush=True)
    if args.part in (None, "serve"):
        results["serve"] = soak_serve(args.sessions)
        print("serve, browser sessions in turn:", results["serve"], flush=True)
    return 0 if all(r["crashes"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

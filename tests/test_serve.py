"""`hvtui serve` opened in a real browser, and everything it started ends.

Headless Chromium loads the page; the workbench starts behind it and its
grid reaches the screen. The page draws the terminal with xterm.js on a
canvas, so there is no grid text in the DOM to read: a small script
installed before the page loads records what the page's WebSocket receives
(the workbench's terminal output), and the canvas's pixels and a
screenshot show it was drawn. Chromium is driven over its DevTools protocol
with aiohttp (a textual-serve dependency), which also reports every request
the page makes: all of them go to 127.0.0.1, so the page works offline.
Chromium resolves no other host name here, so nothing can leave the
machine even if the page asked.

Processes are found by a marker in their environment, which `serve` hands
to each session: the other hvtui processes on this machine are not ours.
Under CI, a missing Chromium fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.conftest import ROOT

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)

DEADLINE = 90  # seconds for the browser to show the grid; the app starts in about one
GONE = 20  # seconds for a session to end once its tab closes (quit, else killed after 3)
TICKS = os.sysconf("SC_CLK_TCK")

# Installed before any page script runs: keep a copy of every WebSocket message as text.
RECORD = """
window.__received = [];
const decoder = new TextDecoder();
window.WebSocket = class extends window.WebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      const data = event.data;
      if (typeof data === "string") { window.__received.push(data); }
      else if (data instanceof ArrayBuffer) {
        window.__received.push(decoder.decode(data, {stream: true}));
      } else { data.text().then((text) => window.__received.push(text)); }
    });
  }
};
"""

# How much of the terminal canvas is drawn on, and in how many colours.
PAINTED = """
(() => {
  let lit = 0; const colours = new Set();
  for (const canvas of document.querySelectorAll("canvas")) {
    const ctx = canvas.getContext("2d");
    if (!ctx || !canvas.width) continue;
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < px.length; i += 4 * 7) {
      if (px[i + 3]) { lit++; colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]); }
    }
  }
  return [lit, colours.size];
})()
"""


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and Chromium is missing: .ci/run installs it")
        pytest.skip("Chromium is not installed (apt-get install -y chromium); .ci/run installs it")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hvtui serve exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


# -- processes ------------------------------------------------------------------


def marked(mark: str) -> list[int]:
    """The processes whose environment carries `mark` (serve and its sessions)."""
    needle = mark.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def assert_none_spins(pids: list[int], window: float = 2.0) -> None:
    """None of `pids` uses more than a quarter of a core over `window` seconds."""
    before = {pid: cpu_seconds(pid) for pid in pids}
    time.sleep(window)
    used = {pid: cpu_seconds(pid) - before[pid] for pid in pids}
    assert all(u < window / 4 for u in used.values()), used


def wait_until_gone(pids: list[int], mark: str, seconds: float = GONE) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and set(marked(mark)) & set(pids):
        time.sleep(0.2)
    assert not set(marked(mark)) & set(pids), f"still running: {set(marked(mark)) & set(pids)}"


class Served:
    """`hvtui serve scenarios/reviewer-race.yaml` on a free port, marked."""

    def __init__(self):
        self.mark = f"HVTUI_SERVE_TEST={uuid.uuid4().hex}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key, value = self.mark.split("=")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hvtui",
                "serve",
                "scenarios/reviewer-race.yaml",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, key: value},
            start_new_session=True,  # a signal for pytest's group does not reach it
        )
        self.first_line = self.proc.stdout.readline()
        wait_for_port(self.port, self.proc, time.monotonic() + 30)

    def sessions(self) -> list[int]:
        return [pid for pid in marked(self.mark) if pid != self.proc.pid]

    def stop(self, sig: int) -> tuple[int, str]:
        """Send `sig` to serve alone, as Ctrl+C or a service manager would: (exit, stderr)."""
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err

    def kill_all(self) -> None:
        """Whatever the test left: serve, and any session it failed to end."""
        for pid in marked(self.mark):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def served():
    server = Served()
    try:
        yield server
    finally:
        server.kill_all()


# -- the browser ----------------------------------------------------------------


@contextlib.contextmanager
def devtools_browser(chromium: str, profile: Path) -> Iterator[str]:
    """Headless Chromium with a DevTools port: the port's base URL (benchmarks/soak.py too)."""
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-domain-reliability",
            "--no-pings",
            # every other host is unresolvable: a page that asked for the web gets nothing
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1400,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (active.exists() and active.read_text().strip()):
            assert proc.poll() is None, "Chromium exited at start-up"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{active.read_text().split()[0]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser(chromium, tmp_path):
    with devtools_browser(chromium, tmp_path / "profile") as base:
        yield base


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands, and the events they bring."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    async def send(self, method: str, **params):
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        async for msg in self.ws:
            reply = json.loads(msg.data)
            if "method" in reply:
                self.events.append(reply)
            elif reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]
        raise AssertionError("the browser closed the DevTools connection")

    async def evaluate(self, expression: str):
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")

    def requested(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]


async def open_tab(http: aiohttp.ClientSession, devtools_base: str) -> tuple[str, str]:
    """A new tab: (its target id, its DevTools WebSocket URL)."""
    async with http.put(f"{devtools_base}/json/new?about:blank") as r:
        target = await r.json()
    return target["id"], target["webSocketDebuggerUrl"]


async def show_workbench(tab: DevTools, url: str, screenshot: Path | None = None):
    """Load the page; wait until the workbench's grid has come through."""
    await tab.send("Network.enable")
    await tab.send("Page.enable")
    await tab.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD)
    await tab.send("Page.navigate", url=url)
    deadline = time.monotonic() + DEADLINE
    text = ""
    while time.monotonic() < deadline:
        text = await tab.evaluate("(window.__received || []).join('')") or ""
        if "vCPUs" in text and "events" in text:
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # let xterm.js paint the last frames
    painted = await tab.evaluate(PAINTED)
    if screenshot is not None:
        shot = await tab.send("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    classes = await tab.evaluate("document.body.className")
    return text, painted, classes


async def a_tab_open_and_closed(devtools_base: str, server: Served, shot: Path):
    """Open the page, see the grid, close the tab: what the page showed and requested."""
    async with aiohttp.ClientSession() as http:
        target, ws_url = await open_tab(http, devtools_base)
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            tab = DevTools(ws)
            seen = await show_workbench(tab, server.url, shot)
            sessions = server.sessions()
        async with http.get(f"{devtools_base}/json/close/{target}") as r:
            assert r.status == 200
    return seen, sessions, tab.requested()


async def a_tab_left_open(devtools_base: str, server: Served) -> list[int]:
    async with aiohttp.ClientSession() as http:
        _, ws_url = await open_tab(http, devtools_base)
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            text, _, _ = await show_workbench(DevTools(ws), server.url)
            assert "vCPUs" in text
    return server.sessions()


def test_a_tab_shows_the_workbench_and_nothing_outlives_it(served, browser, tmp_path):
    url = served.url
    assert served.first_line == f"hvtui serve: open {url} in a browser (Ctrl+C stops)\n"
    shot = Path(os.environ.get("HVTUI_SERVE_SHOT", tmp_path / "serve.png"))
    (text, (lit, colours), classes), sessions, requested = asyncio.run(
        a_tab_open_and_closed(browser, served, shot)
    )

    # the workbench ran behind the page and drew its panels and the scenario
    assert "vCPUs" in text, "the grid's panel never reached the browser"
    assert "reviewer-race" in text
    assert "-first-byte" in classes  # the page switched from its splash to the terminal
    # ... and xterm.js painted it: many cells lit, in the grid's several colours
    assert lit > 1000 and colours > 4, (lit, colours)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000

    # everything the page loaded came from this server: it works offline
    assert any(u.endswith("/static/js/textual.js") for u in requested), requested
    assert any("/fonts/" in u for u in requested), requested  # the font is served here
    assert {urlsplit(u).hostname for u in requested if not u.startswith("data:")} == {
        "127.0.0.1"
    }, requested

    # the tab had one workbench; closing the tab ended it, and serve idles
    assert len(sessions) == 1, sessions
    wait_until_gone(sessions, served.mark)
    assert served.sessions() == []
    assert_none_spins([served.proc.pid])

    # Ctrl+C on serve with a tab open: every session ends, then serve, quietly
    sessions = asyncio.run(a_tab_left_open(browser, served))
    assert len(sessions) == 1, sessions
    code, err = served.stop(signal.SIGINT)
    assert code == 0 and "Traceback" not in err, err
    assert marked(served.mark) == []


async def _terminal_session(url: str, opened: asyncio.Event, output: bytearray) -> int | None:
    """A session as the page opens one, without a browser: the close code it ends with."""
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{url}/ws?width=100&height=30") as ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    output.extend(msg.data)
                    if b"vCPUs" in output:
                        opened.set()
            return ws.close_code


def sessions_then(server: Served, count: int, action) -> tuple[list[int], list[int | None]]:
    """Open `count` sessions, wait for their grids, run `action()`, wait for the ends."""

    async def go():
        events = [asyncio.Event() for _ in range(count)]
        tasks = [asyncio.create_task(_terminal_session(server.url, e, bytearray())) for e in events]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), DEADLINE)
        pids = server.sessions()
        await asyncio.to_thread(action)
        codes = await asyncio.wait_for(asyncio.gather(*tasks), GONE)
        return pids, codes

    return asyncio.run(go())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_serve_ends_every_session_and_closes_every_page(served, sig):
    ended = []
    pids, codes = sessions_then(served, 2, lambda: ended.append(served.stop(sig)))
    assert len(pids) == 2, pids
    ((code, err),) = ended
    assert code == 0 and "Traceback" not in err, err
    assert codes == [1000, 1000]  # each page was told, and says "Session ended"
    assert marked(served.mark) == []


def test_sessions_die_with_a_killed_server(served):
    # SIGKILL leaves serve no chance to end anything: the sessions go by themselves
    pids, _ = sessions_then(served, 1, lambda: served.proc.kill())
    assert len(pids) == 1
    wait_until_gone(pids, served.mark)


def test_a_session_that_ignores_quit_is_killed(served):
    pids = []

    def stop_the_session():
        (pid,) = served.sessions()
        os.kill(pid, signal.SIGSTOP)  # a hung workbench: it reads nothing, answers nothing
        pids.append(pid)

    async def go():
        opened, output = asyncio.Event(), bytearray()
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{served.url}/ws?width=100&height=30") as ws:

                async def read():
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            output.extend(msg.data)
                            if b"vCPUs" in output:
                                opened.set()

                reader = asyncio.create_task(read())
                await asyncio.wait_for(opened.wait(), DEADLINE)
                stop_the_session()
                await ws.close()  # the tab closes
                reader.cancel()

    asyncio.run(go())
    wait_until_gone(pids, served.mark)
    assert served.proc.poll() is None  # serve itself carries on


def test_serve_refuses_a_bad_scenario_before_listening(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nvcpus: 0\nactors: {}\n")
    done = subprocess.run(
        [sys.executable, "-m", "hvtui", "serve", str(bad), "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"{bad}:2:")


def test_a_busy_port_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "hvtui", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.startswith(f"--port: cannot listen on 127.0.0.1:{port}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_each_browser_session_opens_the_workbench_as_the_command_line_asked():
    import argparse

    from hvtui.cli import serve

    parser = argparse.ArgumentParser()
    serve.configure(parser)
    demo = str(ROOT / "scenarios" / "reviewer-race.yaml")
    args = parser.parse_args([demo, "--variant", "no-sync", "--schedule", "vcpu0,vmm"])
    assert serve.command(args).split()[1:] == [
        "-m",
        "hvtui",
        demo,
        "--variant",
        "no-sync",
        "--schedule",
        "vcpu0,vmm",
    ]
    assert (args.host, args.port) == ("127.0.0.1", 8000)  # this machine only, by default

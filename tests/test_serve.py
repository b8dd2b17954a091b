"""`hvtui serve` opened in a real browser: headless Chromium loads the page, the
workbench starts behind it, and the grid reaches the screen.

The page draws the terminal with xterm.js on a canvas, so there is no grid
text in the DOM to read. The test listens where the text does pass: a small
script installed before the page loads records what the page's WebSocket
receives (the workbench's terminal output), and a screenshot and the
canvas's pixels show it was drawn. Chromium is driven over its DevTools
protocol with aiohttp (a textual-serve dependency), so nothing else is needed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

aiohttp = pytest.importorskip("aiohttp")

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)

DEADLINE = 90  # seconds for the browser to show the grid; the app starts in about one

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


class DevTools:
    """Just enough of the Chrome DevTools protocol: send a command, get its result."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params):
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        async for msg in self.ws:
            reply = json.loads(msg.data)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]
        raise AssertionError("the browser closed the DevTools connection")

    async def evaluate(self, expression: str):
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")


@pytest.fixture
def served():
    """`hvtui serve scenarios/reviewer-race.yaml` on a free port: (url, first line)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hvtui",
            "serve",
            "scenarios/reviewer-race.yaml",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its sessions (one app per tab) end with it
    )
    try:
        first = proc.stdout.readline()
        wait_for_port(port, proc, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}", first
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a DevTools port: the port's base URL."""
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
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


async def open_workbench(devtools_base: str, url: str, screenshot: Path):
    """Load the page; wait until the workbench's grid has come through; screenshot."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{devtools_base}/json/list") as r:
            page = next(t for t in await r.json() if t["type"] == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tab = DevTools(ws)
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
            shot = await tab.send("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            classes = await tab.evaluate("document.body.className")
            return text, painted, classes


@needs_chromium
def test_the_browser_shows_the_workbench_grid(served, browser, tmp_path):
    url, first_line = served
    assert first_line == f"hvtui serve: open {url} in a browser (Ctrl+C stops)\n"
    shot = Path(os.environ.get("HVTUI_SERVE_SHOT", tmp_path / "serve.png"))
    text, (lit, colours), classes = asyncio.run(open_workbench(browser, url, shot))

    # the workbench ran behind the page and drew its panels and the scenario
    assert "vCPUs" in text, "the grid's panel never reached the browser"
    assert "reviewer-race" in text
    assert "-first-byte" in classes  # the page switched from its splash to the terminal
    # ... and xterm.js painted it: many cells lit, in the grid's several colours
    assert lit > 1000 and colours > 4, (lit, colours)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


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

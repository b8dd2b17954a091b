"""The headless core is reachable without the TUI (after harlequin's test of the same name).

Every module outside hvtui/tui is imported in a fresh interpreter, one after
the other, and none may pull in Textual: `run`, `check` and `export` (bar
svg, which imports it inside the function that draws) would pay ~150 ms for
nothing. If none does together, none does alone; the probe names the first
import that brought Textual in. The same holds for `hvtui <command> --help`.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import hvtui

TUI = "hvtui.tui"  # the one package allowed to import Textual at import time

HEADLESS = sorted(
    m.name
    for m in pkgutil.walk_packages(hvtui.__path__, "hvtui.")
    if not (m.name == TUI or m.name.startswith(TUI + ".")) and m.name != "hvtui.__main__"
)

PROBE = """
import contextlib, importlib, io, json, sys
culprits = []
for step in json.loads(sys.argv[1]):
    had = "textual" in sys.modules
    if step.startswith("hvtui "):
        from hvtui.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main(step.split()[1:])
            except SystemExit as exc:
                assert exc.code == 0, (step, exc.code)
    else:
        importlib.import_module(step)
    if not had and "textual" in sys.modules:
        culprits.append(step)
print(json.dumps(culprits))
"""


def textual_importers(steps: list[str]) -> list[str]:
    """Run each step (an import, or `hvtui ARGS`) in order; those that loaded Textual."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(steps)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_headless_modules_are_all_found():
    for name in (
        "hvtui.model.engine",
        "hvtui.scenario.load",
        "hvtui.model.session",
        "hvtui.cli.run",
    ):
        assert name in HEADLESS
    assert not [m for m in HEADLESS if m.startswith(TUI)]


def test_no_headless_module_imports_textual():
    assert textual_importers(HEADLESS) == []


def test_no_command_help_imports_textual():
    helps = [
        f"hvtui {command} --help" for command in ("run", "check", "export", "variants", "schema")
    ]
    assert textual_importers([*helps, "hvtui --help"]) == []


def test_the_probe_sees_textual_when_it_is_imported():
    """The checks above can fail: importing the TUI does load Textual, and is named."""
    assert textual_importers(["hvtui.model.engine", "hvtui.tui.app", "hvtui.tui.grid"]) == [
        "hvtui.tui.app"
    ]

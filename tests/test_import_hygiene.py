"""The headless core is reachable without the TUI (after harlequin's test of the same name).

Every module outside hvtui/tui is imported in a fresh interpreter, one after
the other, and none may pull in Textual: `run`, `check` and `export` (bar
svg, which imports it inside the function that draws) would pay ~150 ms for
nothing. If none does together, none does alone; the probe names the first
import that brought Textual in. The same holds for `hvtui <command> --help`.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

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
        f"hvtui {command} --help"
        for command in ("run", "check", "export", "variants", "steps", "schema")
    ]
    assert textual_importers([*helps, "hvtui --help"]) == []


def test_the_probe_sees_textual_when_it_is_imported():
    """The checks above can fail: importing the TUI does load Textual, and is named."""
    assert textual_importers(["hvtui.model.engine", "hvtui.tui.app", "hvtui.tui.grid"]) == [
        "hvtui.tui.app"
    ]


# -- the layers -------------------------------------------------------------------

ROOT = Path(hvtui.__file__).parent

# Which packages each package may import (besides itself and the leaf utilities
# hvtui.errors and hvtui.atomic): the model at the bottom, the checker and the
# scenario format on it, and the front ends on top. `exports -> tui` is the svg
# and cast exports, which import the workbench inside the function that draws.
LAYERS = {
    "model": set(),
    "check": {"model"},
    "scenario": {"model"},
    "runs": {"model", "scenario"},
    "view": {"model", "scenario", "runs"},
    "trace": {"model", "scenario"},
    "exports": {"model", "scenario", "runs", "trace", "tui"},
    "tui": {"model", "check", "scenario", "runs", "view"},
    "serve": set(),  # textual-serve's server and sessions; each session runs `hvtui FILE`
    "spin": {"model", "check", "exports"},  # SPIN as a second engine, on the Promela export
    "cli": {
        "model",
        "check",
        "scenario",
        "runs",
        "view",
        "exports",
        "trace",
        "tui",
        "serve",
        "spin",
    },
}
LEAVES = {"errors", "atomic", "collector"}


class _Imports(ast.NodeVisitor):
    """The modules one file imports, anywhere but under `if TYPE_CHECKING:`."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(a.name for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module:
            self.found.add(node.module)
            self.found.update(f"{node.module}.{a.name}" for a in node.names)


def module_imports() -> dict[str, set[str]]:
    """hvtui module -> the hvtui modules it imports (in functions too), not
    counting imports for annotations only."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text()))
        graph[name] = {m for m in visitor.found if m in modules and m != name}
    return graph


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_packages_import_only_the_layers_below_them():
    wrong = []
    for module, deps in module_imports().items():
        here = _package(module)
        if here not in LAYERS:
            # a new package must say where it stands; only the top-level entry points may not
            assert module in ("hvtui", "hvtui.__main__") or here in LEAVES, module
            continue
        for dep in deps:
            there = _package(dep)
            if there != here and there not in LEAVES and there not in LAYERS[here]:
                wrong.append(f"{module} imports {dep}")
    assert wrong == []


def test_no_module_imports_itself_through_others():
    graph = module_imports()
    cycles = []
    for start in sorted(graph):
        # every module reachable from start; start among them is a cycle
        seen, work = set(), list(graph[start])
        while work:
            m = work.pop()
            if m not in seen:
                seen.add(m)
                work.extend(graph[m])
        if start in seen:
            cycles.append(start)
    assert cycles == []


def test_the_import_graph_is_the_real_one():
    """The two tests above are not vacuous: they read the real imports, late ones too."""
    graph = module_imports()
    assert "hvtui.model.engine" in graph["hvtui.check.por"]
    assert "hvtui.scenario.rules" in graph["hvtui.scenario.load"]
    assert "hvtui.model.steps" in graph["hvtui.model.engine"]

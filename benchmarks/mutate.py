"""A small mutation run over the code that decides verdicts and exit codes.

    .venv/bin/python benchmarks/mutate.py            # every target below
    .venv/bin/python benchmarks/mutate.py expect     # targets whose file contains "expect"
    .venv/bin/python benchmarks/mutate.py --list     # the mutants, without running them

Each mutant is one small edit of one function (a comparison weakened or
flipped, `and`/`or` swapped, a `not` dropped, a constant changed, a
statement or a branch left out, a return value replaced by None), made on
the AST in a copy of the repository; the target's fast tests then run
against the copy, and a mutant they do not fail *survived*. It prints each
survivor with its line, and the counts. Not part of CI: it is for whoever
changes these modules or their tests.

Why not mutmut: its trampolines switch mutants only inside pytest's own
process, while much of the suite runs `python -m hvtui` in a subprocess,
and it wants a clean run of its whole test selection first. Here the copy
is first on PYTHONPATH, so a subprocess sees the mutant too, and any test
file can join a target's subset.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 5.0  # seconds a mutant's tests should take; the run says which targets exceed it
TIMEOUT = 60  # a mutant that hangs the tests counts as killed (and is named)

# The fast subset: a mutant's run must stay near BUDGET, so the hypothesis
# monitor test and the checker's spec tests (6-10 s each here) are left out.
FAST = ["tests/test_properties.py", "tests/test_property_edges.py", "tests/test_exit_codes.py"]

# file, the functions to mutate (qualified names; None: all), the tests that guard them
TARGETS = [
    ("hvtui/model/properties.py", None, FAST),
    ("hvtui/scenario/expect.py", None, FAST),
    ("hvtui/check/search.py", ["Result.violated", "Result.met", "_verdict"], FAST),
    ("hvtui/cli/run.py", ["main"], FAST),
    ("hvtui/cli/check.py", ["main"], FAST),
]

SWAPS = {
    ast.Eq: [ast.NotEq, ast.LtE, ast.GtE],
    ast.NotEq: [ast.Eq],
    ast.Lt: [ast.LtE, ast.GtE],
    ast.LtE: [ast.Lt, ast.Gt],
    ast.Gt: [ast.GtE, ast.LtE],
    ast.GtE: [ast.Gt, ast.Lt],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.And: [ast.Or],
    ast.Or: [ast.And],
    ast.BitAnd: [ast.BitOr],
    ast.BitOr: [ast.BitAnd],
    ast.RShift: [ast.LShift],
    ast.Add: [ast.Sub],
    ast.Sub: [ast.Add],
}


@dataclass(frozen=True)
class Mutant:
    file: str
    function: str
    line: int
    what: str
    index: int  # the index-th mutation site of the file, as walk() meets them
    choice: int  # which replacement at that site


def functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield f"{node.name}.{item.name}", item


def replacements(node: ast.AST) -> list[tuple[str, object]]:
    """What this node can become: (description, how) pairs."""
    out: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new in SWAPS.get(type(node.ops[0]), []):
            out.append((f"{type(node.ops[0]).__name__} -> {new.__name__}", ("op", new)))
    elif isinstance(node, ast.BoolOp | ast.BinOp):
        for new in SWAPS.get(type(node.op), []):
            out.append((f"{type(node.op).__name__} -> {new.__name__}", ("op", new)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("drop not", ("unwrap", None)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append((f"{node.value} -> {not node.value}", ("const", not node.value)))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        out.append((f"{node.value} -> {node.value + 1}", ("const", node.value + 1)))
    elif isinstance(node, ast.Return) and node.value is not None:
        # `return False` (or 0, "", None) -> `return None` is the same to every caller
        if not (isinstance(node.value, ast.Constant) and not node.value.value):
            out.append(("return None", ("return", None)))
    elif isinstance(node, ast.If):
        out.append(("if -> if False", ("test", False)))
        out.append(("if -> if True", ("test", True)))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        out.append(("drop call", ("pass", None)))
    return out


def sites(tree: ast.Module, wanted: list[str] | None) -> Iterator[tuple[str, ast.AST]]:
    """Every node of the wanted functions that can be mutated, in a fixed order."""
    for name, fn in functions(tree):
        if wanted is not None and name not in wanted:
            continue
        # zip(..., strict=True) -> False changes nothing on equal lengths: not a mutant
        skip = {
            id(k.value) for k in ast.walk(fn) if isinstance(k, ast.keyword) and k.arg == "strict"
        }
        for node in ast.walk(fn):
            if node is fn.body[0] and isinstance(node, ast.Expr) and _is_docstring(node):
                continue
            if id(node) not in skip and replacements(node):
                yield name, node


def _is_docstring(node: ast.Expr) -> bool:
    return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def mutants(file: str, wanted: list[str] | None) -> list[Mutant]:
    tree = ast.parse((ROOT / file).read_text())
    found = []
    for index, (name, node) in enumerate(sites(tree, wanted)):
        for choice, (what, _) in enumerate(replacements(node)):
            found.append(Mutant(file, name, node.lineno, what, index, choice))
    return found


def apply(source: str, m: Mutant, wanted: list[str] | None) -> str:
    tree = ast.parse(source)
    _, node = list(sites(tree, wanted))[m.index]
    kind, value = replacements(node)[m.choice][1]
    if kind == "op":
        if isinstance(node, ast.Compare):
            node.ops = [value()]
        else:
            node.op = value()
    elif kind == "const":
        node.value = value
    elif kind == "return":
        node.value = ast.Constant(None)
    elif kind == "test":
        node.test = ast.Constant(value)
    else:
        _replace(tree, node, kind)
    return ast.unparse(ast.fix_missing_locations(tree))


def _replace(tree: ast.Module, target: ast.AST, kind: str) -> None:
    """`not x` -> `x`, or a call statement -> `pass`, wherever the node sits."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if item is not target:
                    continue
                new = target.operand if kind == "unwrap" else ast.Pass()
                if isinstance(value, list):
                    value[i] = new
                else:
                    setattr(parent, field, new)
                return


def run_tests(workdir: Path, tests: list[str]) -> tuple[bool, float]:
    """(the tests passed, seconds) against the copy in workdir."""
    # Without the plugins' autoload (Textual's snapshot plugin alone costs ~3 s
    # a start) and without the suite's addopts (xdist): pytest-timeout only.
    env = {
        **os.environ,
        "PYTHONPATH": str(workdir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-o", "addopts=", "-p", "pytest_timeout"]
            + ["-p", "no:cacheprovider", "--timeout", str(TIMEOUT), *tests],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=TIMEOUT * 2,
        )
        passed = done.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="?", help="only targets whose file contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    args = parser.parse_args()
    targets = [t for t in TARGETS if args.only is None or args.only in t[0]]

    with tempfile.TemporaryDirectory(prefix="hvtui-mutants-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(
            ROOT, work, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".*cache")
        )
        totals = {"mutants": 0, "killed": 0, "survived": 0}
        for file, wanted, tests in targets:
            original = (ROOT / file).read_text()
            found = mutants(file, wanted)
            print(f"{file}: {len(found)} mutants, tests: {' '.join(tests)}", flush=True)
            if args.list:
                for m in found:
                    print(f"  {m.line}: {m.function}: {m.what}")
                continue
            # the unparsed original must pass, or every mutant would look killed
            (work / file).write_text(ast.unparse(ast.parse(original)))
            passed, baseline = run_tests(work, tests)
            if not passed:
                print(f"  the tests fail on the unmutated {file}: skipped", flush=True)
                continue
            slow = []
            for m in found:
                (work / file).write_text(apply(original, m, wanted))
                passed, seconds = run_tests(work, tests)
                totals["mutants"] += 1
                if seconds > BUDGET:
                    slow.append(seconds)
                if passed:
                    totals["survived"] += 1
                    print(f"  SURVIVED {file}:{m.line} {m.function}: {m.what}", flush=True)
                else:
                    totals["killed"] += 1
            (work / file).write_text(original)
            over = f"; {len(slow)} over {BUDGET:.0f} s" if slow else ""
            print(f"  baseline {baseline:.1f} s a run{over}", flush=True)
        if not args.list:
            print(
                f"mutants {totals['mutants']}, killed {totals['killed']}, "
                f"survived {totals['survived']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

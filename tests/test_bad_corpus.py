"""Every malformed scenario in tests/data/bad/ is refused the same way.

Each file goes through the real CLI (`python -m hvtui run FILE`) in its own
process: exit 2, nothing on stdout, exactly one line on stderr that starts
with `FILE:LINE:COL: ` (a directory has no position), and never a traceback.
EXPECTED.txt holds every one of those lines, so a reviewer can read all the
messages in one place; after a deliberate change, rewrite it with
`python tests/update_goldens.py bad` and review the diff. The tests never write it.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cli

from hvtui.scenario.load import MAX_BYTES

BAD = ROOT / "tests" / "data" / "bad"
GOLDEN = BAD / "EXPECTED.txt"
CASES = sorted(p for p in BAD.iterdir() if p.suffix == ".yaml")
CATEGORIES = (
    "syntax",
    "encoding",
    "empty",
    "top",
    "unknown",
    "missing",
    "type",
    "range",
    "dup",
    "place",
    "alias",
    "tag",
    "nest",
    "schedule",
    "oneline",
    "hyperv",  # what a vCPU without a Hyper-V context cannot be or do
)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def refusals() -> dict[Path, tuple[int, str, str]]:
    """Every case through the CLI, several processes at a time (and for update_goldens.py)."""
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2)) as pool:
        outcomes = pool.map(lambda p: run_cli("run", _rel(p)), CASES)
        return dict(zip(CASES, outcomes, strict=True))


@pytest.fixture(scope="module")
def results() -> dict[Path, tuple[int, str, str]]:
    return refusals()


def test_the_corpus_covers_every_kind_of_mistake():
    assert len(CASES) >= 100
    for category in CATEGORIES:
        assert any(p.name.startswith(category + "-") for p in CASES), category


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_refused_with_one_positioned_line(case: Path, results):
    code, out, err = results[case]
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    where = re.escape(_rel(case)) + (r": " if case.is_dir() else r":\d+:\d+: ")
    assert re.match(where, err), err


def test_messages_are_the_reviewed_ones(results):
    got = "".join(results[case][2] for case in CASES)
    if not yaml.__with_libyaml__:
        pytest.skip("EXPECTED.txt has libyaml's syntax messages; this PyYAML has no libyaml")
    assert got.splitlines() == GOLDEN.read_text(encoding="utf-8").splitlines()


# -- huge inputs, made here rather than kept on disk ---------------------------


def _many_ops(count: int, last: str) -> str:
    ops = "".join(f"    - {{id: x{i}, op: exit, vcpu: 1}}\n" for i in range(count - 1))
    return f"name: huge\nvcpus: 4\nactors:\n  vmm:\n{ops}    - {last}\n"


def test_100k_ops_with_the_last_one_wrong_is_refused_at_that_op(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(_many_ops(100_000, "{id: last, op: exit, vcpu: 4}"))
    code, out, err = run_cli("run", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"{path}:100004:34: actors.vmm[99999].vcpu: 4 is out of range (the scenario has 4 vCPUs)\n"
    )


def test_a_file_past_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(_many_ops(MAX_BYTES // 30, "{op: exit, vcpu: 1}"))
    size = path.stat().st_size
    assert size > MAX_BYTES
    code, out, err = run_cli("run", str(path))
    assert (code, out) == (2, "")
    text = path.read_text()[:MAX_BYTES]  # ASCII: a byte a character
    line, col = text.count("\n") + 1, MAX_BYTES - text.rfind("\n")
    assert err == (
        f"{path}:{line}:{col}: the file is {size:,} bytes (expected a scenario of at most "
        f"{MAX_BYTES:,}: it passes that here)\n"
    )


def test_a_100k_op_file_within_the_limit_loads(tmp_path):
    from hvtui.scenario.load import load

    path = tmp_path / "huge.yaml"
    path.write_text(_many_ops(100_000, "{id: last, op: exit, vcpu: 3}"))
    assert path.stat().st_size <= MAX_BYTES
    scenario = load(str(path))
    ((name, ops),) = scenario.program.threads
    assert (name, len(ops), ops[-1].id, ops[-1].vcpu) == ("vmm", 100_000, "last", 3)

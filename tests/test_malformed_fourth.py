"""Bad input, a fourth round, as an outside reviewer meets it: each case here
once broke the contract, found by feeding files and arguments no earlier round
tried. A refusal is one printable line `FILE:LINE:COL: ...` (or `FILE: ...`,
`--option: ...`), exit 2, nothing on stdout, nothing written; a valid file
that only looks odd is not refused, and what it says is shown as written.
Every case goes through the real CLI in a subprocess.
"""

from __future__ import annotations

import pytest
from conftest import run_cli


def refused(*args: str, **how) -> str:
    code, out, err = run_cli(*args, **how)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    line = err.rstrip("\n")
    assert line.isprintable(), repr(line)
    return line


def scenario(tmp_path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- what a scenario says, shown as written ------------------------------------------
# `run` printed its header through Rich markup: a name holding `[/]` ended in a
# MarkupError traceback, `[bold]` and `:smile:` were obeyed rather than shown.


@pytest.mark.parametrize(
    "name",
    ["x[/]y", "[link=file:///etc/passwd]x", ":smile: t", "a [bold]b\\"],
    ids=["closing-tag", "link", "emoji-code", "open-tag-backslash"],
)
def test_run_shows_a_name_that_looks_like_markup_as_written(name, tmp_path):
    quoted = name.replace("\\", "\\\\")
    path = scenario(tmp_path, f'name: "{quoted}"\nvcpus: 2\nactors: {{}}\n')
    code, out, err = run_cli("run", path)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"{name} ({path}, variant posted, 0 steps)"


def test_run_shows_a_file_name_that_looks_like_markup_as_written(tmp_path):
    path = scenario(tmp_path, "name: t\nvcpus: 2\nactors: {}\n", name="[red]x[bold].yaml")
    code, out, err = run_cli("run", path)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"t ({path}, variant posted, 0 steps)"


# -- what a scenario says, inside the Promela model ---------------------------------------
# A name or op id holding `*/` ended the C comment it was copied into, and the rest
# became Promela (`spin -a failed ... undeclared variable`); vmm:a.b and vmm:a_b were
# both proctype p_vmm_a_b, a redeclaration. Valid scenarios: SPIN must check them.

spin = pytest.mark.skipif(
    not __import__("shutil").which("spin"), reason="needs SPIN (apt-get install spin)"
)

COMMENT_CLOSERS = (
    'name: "n */ x"\nvcpus: 2\nactors:\n'
    '  vcpu0: [{id: "f */ bogus", op: flush, targets: [1]}]\n'
    '  vmm: [{id: "k*/", op: exit, vcpu: 1}]\n'
)
LOOKALIKE_THREADS = (
    "name: t\nvcpus: 2\nactors:\n"
    '  "vmm:a.b": [{op: exit, vcpu: 1}]\n'
    '  "vmm:a_b": [{op: exit, vcpu: 0}]\n'
    '  "vmm:a-b": [{op: run, vcpu: 1}]\n'
)


def verdicts(*args: str) -> dict:
    import json

    code, out, err = run_cli("check", "--json", *args)
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["complete"], result
    return {p: v["verdict"] for p, v in result["properties"].items()}


@spin
@pytest.mark.parametrize(
    "text", [COMMENT_CLOSERS, LOOKALIKE_THREADS], ids=["comment-closer", "lookalike-threads"]
)
def test_spin_checks_a_scenario_whose_names_are_awkward_in_promela(text, tmp_path):
    path = scenario(tmp_path, text)
    assert verdicts(path, "--engine", "spin") == verdicts(path)


def test_the_promela_export_keeps_an_op_id_inside_its_comment(tmp_path):
    code, out, err = run_cli("export", scenario(tmp_path, COMMENT_CLOSERS), "-f", "promela")
    assert code == 0, err
    assert " * hvtui " in out and ": scenario n * / x (s.yaml), variant posted\n" in out
    for line in out.splitlines():  # a comment closes once, at the end of its line
        assert line.count("*/") <= 1 and (line.rstrip().endswith("*/") or "*/" not in line), line

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

"""More bad input, as a user meets it: each case here once ended in a traceback,
a message thousands of characters long, a silent success or output before the
refusal. Every one goes through the real CLI in a subprocess and must be one
line `FILE:LINE:COL: ...` (or `FILE: ...`), exit 2, nothing on stdout.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, SCENARIOS, run_cli

RACE = str(SCENARIOS / "reviewer-race.yaml")
TRACE = ROOT / "tests" / "data" / "traces" / "reviewer-race.report"
HEAD = "name: t\nvcpus: 2\n"


def refused(*args: str) -> str:
    code, out, err = run_cli(*args)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    return err.rstrip("\n")


def scenario(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


# -- integers past Python's 4300-digit limit ----------------------------------------
# str() of such an int raises ValueError; a hex or octal one used to be compared
# with its decimal form, and one as a mapping key was joined into the field path.

BIG = "9" * 5000
HEX = "0x" + "f" * 5000


@pytest.mark.parametrize(
    "body, where",
    [
        ("actors:\n  vcpu0: [{op: flush, targets: {mask: " + HEX + "}}]\n", "4:39: "),
        ("initial: {inhibit: [0o" + "7" * 5000 + "]}\nactors: {}\n", "3:21: "),
        ("initial:\n  mode:\n    ? " + BIG + "\n    : user\nactors: {}\n", "5:7: initial.mode."),
        ("initial:\n  mode:\n    ? " + HEX + "\n    : user\nactors: {}\n", "5:7: initial.mode."),
        ("actors:\n  ? " + BIG + "\n  : []\n", "4:5: actors."),
        ("actors: {}\nexpect:\n  final:\n    ? " + HEX + "\n    : {}\n", "6:7: expect.final."),
        ("actors: {}\n? " + BIG + "\n: 1\n", "4:3: 9999"),
    ],
    ids=["hex-mask", "octal-id", "decimal-key", "hex-key", "actor-key", "final-key", "top-key"],
)
def test_a_number_of_thousands_of_digits_is_refused_in_a_short_line(body, where, tmp_path):
    path = scenario(tmp_path, HEAD + body)
    line = refused("run", path)
    assert line.startswith(f"{path}:{where}"), line
    assert len(line) < 400, line
    assert "characters)" in line  # the number is shown cut, with its length

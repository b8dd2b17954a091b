"""Rewrite the golden files the tests compare with, after a deliberate change.

    .venv/bin/python tests/update_goldens.py            # all of them
    .venv/bin/python tests/update_goldens.py exports    # tests/golden/reviewer-race.*
    .venv/bin/python tests/update_goldens.py bad        # tests/data/bad/EXPECTED.txt

Then review `git diff` like code: the diff is the change a user will see.
The tests only read these files; this script is the one thing that writes
them, from the same commands and in the same way as the tests that read them.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]  # `tests.x` and the tests' own `conftest`

from hvtui.atomic import write_file  # noqa: E402
from tests import test_bad_corpus, test_export_golden  # noqa: E402


def exports() -> list[Path]:
    written = []
    for fmt in test_export_golden.SUFFIX:
        path = test_export_golden.golden_path(fmt)
        write_file(str(path), test_export_golden.export(fmt).encode("utf-8"), True, "")
        written.append(path)
    return written


def bad() -> list[Path]:
    path = test_bad_corpus.GOLDEN
    text = "".join(err for _, _, err in test_bad_corpus.refusals().values())
    write_file(str(path), text.encode("utf-8"), True, "")
    return [path]


GOLDENS = {"exports": exports, "bad": bad}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in GOLDENS]
    if unknown:
        print(f"update_goldens: unknown {unknown} (expected some of {list(GOLDENS)})")
        return 2
    for name in names or GOLDENS:
        for path in GOLDENS[name]():
            print(f"wrote {path.relative_to(TESTS.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

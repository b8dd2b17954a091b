"""Rewrite tests/golden/reviewer-race.* after a deliberate change to an export or compare.

    .venv/bin/python tests/update_export_goldens.py

Then review `git diff` like code. The files and the commands that print
them are tests/test_export_golden.GOLDENS; the tests only read the files.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent)]

from hvtui.atomic import write_file  # noqa: E402
from tests import test_export_golden  # noqa: E402


def main() -> int:
    for key in test_export_golden.GOLDENS:
        path = test_export_golden.golden_path(key)
        write_file(str(path), test_export_golden.export(key).encode("utf-8"), True, "")
        print(f"wrote {path.relative_to(TESTS.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

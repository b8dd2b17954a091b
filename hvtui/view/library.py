"""Where scenarios are found: the built-in demo and the `scenarios/` folders.

No Textual. The demo must open when hvtui is installed, not only from a
checkout: it is looked up as package data (`hvtui/scenarios/`, where a
wheel build puts the repository's `scenarios/`) and then next to the
package (a checkout or an editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

DEMO = "reviewer-race.yaml"
_PACKAGE = Path(__file__).resolve().parent.parent  # .../hvtui


def builtin_dir() -> Path | None:
    """The scenarios shipped with hvtui."""
    for candidate in (_PACKAGE / "scenarios", _PACKAGE.parent / "scenarios"):
        if (candidate / DEMO).is_file():
            return candidate
    return None


def demo_path() -> str:
    """The built-in demo's path, relative to the working directory when it is below it."""
    found = builtin_dir()
    if found is None:
        raise FileNotFoundError(f"the built-in demo {DEMO} is not installed")
    return _shown(found / DEMO)


def scenario_files(open_file: str | None = None) -> list[str]:
    """Every *.yaml in ./scenarios, next to the open file, and built in; each once, sorted."""
    folders = [Path("scenarios")]
    if open_file:
        folders.append(Path(open_file).parent)
    builtin = builtin_dir()
    if builtin is not None:
        folders.append(builtin)
    seen: dict[Path, str] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            seen.setdefault(path.resolve(), _shown(path))
    return sorted(seen.values())


def _shown(path: Path) -> str:
    """Relative to the working directory when below it: short, and stable in tests."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(resolved)

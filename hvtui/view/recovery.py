"""The recovery file: unsaved work left behind when a session ends without a save.

No Textual here. A workbench that ends with unsaved work anyway (a signal,
a closed terminal, a closed browser tab under `hvtui serve`) writes its
session, as a scenario, to one file per scenario it opened; the next
workbench on that scenario offers it. The files live under
$HVTUI_STATE_DIR, else $XDG_STATE_HOME/hvtui, else ~/.local/state/hvtui,
never beside the user's own files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hvtui.errors import InputError
from hvtui.scenario.load import Scenario, load, save


def state_dir() -> Path:
    explicit = os.environ.get("HVTUI_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "hvtui"


def recovery_path(origin_file: str) -> Path:
    """One file per opened scenario, named after it and its absolute path."""
    absolute = os.path.abspath(origin_file)
    digest = hashlib.sha1(absolute.encode()).hexdigest()[:10]
    return state_dir() / "recovery" / f"{Path(origin_file).stem}-{digest}.yaml"


def write(origin_file: str, scenario: Scenario) -> Path:
    path = recovery_path(origin_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(scenario, str(path), overwrite=True)
    return path


def find(origin_file: str) -> Scenario | None:
    """The recovered session for this scenario, if one was left and still loads."""
    path = recovery_path(origin_file)
    if not path.is_file():
        return None
    try:
        return load(str(path))
    except InputError:
        return None  # a recovery of a file that changed since: nothing to offer


def discard(origin_file: str) -> None:
    path = recovery_path(origin_file)
    if path.exists():
        path.unlink()

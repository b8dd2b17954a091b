"""Where an export goes: stdout, or a file written whole or not at all."""

from __future__ import annotations

import sys

from hvtui.atomic import write_file


def write(text: str, path: str | None, force: bool = False) -> int:
    """Write `text` to `path` (or stdout when None); returns the bytes written.

    A file is written to a temporary name beside it and then moved into
    place, so a reader never sees half an export; an existing file is only
    replaced with `force`.
    """
    data = text.encode("utf-8")
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return len(data)
    write_file(path, data, force)
    return len(data)

"""Where an export goes: stdout, or a file written whole or not at all."""

from __future__ import annotations

import os
import sys
import tempfile

from hvtui.errors import InputError

EXISTS = "already exists (expected a new file, or --force to replace it)"


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
    if os.path.exists(path) and not force:
        raise InputError(path, EXISTS)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".hvtui-export-", dir=directory)
    except OSError as exc:
        raise InputError(path, f"cannot write here: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; an export is not
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file appeared meanwhile: never clobbered
            os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
        raise InputError(path, EXISTS) from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

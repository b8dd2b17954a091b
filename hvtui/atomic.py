"""Writing a user's file whole or not at all, and never over one unasked."""

from __future__ import annotations

import errno
import os
import stat
import tempfile

from hvtui.errors import InputError

# what every command says when its output would land on a file that is there
EXISTS = "already exists (expected a new file, or --force to replace it)"


def write_file(path: str, data: bytes, overwrite: bool, exists: str = EXISTS) -> None:
    """Write `data` to `path` through a temp file beside it, fsync'd, then renamed.

    Without `overwrite` an existing path is refused with the message
    `exists`, and the final step is a hard link, so a file that appears
    meanwhile is still never clobbered. A path that exists and is not a
    regular file (/dev/null, a FIFO) is written through, not replaced:
    renaming over it would put a plain file where a device was.
    Failures leave the old file as it was and no temp file behind.
    """
    writable(path, overwrite, exists)
    if os.path.lexists(path):
        if not _is_file_or_dangling(path):
            _write_through(path, data)
            return
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        raise InputError(path, exists) from None
    except OSError as exc:
        raise InputError(
            path, f"cannot write: {exc.strerror} (the old file, if any, is unchanged)"
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def writable(path: str, overwrite: bool, exists: str = EXISTS, option: str = "") -> None:
    """Refuse now what write_file() would refuse: a command that works for a
    minute before it writes checks its output path before it starts.

    `option` names where the path came from (`--save`), for the one refusal
    that has no path to name: an empty one.
    """
    if not path:
        raise InputError(option, "an empty file name (expected a path to write to)")
    if path == "-":  # elsewhere stdout: here it would make a file named '-'
        raise InputError(
            option, "'-' is not a file name here (expected a path to write to; ./- for that file)"
        )
    if os.path.isdir(path):  # --force cannot mean "replace this directory"
        raise InputError(path, "is a directory (expected a file name to write)")
    if os.path.basename(path) in ("", ".", ".."):  # `newdir/`: a directory, if any
        raise InputError(path, "names a directory, not a file (expected a file name to write)")
    try:
        os.lstat(path)  # what lexists() hides: a name past NAME_MAX, a loop of links on the way
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.ENOTDIR:  # a file where a directory goes: said below
            raise InputError(
                path, f"cannot write here: {exc.strerror} (expected a file name to write)"
            ) from None
    else:
        if not overwrite:
            raise InputError(path, exists)
    if os.path.lexists(path) and not _is_file_or_dangling(path):
        return  # a device or a FIFO, written through: its directory is not written
    directory = _directory(path)
    if not os.path.isdir(directory):
        why = os.strerror(errno.ENOTDIR if os.path.exists(directory) else errno.ENOENT)
        raise InputError(path, f"cannot write here: {why} (expected a writable directory)")
    # the temp file write_file() makes there, tried now: a directory that refuses it
    # (no permission, a read-only mount, /proc) refuses it before the work, not after
    fd, probe = _temp_beside(path)
    os.close(fd)
    os.unlink(probe)


def not_the_input(path: str, source: str, what: str) -> None:
    """Refuse an output that is the input file itself, however spelled (another
    path, a link): `export s.yaml -o s.yaml --force` would replace the scenario
    with its export, a typo for `-o s.md` costing what the user wrote."""
    try:
        same = os.path.samefile(path, source)
    except OSError:  # either is missing (the output, usually) or unreadable: not the same
        return
    if same:
        raise InputError(path, f"is the {what} being read (expected another file name to write)")


def _temp_beside(path: str) -> tuple[int, str]:
    """mkstemp() in the directory of `path`: (its open fd, its name), or the InputError."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".hvtui-", suffix=".tmp", dir=_directory(path))
    except OSError as exc:
        raise InputError(
            path, f"cannot write here: {exc.strerror} (expected a writable directory)"
        ) from None
    return fd, tmp


def _directory(path: str) -> str:
    """The directory `path` is created in, as the system resolves it: not
    os.path.abspath(), which takes `missing/../out` for `out` where the
    system fails on `missing`."""
    return os.path.dirname(path) or os.curdir


def _is_file_or_dangling(path: str) -> bool:
    """A regular file, or a symlink to nothing: either is replaced by renaming."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _write_through(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror} (expected a writable file)") from None


def _mode_for(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 & ~umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask

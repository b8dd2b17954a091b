"""One exception for everything a user wrote wrong."""

from __future__ import annotations

import os
import re
import stat

# A value the message quotes is cut to this many characters: the scenario's
# fields cut theirs to 40 already; a command-line argument or a trace line
# can be a megabyte, and the message must stay one line a terminal can show.
QUOTED = 200
_LONG_QUOTE = re.compile(f"'([^'\n]{{{QUOTED + 1},}})'")


class InputError(Exception):
    """Bad input: where it is, which field, and what was expected.

    str() is the one line the CLI prints before exiting 2:
    `FILE:LINE:COL: path.to.field: what is wrong (what was expected)`.
    """

    def __init__(
        self,
        file: str,
        message: str,
        line: int | None = None,
        col: int | None = None,
        path: str = "",
    ):
        super().__init__(message)
        self.file = file
        self.message = message
        self.line = line
        self.col = col
        self.path = path

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.col}"
        # a command line's own mistake (an option without its partner) has no file
        text = ": ".join(part for part in (where, self.path, self.message) if part)
        return cut_quotes(printable(text))


def printable(text: str) -> str:
    """`text` with every character a terminal would not print as itself escaped
    (\\n, \\x1b, \\x85, \\u2028): a file name or a key in a field path holds
    what the user wrote, and the message must stay one line that cannot drive
    the terminal (a NEL or a line separator breaks the line for str.splitlines()
    and for editors, an ESC starts a control sequence)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cut_quotes(text: str) -> str:
    """Every 'quoted value' of a message longer than QUOTED, cut: 'xxx...' (N characters)."""
    return _LONG_QUOTE.sub(lambda m: f"'{m[1][:QUOTED]}...' ({len(m[1])} characters)", text)


def regular_file(path: str, expected: str, stdin_hint: str = "") -> os.stat_result:
    """The stat of an input file that can be read to its end, or the InputError
    saying why not: empty, missing, a directory, or a FIFO or device (which would block
    or never end)."""
    if not path:  # an unset shell variable: say so, not "no such file"
        raise InputError("", f"an empty file name (expected {expected})")
    try:
        info = os.stat(path)
    except OSError as exc:
        also = stdin_hint if path == "-" else ""
        reason = (exc.strerror or str(exc)).lower()
        raise InputError(
            path, f"cannot read the file: {reason} (expected {expected}{also})"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, f"is a directory (expected {expected})")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, f"is not a regular file (expected {expected})")
    return info

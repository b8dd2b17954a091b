"""One exception for everything a user wrote wrong."""

from __future__ import annotations


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
        # one line, always: a file name or a quoted value may hold a line break
        return text.replace("\r", "\\r").replace("\n", "\\n")

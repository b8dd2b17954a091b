"""A JSON document written as it is produced, byte for byte what `json.dumps(doc, indent=2)` gives.

A 2-million-step run is a document of a gigabyte or so; building it as one
dict first held all of it in memory, and `json.dump` with an indent runs
the pure-Python encoder over every value. Here the big parts (the schedule,
the events, the final grid) are `Items`: a function producing the values
on demand, and `write` formats each value with a small encoder of its own
that matches `json.dumps(..., indent=2)` exactly (tested against it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii as _string

Write = Callable[[str], object]


class Items:
    """A JSON array (or, with `pairs`, an object) whose members are made when written."""

    __slots__ = ("make", "pairs")

    def __init__(self, make: Callable[[], Iterable], pairs: bool = False):
        self.make = make
        self.pairs = pairs  # members are (key, value): an object

    def materialize(self) -> list | dict:
        return dict(self.make()) if self.pairs else list(self.make())


def materialize(value: object) -> object:
    """The same document with every `Items` made: what `json.dumps` accepts."""
    if isinstance(value, Items):
        return materialize(value.materialize())
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value


def write(value: object, out: Write, level: int = 0) -> None:
    """`value` as `json.dumps(value, indent=2)` would print it, nested `level` deep.

    Written in pieces: one member of an `Items` at a time, so the document is
    never whole in memory.
    """
    if isinstance(value, Items):
        members = value.make()
        if value.pairs:
            _members(members, out, level, "{", "}", pairs=True)
        else:
            _members(members, out, level, "[", "]", pairs=False)
    elif type(value) is dict and any(type(v) is Items for v in value.values()):
        # a dict holding Items is streamed member by member; one holding
        # none (an event, a vCPU's fields) is one string, and dumps() refuses
        # an Items nested deeper rather than print it wrong
        _members(value.items(), out, level, "{", "}", pairs=True)
    else:
        out(dumps(value, level))


def _members(members: Iterable, out: Write, level: int, open_: str, close: str, pairs: bool):
    inner = "\n" + "  " * (level + 1)
    first = True
    for member in members:
        out((open_ if first else ",") + inner)
        first = False
        if pairs:
            key, member = member
            out(_key(key) + ": ")
        write(member, out, level + 1)
    out(open_ + close if first else "\n" + "  " * level + close)


def dumps(value: object, level: int = 0) -> str:
    """`json.dumps(value, indent=2)`, with every line after the first indented
    `level` steps more (where the value sits inside a larger document)."""
    parts: list[str] = []
    _encode(value, "\n" + "  " * level, parts.append)
    return "".join(parts)


def _encode(value: object, newline: str, out: Write) -> None:
    if isinstance(value, str):
        out(_string(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, int):
        out(int.__repr__(value))
    elif isinstance(value, float):
        out(_float(value))
    elif isinstance(value, dict):
        if not value:
            out("{}")
            return
        inner = newline + "  "
        sep = "{" + inner
        for key, item in value.items():
            out(sep + _key(key) + ": ")
            _encode(item, inner, out)
            sep = "," + inner
        out(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out("[]")
            return
        inner = newline + "  "
        sep = "[" + inner
        for item in value:
            out(sep)
            _encode(item, inner, out)
            sep = "," + inner
        out(newline + "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: object) -> str:
    """A dict key as json.dumps writes it: strings quoted, numbers and bools as text."""
    if isinstance(key, str):
        return _string(key)
    if key is True or key is False or key is None:
        return _string({True: "true", False: "false", None: "null"}[key])
    if isinstance(key, int):
        return _string(int.__repr__(key))
    if isinstance(key, float):
        return _string(_float(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)

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
    return _text(value, "\n" + "  " * level)


def _text(value: object, newline: str) -> str:
    # one string per container, joined: a 2-million-event document is
    # mostly small dicts of scalars, and this is the loop that writes them
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        items = (
            (_string(k) if type(k) is str else _key(k)) + ": " + _text(v, inner)
            for k, v in value.items()
        )
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + inner + ("," + inner).join(_text(v, inner) for v in value) + newline + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):  # e.g. a Step
        return _string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return _text(dict(value), newline)
    if isinstance(value, list | tuple):
        return _text(list(value), newline)
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

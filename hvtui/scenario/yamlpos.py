"""Safe YAML that remembers where every value came from.

We read the parser's event stream (libyaml's when PyYAML has it) and build
plain dicts and lists that also carry each entry's line and column. Nothing
here ever constructs a Python object from a tag: scalars are resolved by the
YAML 1.2 core schema (the one editors and JSON Schema tools use, so `yes`
stays text and `1e9` is a float), and the loader refuses what a scenario
never needs: custom tags, aliases (no billion laughs), keys that are not text
or integers, duplicate keys, a second document, control characters and bad
UTF-8. Every refusal is one InputError naming the offending token.
"""

from __future__ import annotations

import re

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from hvtui.errors import InputError

Pos = tuple[int, int]  # 1-based line, column

MAX_DEPTH = 32  # a scenario nests 6 deep; anything far past that is junk
_PARSER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null")}


class PosDict(dict):
    """A mapping whose `keypos[k]` and `valpos[k]` say where key and value were."""

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.keypos: dict[object, Pos] = {}
        self.valpos: dict[object, Pos] = {}


class PosList(list):
    """A sequence whose `itempos[i]` says where item i was."""

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.itempos: list[Pos] = []


class _AsWritten:
    """A number that shows as the user wrote it, so an error quotes their token."""

    text: str

    def __new__(cls, value, text: str):
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


class Int(_AsWritten, int):
    """An integer written other than as its decimal value (0x6, +3, 1000...0);
    int(x) gives the plain value for everything that is kept."""


class Float(_AsWritten, float):
    """A float, shown as written (`1e9`, not 1000000000.0)."""


# -- the YAML 1.2 core schema, for plain (unquoted, untagged) scalars ---------------

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _int(text: str) -> int:
    if text.startswith(("0x", "0o")):
        # never written as its decimal value, so never compared with str(value),
        # which Python refuses past 4300 digits
        return Int(int(text[2:], 16 if text[1] == "x" else 8), text)
    try:
        value = int(text)
    except ValueError:
        # Python refuses to convert decimals past 4300 digits (a DoS guard);
        # the magnitude is all a range check needs, and the text is kept.
        digits = text.lstrip("+-")
        value = 10 ** (len(digits) - 1) * (-1 if text.startswith("-") else 1)
        return Int(value, text)
    return value if text == str(value) else Int(value, text)


def _float(text: str) -> float:
    # Python spells .inf and .nan without the dot
    special = text.lower().endswith(("inf", "nan"))
    return Float(float(text.replace(".", "", 1) if special else text), text)


def plain_scalar(text: str) -> object:
    """A plain (unquoted, untagged) scalar as the YAML 1.2 core schema reads it."""
    if text[:1].isalpha() and text[0] not in "nNtTfF":
        return text  # a word: most scalars in a scenario, and no regex needed
    if _NULL.fullmatch(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.fullmatch(text):
        return _int(text)
    if _FLOAT.fullmatch(text):
        return _float(text)
    return text


def _tagged(tag: str, text: str) -> object:
    """An explicit !!str/!!int/... tag: the text must read as that type."""
    kind = tag[len(_CORE) :]
    if kind == "str":
        return text
    value = plain_scalar(text)
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }[kind](value)
    if not ok:
        raise ValueError(kind)
    if kind == "float" and not isinstance(value, float):
        # shown with its tag: "vcpus: 4 is not an integer" would read as nonsense
        return Float(_float(text), f"!!float {text}")
    return value


def show_tag(tag: str) -> str:
    """A tag as it is written: !!binary, !local, !<verbatim:uri>."""
    if tag.startswith(_CORE):
        return "!!" + tag[len(_CORE) :]
    return tag if tag.startswith("!") else f"!<{tag}>"


def show_value(value: object, limit: int = 40) -> str:
    """A value as the user wrote it, cut short: 'text', 12, 0x6, true, null."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        if len(value) > limit:  # keep the quotes closed
            return f"{show_value(value[: limit - 10], 10**9)[:-1]}...' ({len(value)} characters)"
        text = f"'{value}'" if value.isprintable() else repr(value)
    elif isinstance(value, PosDict):
        return "a mapping"
    elif isinstance(value, PosList):
        return "a list"
    else:
        try:
            text = repr(value)
        except ValueError:  # an int past Python's 4300-digit conversion limit
            text = f"a {value.bit_length()}-bit integer"
    return show_unquoted(text, limit)


def show_unquoted(text: str, limit: int = 40) -> str:
    """Text as it is, unquoted (a number as written), cut short: 999... (5000 characters)."""
    return text if len(text) <= limit else f"{text[: limit - 10]}... ({len(text)} characters)"


def short_path(path: str, limit: int = 80) -> str:
    """A field path fit for one line: a 40-deep junk path keeps its head and tail."""
    return path if len(path) <= limit else f"{path[: limit - 20]}...{path[-15:]}"


def join(path: str, key: object) -> str:
    """The dotted field path of `key` inside `path` (the top level has no prefix)."""
    return f"{path}.{key}" if path else str(key)


# -- reading ---------------------------------------------------------------------


def _wide_encoding(data: bytes) -> str | None:
    """UTF-32 or UTF-16 by their byte-order mark or, without one, by the NULs
    that pad the first ASCII characters (a scenario starts with some)."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if len(data) >= 4 and data[:4].count(0) == 3:
        return "UTF-32"
    head = data[:4]
    if len(head) == 4 and (head[0::2] == b"\0\0" or head[1::2] == b"\0\0") and head.count(0) == 2:
        return "UTF-16"
    return None


# the byte-order mark some editors start a UTF-8 file with: no column of the first line
# (the parser skips it too), and not text
_BOM = "\ufeff"


def decode(data: bytes, file: str) -> str:
    """UTF-8 bytes to text, without a byte-order mark; a bad byte is named with
    its line and column."""
    wide = _wide_encoding(data)
    if wide:
        raise InputError(file, f"the file is {wide} (expected a UTF-8 text file)", 1, 1)
    try:
        return data.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as exc:
        head = data[: exc.start].decode("utf-8", "replace").removeprefix(_BOM)
        raise InputError(
            file,
            f"byte 0x{data[exc.start]:02x} is not UTF-8 (expected a UTF-8 text file)",
            *position(head, len(head)),
        ) from None


def load(text: bytes | str, file: str) -> object:
    """Parse one YAML document into PosDict / PosList / scalars."""
    text = decode(text, file) if isinstance(text, bytes) else text.removeprefix(_BOM)
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        raise InputError(
            file,
            f"character U+{ord(bad.group()):04X} is not allowed in YAML "
            "(expected printable text; write control characters as escapes in quotes)",
            *position(text, bad.start()),
        )
    try:
        root = _Builder(file).build(yaml.parse(text, Loader=_PARSER))
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file, text) from None
    except yaml.YAMLError as exc:  # no mark: nothing better to say than the parser's words
        raise InputError(file, f"YAML error: {' '.join(str(exc).split())}", 1, 1) from None
    if root is _NOTHING:
        raise InputError(file, "the file is empty (expected a scenario: name, vcpus, actors)", 1, 1)
    return root


# The parser's words for some mistakes, and what to tell the user instead.
_HINTS = {
    "mapping values are not allowed": "a ': ' inside a plain value: quote the value",
    "incompatible YAML document": "expected %YAML 1.1 or 1.2, or no directive at all",
    "expected <document start>": "expected nothing after the end of the scenario document",
}


def _syntax_error(exc: yaml.MarkedYAMLError, file: str, text: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    lines = _BREAK.split(text)
    if mark and mark.line >= len(lines):
        # libyaml puts an error at the end of a file without a final newline one
        # line past it: point at the end of the last line instead
        last = len(lines) - 1
        mark = yaml.Mark("", 0, last, len(lines[last]), None, None)
    line = lines[mark.line] if mark else ""
    known = [hint for words, hint in _HINTS.items() if words in problem]
    key = _long_key(line, mark.column) if mark else None
    if key is not None:
        # libyaml's words (a missing ':', a ': ' not allowed, a missing ',') are about
        # where it gave up, 1024 characters into the key: point at the key instead
        start, length = key
        return InputError(
            file,
            f"YAML syntax error: a key of {length:,} characters (expected at most "
            f"{_MAX_KEY:,}, YAML's limit for a key without '? ' before it)",
            mark.line + 1,
            start + 1,
        )
    if line[mark.column : mark.column + 1] == "\t" or "tab" in problem:
        hint = "indent with spaces: YAML does not allow tabs there"
    elif "\ufeff" in line:
        hint = "a byte-order mark inside the file: expected one only at the very start"
    elif known:
        hint = known[0]
    elif exc.context and exc.context_mark:
        m = exc.context_mark
        hint = f"{exc.context} that starts at {m.line + 1}:{m.column + 1}"
    else:
        hint = "expected valid YAML"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return InputError(file, f"YAML syntax error: {problem} ({hint})", line, col)


_MAX_KEY = 1024  # libyaml's (and the YAML spec's) limit on an implicit key
_KEY_END = re.compile(r"[^\s{}\[\],]+$")


def _long_key(line: str, column: int) -> tuple[int, int] | None:
    """(start, length) of the over-long implicit key whose ':' is at `column`, if any."""
    if line[column : column + 1] != ":":
        return None
    m = _KEY_END.search(line, 0, column)
    if m is None or m.end() - m.start() <= _MAX_KEY:
        return None
    return m.start(), m.end() - m.start()


# what the parser counts as a line break (YAML 1.1, as libyaml reads it): a file
# saved with CR alone, or with NEL, is numbered as the parser numbers it
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def position(text: str, index: int) -> Pos:
    """The 1-based line and column of text[index], counting lines as the parser does."""
    breaks = list(_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


_NOTHING = object()  # no value yet (no document; no pending key)
_LIST = object()  # the frame is a list: no keys


class _Builder:
    """Events in, nested PosDict / PosList out; one stack frame per open collection."""

    def __init__(self, file: str):
        self.file = file
        # frames: [container, path, the pending key: _NOTHING, a key, or _LIST]
        self.stack: list[list] = []
        self.root: object = _NOTHING
        self.documents = 0

    def fail(self, event, message: str, path: str = "") -> InputError:
        mark = event.start_mark
        return InputError(self.file, message, mark.line + 1, mark.column + 1, short_path(path))

    def build(self, events) -> object:
        # The hot loop of a 100k-op file: scalars into their container inline.
        stack = self.stack
        for event in events:
            kind = type(event)
            if kind is ScalarEvent:
                if event.tag is None:
                    value = plain_scalar(event.value) if event.implicit[0] else event.value
                else:
                    value = self.scalar(event)
                mark = event.start_mark
                self.add(value, event, (mark.line + 1, mark.column + 1))
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self.open(event, kind is MappingStartEvent)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                container = stack.pop()[0]
                self.add(container, event, container.pos)
            elif kind is AliasEvent:
                raise self.fail(
                    event,
                    f"YAML alias *{event.anchor} is not supported "
                    "(expected the value written out: a scenario never repeats a subtree)",
                    self.path_of_next(),
                )
            elif kind is DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(
                        event,
                        "a second YAML document (expected one scenario "
                        "per file: remove the '---' and what follows)",
                    )
        return self.root

    def path_of_next(self) -> str:
        """The field path the next value would get."""
        if not self.stack:
            return ""
        container, path, key = self.stack[-1]
        if key is _LIST:
            return f"{path}[{len(container)}]"
        return join(path, key) if key is not _NOTHING else path

    def scalar(self, event: ScalarEvent) -> object:
        tag = event.tag
        if tag is None:
            return plain_scalar(event.value) if event.implicit[0] else event.value
        if tag == "!":
            return event.value  # the non-specific tag: a string, whatever it looks like
        if tag not in _PLAIN_TAGS:
            raise self.refuse_tag(event)
        try:
            return _tagged(tag, event.value)
        except ValueError:
            raise self.fail(
                event,
                f"{show_value(event.value)} is not a valid {show_tag(tag)} "
                "(expected a value of that type, or no tag)",
                self.path_of_next(),
            ) from None

    def refuse_tag(self, event) -> InputError:
        return self.fail(
            event,
            f"tag {show_tag(event.tag)} is not allowed (expected plain "
            "YAML: text, numbers, true/false, null, lists and mappings)",
            self.path_of_next(),
        )

    def open(self, event, is_map: bool) -> None:
        stack = self.stack
        if event.tag not in (None, "!", _CORE + ("map" if is_map else "seq")):
            raise self.refuse_tag(event)
        if stack:
            path, key = stack[-1][1:]
            if key is _NOTHING:
                raise self.fail(
                    event,
                    f"a {'mapping' if is_map else 'list'} as a mapping key "
                    "(expected a key that is text or an integer)",
                    path,
                )
        path = self.path_of_next()
        if len(stack) >= MAX_DEPTH:
            raise self.fail(
                event,
                f"nesting deeper than {MAX_DEPTH} levels (expected a "
                "scenario: it nests at most 6 levels)",
                path,
            )
        mark = event.start_mark
        pos = (mark.line + 1, mark.column + 1)
        if is_map:
            stack.append([PosDict(pos), path, _NOTHING])
        else:
            stack.append([PosList(pos), path, _LIST])

    def add(self, value: object, event, pos: Pos) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        container = frame[0]
        if frame[2] is _LIST:
            container.append(value)
            container.itempos.append(pos)
        elif frame[2] is _NOTHING:
            self.take_key(frame, value, event, pos)
        else:
            key = frame[2]
            container[key] = value
            container.valpos[key] = pos
            frame[2] = _NOTHING

    def take_key(self, frame: list, key: object, event, pos: Pos) -> None:
        container, path = frame[0], frame[1]
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise self.fail(
                event,
                f"{show_value(key)} as a mapping key (expected a key that is text or an integer)",
                path,
            )
        if key == "<<" and type(event) is ScalarEvent and event.implicit[0]:
            # YAML 1.1's merge key, which the 1.2 core schema does not have: it would
            # be refused as an unknown key, as if the mapping it merges were not there
            raise self.fail(
                event,
                "YAML merge key << is not supported (expected the keys written out: "
                "a scenario never repeats a subtree)",
                join(path, key),
            )
        if isinstance(key, Int) and key.bit_length() <= 64:
            # 0x1 and 1 are one key; a wider one keeps its text, since Python
            # cannot print an int past 4300 digits and no scenario key is one
            key = int(key)
        if key in container.keypos:
            line, col = container.keypos[key]
            raise self.fail(
                event,
                f"duplicate key {show_value(key)} (expected each key once; "
                f"the first is at {line}:{col})",
                join(path, key),
            )
        container.keypos[key] = pos
        frame[2] = key

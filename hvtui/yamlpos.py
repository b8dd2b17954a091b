"""Safe YAML that remembers where every value came from.

PyYAML's composer gives nodes with marks; we turn them into plain dicts and
lists that also carry each entry's line and column, and refuse what a
scenario never needs: custom tags (no Python objects are ever built),
aliases (no billion-laughs), duplicate keys and bad UTF-8.
"""

from __future__ import annotations

import yaml

from hvtui.errors import InputError

Pos = tuple[int, int]  # 1-based line, column

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:float",
}
_MAX_DEPTH = 64


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


def _pos(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load(text: bytes | str, file: str) -> object:
    """Parse one YAML document into PosDict / PosList / scalars."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            col = exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1
            raise InputError(file, f"byte 0x{text[exc.start]:02x} is not UTF-8 "
                             "(expected a UTF-8 text file)", line, col) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise InputError(file, f"YAML syntax error: {what}") from None
        raise InputError(
            file, f"YAML syntax error: {what}", mark.line + 1, mark.column + 1
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(file, f"YAML error: {exc}") from None
    except RecursionError:
        raise InputError(file, "YAML nesting is too deep", 1, 1) from None
    if node is None:
        raise InputError(file, "the file is empty (expected a scenario mapping)", 1, 1)
    return _convert(node, file, set(), 0, yaml.SafeLoader(""))


def _convert(
    node: yaml.Node, file: str, seen: set[int], depth: int, loader: yaml.SafeLoader
) -> object:
    where = _pos(node)
    if id(node) in seen:
        raise InputError(file, "YAML anchors and aliases are not supported (this anchored value is used again; write it out)", *where)
    seen.add(id(node))
    if depth > _MAX_DEPTH:
        raise InputError(file, f"nesting is deeper than {_MAX_DEPTH} levels", *where)
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # a date-like name stays the text it was
        if node.tag not in _SCALAR_TAGS:
            raise InputError(file, f"tag {node.tag} is not allowed (plain YAML values only)",
                             *where)
        return loader.construct_object(node)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise InputError(file, f"tag {node.tag} is not allowed (plain YAML values only)",
                             *where)
        out = PosList(where)
        for item in node.value:
            out.append(_convert(item, file, seen, depth + 1, loader))
            out.itempos.append(_pos(item))
        return out
    if node.tag != "tag:yaml.org,2002:map":
        raise InputError(file, f"tag {node.tag} is not allowed (plain YAML values only)", *where)
    out = PosDict(where)
    for knode, vnode in node.value:
        key = _convert(knode, file, seen, depth + 1, loader)
        if isinstance(key, (PosDict, PosList)):
            raise InputError(file, "a mapping key must be a plain value", *_pos(knode))
        if key in out:
            line, col = out.keypos[key]
            raise InputError(file, f"duplicate key {key!r} (first defined at line {line})",
                             *_pos(knode))
        out[key] = _convert(vnode, file, seen, depth + 1, loader)
        out.keypos[key] = _pos(knode)
        out.valpos[key] = _pos(vnode)
    return out

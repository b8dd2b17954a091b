"""The YAML a scenario is written in: YAML 1.2 values, positions, and nothing unsafe.

hvtui.scenario.yamlpos reads scalars the way editors and JSON Schema tools do (the
YAML 1.2 core schema), remembers where every key and value was, and never
builds a Python object from a tag.
"""

from __future__ import annotations

import pytest

from hvtui.errors import InputError
from hvtui.scenario.load import parse
from hvtui.scenario.yamlpos import Float, Int, load


def value(text: str) -> object:
    return load(f"v: {text}\n", "f.yaml")["v"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4),
        ("-3", -3),
        ("0x16", 0x16),  # masks in hex
        ("0o17", 0o17),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("yes", "yes"),  # YAML 1.1 booleans are text in 1.2
        ("on", "on"),
        ("2024-10-10", "2024-10-10"),  # no timestamps
        ("1_000", "1_000"),  # no 1.1 digit separators
        ("'4'", "4"),
        ("!!str 4", "4"),
        ("! 4", "4"),  # the non-specific tag: text
        ("!!int '7'", 7),
    ],
)
def test_scalars_read_as_yaml_1_2_core(text, expected):
    got = value(text)
    assert got == expected and type(got) in (type(expected), Int), (got, type(got))


def test_numbers_keep_the_text_they_were_written_as():
    mask = value("0x16")
    assert isinstance(mask, Int) and repr(mask) == "0x16" and int(mask) == 22
    big = value("1e9")
    assert isinstance(big, Float) and repr(big) == "1e9" and big == 1e9
    assert repr(value(".inf")) == ".inf"
    assert type(value("12")) is int  # plain decimal needs no text


def test_what_the_scenario_keeps_is_plain_ints():
    text = (
        "name: s\nvcpus: 0x41\nactors:\n"
        "  vcpu0:\n    - {op: flush, targets: {sparse: {0x1: 0x1}}}\n"
        "  vmm:\n    - {op: run, vcpu: 0x2}\n"
        "expect: {final: {vcpu0: {flushes: 0x0}}}\n"
    )
    scenario = parse(text, "s.yaml")
    flush = scenario.program.vcpu_ops[0][0]
    assert flush.targets == (64,) and type(flush.targets[0]) is int
    assert flush.spec == {"sparse": {1: 1}}
    assert all(type(k) is int and type(v) is int for k, v in flush.spec["sparse"].items())
    assert type(scenario.vcpus) is int and type(scenario.program.threads[0][1][0].vcpu) is int
    assert scenario.expect.final == ((0, (("flushes", 0),)),)
    assert type(scenario.expect.final[0][1][0][1]) is int


def test_every_key_and_value_knows_where_it_was():
    doc = load("name: demo\nactors:\n  vmm:\n    - {op: run, vcpu: 3}\n", "f.yaml")
    assert doc.keypos["actors"] == (2, 1) and doc.valpos["actors"] == (3, 3)
    ops = doc["actors"]["vmm"]
    assert ops.pos == (4, 5) and ops.itempos == [(4, 7)]
    assert ops[0].keypos["vcpu"] == (4, 17) and ops[0].valpos["vcpu"] == (4, 23)


def test_positions_count_lines_the_same_with_windows_line_endings():
    text = "name: demo\r\nvcpus: 4\r\nactors:\r\n  vmm:\r\n    - {op: run, vcpu: 9}\r\n"
    with pytest.raises(InputError) as error:
        parse(text, "f.yaml")
    assert str(error.value) == (
        "f.yaml:5:23: actors.vmm[0].vcpu: 9 is out of range (the scenario has 4 vCPUs)"
    )


def test_bytes_and_text_read_alike_and_a_leading_bom_is_fine():
    text = "name: café\nvcpus: 1\nactors: {}\n"
    assert parse(text, "f.yaml") == parse(text.encode(), "f.yaml")
    assert parse("\ufeff" + text, "f.yaml") == parse(text, "f.yaml")


def test_a_python_tag_builds_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError):
        parse("name: !!python/object/apply:os.mkdir ['pwned']\nvcpus: 1\nactors: {}\n", "f")
    assert not (tmp_path / "pwned").exists()


def test_an_anchor_used_once_is_harmless_but_an_alias_is_refused():
    assert parse("name: &n demo\nvcpus: 1\nactors: {}\n", "f").name == "demo"
    with pytest.raises(InputError, match="alias"):
        load("a: &x [1]\nb: *x\n", "f")


def test_a_billion_laughs_is_refused_at_the_first_alias():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    with pytest.raises(InputError) as error:
        load("\n".join(lines) + "\n", "f.yaml")
    assert str(error.value).startswith("f.yaml:2:10: a1[0]: YAML alias *a0 is not supported")


def test_keys_must_be_text_or_integers():
    for key in ("1.5", "~", "true", "[a]", "{a: 1}"):
        with pytest.raises(InputError, match="as a mapping key"):
            load(f"? {key}\n: v\n", "f.yaml")


def test_integer_keys_written_two_ways_are_the_same_key():
    with pytest.raises(InputError) as error:
        load("mode: {1: user, 0x1: guest}\n", "f.yaml")
    assert str(error.value) == (
        "f.yaml:1:17: mode.1: duplicate key 1 (expected each key once; the first is at 1:8)"
    )


def test_a_scenario_nests_a_few_levels_and_junk_nests_too_deep():
    load("a: " + "[" * 31 + "]" * 31 + "\n", "f")  # 32 levels with the top mapping: fine
    with pytest.raises(InputError, match="nesting deeper than 32 levels"):
        load("a: " + "[" * 32 + "]" * 32 + "\n", "f")

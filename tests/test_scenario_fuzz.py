"""Whatever the bytes, the loader answers with a scenario or with one clean line.

Hypothesis starts from valid scenarios and breaks them the ways people and
tools do -- deletes, duplicates, retypes, renames and swaps keys, truncates
the text, injects bytes -- and holds the loader to its contract: a
Scenario (which also replays, or is refused at a schedule entry), or one
InputError line `f.yaml:LINE:COL: ... (...)` whose position lies in the file.
"""

from __future__ import annotations

import re

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_strategies import scenario_docs, yaml_text

from hvtui.errors import InputError
from hvtui.scenario.load import Scenario, parse, replay, to_yaml

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["all", "vcpu0", "vmm", "flush", "0x6", "yes", "-1", "4096", "1e9"]),
    st.lists(st.integers(-3, 70), max_size=3),
    st.dictionaries(
        st.sampled_from(["mask", "sparse", "op", "id", "x"]), st.integers(-1, 99), max_size=2
    ),
)
LINE = re.compile(r"f\.yaml:(\d+):(\d+): [^\n]*\([^\n]*\)")


def _slots(value, out):
    """Every (container, key) in a document, depth first."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in list(items):
        out.append((value, key))
        if isinstance(child, (dict, list)):
            _slots(child, out)
    return out


@st.composite
def broken_documents(draw) -> bytes:
    doc = draw(scenario_docs())
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(doc, [])
        container, key = draw(st.sampled_from(slots))
        how = draw(st.sampled_from(["delete", "retype", "rename", "swap"]))
        if how == "delete":
            del container[key]
        elif how == "retype":
            container[key] = draw(JUNK)
        elif how == "rename" and isinstance(container, dict):
            new = draw(st.one_of(st.text(max_size=8), st.integers(-1, 5)))
            container[new] = container.pop(key)
        elif how == "swap":
            other, okey = draw(st.sampled_from(_slots(doc, [])))
            container[key], other[okey] = other[okey], container[key]
    data = yaml_text(doc).encode("utf-8")
    lines = data.splitlines(keepends=True)
    damage = draw(st.sampled_from(["none", "duplicate-line", "truncate", "inject"]))
    if damage == "duplicate-line" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
        data = b"".join(lines)
    elif damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "inject":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


def holds_the_contract(data: bytes) -> Scenario | None:
    try:
        scenario = parse(data, "f.yaml")
        replay(scenario)
    except InputError as error:
        line = str(error)
        match = LINE.fullmatch(line)
        assert match, line
        row, col = int(match[1]), int(match[2])
        # lines as the YAML parser counts them (hvtui.scenario.yamlpos): CR alone,
        # NEL, LS and PS break one too
        text = data.decode("utf-8", errors="replace")
        assert 1 <= row <= len(re.findall("\r\n|[\r\n\x85\u2028\u2029]", text)) + 1, line
        assert col >= 1, line
        return None
    assert parse(to_yaml(scenario), "f.yaml") == scenario
    return scenario


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_documents())
def test_a_broken_scenario_loads_or_is_refused_in_one_line(data):
    holds_the_contract(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_load_or_are_refused_in_one_line(data):
    holds_the_contract(data)


# text from YAML's own punctuation: the parser's error paths, not just its happy ones
YAMLISH = st.text(alphabet=list("abvcpus:01249 -[]{},'\"\n\t#&*!|>?%@~.x"), max_size=200)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_yaml_punctuation_soup_loads_or_is_refused_in_one_line(text):
    holds_the_contract(text.encode("utf-8"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=broken_documents())
def test_the_cli_keeps_the_same_contract(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "f.yaml").write_bytes(data)
    code, out, err = run_cli("run", "-q", "f.yaml", cwd=folder)
    assert "Traceback" not in err
    if code == 2:
        assert out == ""
        assert LINE.fullmatch(err.rstrip("\n")) and err.count("\n") == 1, err
    else:
        assert code in (0, 1) and err == "", (code, err)


@pytest.mark.parametrize(
    "data",
    [
        b"name: x\nvcpus: 2\nactors: {vmm: [{op: run, vcpu: 0}]}\nschedule: [vmm]\n",
        b"name: x\nvcpus: 2\nactors:\n  vcpu0:\n  vcpu1: ~\n",
        b"name: x\nvcpus: 1\nactors: {}\n" + b"#" * 100_000 + b"\n",
    ],
    ids=["waiting-schedule", "null-op-lists", "long-comment"],
)
def test_examples_hypothesis_should_not_have_to_find(data):
    holds_the_contract(data)

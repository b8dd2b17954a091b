"""`hvtui schema` describes exactly the format the loader reads.

Checked with jsonschema, the reference validator, so the schema an editor
sees cannot drift from the loader: every valid scenario (shipped and
generated) passes it, and every malformed one in tests/data/bad/ that is
still YAML fails it -- except the mistakes a schema cannot see, listed below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, SCENARIOS, run_cli
from hypothesis import given, settings
from scenario_strategies import scenario_docs, yaml_text

from hvtui.errors import InputError
from hvtui.scenario.load import parse
from hvtui.scenario.rules import FINAL_FIELDS, OP_KEYS, TOP_KEYS
from hvtui.scenario.schema import scenario_schema
from hvtui.scenario.yamlpos import load as load_yaml

SCHEMA = scenario_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BAD = ROOT / "tests" / "data" / "bad"

# Mistakes only the loader can see: they relate one field to another.
CROSS_FIELD = {
    "dup-default-op-id",
    "dup-op-id-across-actors",
    "dup-op-id-same-actor",  # unique ids
    "range-actor-vcpu-equals-vcpus",
    "range-final-actor",
    "range-final-waiting-on",
    "range-initial-inhibit",
    "range-op-vcpu-equals-vcpus",
    "range-targets-item-equals-vcpus",
    "range-no-hyperv-equals-vcpus",
    "range-hyperv_init-vcpu-equals-vcpus",  # ids below vcpus
    "hyperv-flush-by-vcpu-without-context",
    "hyperv-no-context-initial-guest",
    "hyperv-no-context-initial-inhibit",  # what initial.no_hyperv rules out elsewhere
    "unknown-schedule-actor",
    "unknown-stuck-actor",
    "unknown-final-mutex-thread",  # actors the scenario has
    "schedule-actor-finished",
    "schedule-actor-waits",
    "schedule-past-the-end",
    "schedule-suspended-vcpu",
    "schedule-vcpu-without-ops",
    "schedule-vcpu-without-context-not-running",  # steps replay can take
}
# JSON has one number type: 4.0 is an integer to a JSON Schema, a float to YAML.
JSON_CANNOT_TELL = {"type-vcpus-float", "type-targets-mask-float"}


def as_json(value: object) -> object:
    """What an editor's YAML-to-JSON step hands the schema: keys become strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def schema_errors(document: object) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(as_json(document))]


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_hvtui_schema_prints_it_and_prints_the_same_bytes_every_time():
    first = run_cli("schema")
    assert first == run_cli("schema")
    code, out, err = first
    assert (code, err) == (0, "")
    assert json.loads(out) == SCHEMA


def test_hvtui_schema_can_write_a_file(tmp_path):
    code, out, _ = run_cli("schema", "-o", "scenario.schema.json", cwd=tmp_path)
    assert (code, out) == (0, "")
    assert json.loads((tmp_path / "scenario.schema.json").read_text()) == SCHEMA


def test_the_schema_names_the_loaders_keys():
    assert tuple(SCHEMA["properties"]) == TOP_KEYS
    for kind, keys in OP_KEYS.items():
        assert tuple(SCHEMA["$defs"][kind]["properties"]) == keys, kind
    final = SCHEMA["properties"]["expect"]["properties"]["final"]["patternProperties"]
    (fields,) = final.values()
    assert tuple(fields["properties"]) == tuple(FINAL_FIELDS)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_passes_the_schema(path: Path):
    assert schema_errors(load_yaml(path.read_bytes(), str(path))) == []


@settings(max_examples=200, deadline=None)
@given(scenario_docs())
def test_every_generated_scenario_passes_both(doc):
    parse(yaml_text(doc), "gen.yaml")  # the loader takes it ...
    assert schema_errors(doc) == []  # ... and so does the schema


def _yaml_level_cases() -> list[Path]:
    """Corpus files that are YAML documents (their mistake is in the scenario)."""
    out = []
    for path in sorted(BAD.glob("*.yaml")):
        try:
            if path.is_file():
                load_yaml(path.read_bytes(), str(path))
                out.append(path)
        except InputError:
            pass  # refused before there is a document: nothing for a schema to see
    return out


@pytest.mark.parametrize("path", _yaml_level_cases(), ids=lambda p: p.stem)
def test_the_schema_refuses_what_the_loader_refuses(path: Path):
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # jsonschema quotes a rejected 5000-digit integer
    try:
        errors = schema_errors(load_yaml(path.read_bytes(), str(path)))
    finally:
        sys.set_int_max_str_digits(limit)
    if path.stem in CROSS_FIELD | JSON_CANNOT_TELL:
        assert errors == [], "the schema learned a cross-field rule: move the case out"
    else:
        assert errors != []


def test_the_lists_of_exceptions_name_real_cases():
    names = {p.stem for p in BAD.glob("*.yaml")}
    assert CROSS_FIELD | JSON_CANNOT_TELL <= names

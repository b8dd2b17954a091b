"""Writing scenarios back: a plain document, its YAML text, and an atomic save.

The text is what a person would write (block style, one flow-style line per
op) and reads back to an equal Scenario: strings the YAML 1.2 loader would
take for something else (`1e9`, `0o7`, `null`) are quoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from hvtui.atomic import write_file
from hvtui.model.state import Flush, KernelWork, Op, SetInhibit
from hvtui.scenario.yamlpos import plain_scalar

if TYPE_CHECKING:
    from hvtui.scenario.load import Scenario


def to_dict(scenario: Scenario) -> dict:
    program = scenario.program
    doc: dict = {"name": scenario.name}
    if scenario.description:
        doc["description"] = scenario.description
    doc["vcpus"] = scenario.vcpus
    doc["variant"] = scenario.variant
    initial: dict = {}
    if program.initial_inhibit:
        initial["inhibit"] = sorted(program.initial_inhibit)
    if program.initial_mode:
        initial["mode"] = dict(program.initial_mode)
    if program.initial_no_hyperv:
        initial["no_hyperv"] = sorted(program.initial_no_hyperv)
    if initial:
        doc["initial"] = initial
    actors: dict = {}
    for c, ops in enumerate(program.vcpu_ops):
        if ops:
            actors[f"vcpu{c}"] = [_op_dict(op) for op in ops]
    for name, ops in program.threads:
        actors[name] = [_op_dict(op) for op in ops]
    doc["actors"] = actors
    if scenario.schedule:
        doc["schedule"] = list(scenario.schedule)
    e = scenario.expect
    expect: dict = {}
    if e.by_variant:
        expect["violations"] = {v: list(ids) for v, ids in e.by_variant}
    elif e.violations is not None:
        expect["violations"] = list(e.violations)
    if e.final:
        expect["final"] = {f"vcpu{c}": dict(fields_) for c, fields_ in e.final}
    if e.progress is not None:
        expect["progress"] = e.progress
    if e.stuck is not None:
        expect["stuck"] = list(e.stuck)
    if expect:
        doc["expect"] = expect
    return doc


def _op_dict(op: Op) -> dict:
    if isinstance(op, Flush):
        return {"id": op.id, "op": "flush", "targets": op.spec}
    if isinstance(op, KernelWork):
        return {"id": op.id, "op": op.op}
    if isinstance(op, SetInhibit):
        return {"id": op.id, "op": "set_inhibit", "vcpu": op.vcpu, "value": op.value}
    return {"id": op.id, "op": op.op, "vcpu": op.vcpu}


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # C: 3x faster
    """Block style at the top, one flow-style line per op; prose as a literal block."""


def _str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        style = "|"
    elif not isinstance(plain_scalar(value), str):
        style = "'"  # YAML 1.2 would read it as a number, bool or null
    else:
        style = None  # plain, unless YAML 1.1 readers would misread it (the emitter checks)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list):
    # a list of plain values reads best on one line: inhibit: [1, 2]
    flat = all(not isinstance(v, (list, dict)) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat or None)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def to_yaml(scenario: Scenario) -> str:
    doc = to_dict(scenario)
    head = {k: v for k, v in doc.items() if k not in ("actors", "schedule", "expect")}
    out = [_block(head)]
    out.append("actors:\n" if doc["actors"] else "actors: {}\n")
    for name, ops in doc["actors"].items():
        out.append(f"  {_flow(name)}:\n" if ops else f"  {_flow(name)}: []\n")
        for op in ops:
            out.append(f"    - {_flow(op)}\n")
    if "schedule" in doc:
        out.append(f"schedule: {_flow(doc['schedule'])}\n")
    if "expect" in doc:
        out.append(_block({"expect": doc["expect"]}))
    return "".join(out)


def _block(part: dict) -> str:
    # After a `|+` block (prose ending in blank lines) the emitter closes the
    # document with "...", and the parts that follow it would be a second one.
    return yaml.dump(part, Dumper=_Dumper, sort_keys=False, width=100).removesuffix("...\n")


def _flow(value: object) -> str:
    return (
        yaml.dump(value, Dumper=_Dumper, default_flow_style=True, sort_keys=False, width=10**9)
        .strip()
        .removesuffix("\n...")
        .strip()
    )


def save(scenario: Scenario, path: str, overwrite: bool = False) -> None:
    """Write atomically (temp file, fsync, rename); never replace a file unless told to."""
    write_file(path, to_yaml(scenario).encode("utf-8"), overwrite)

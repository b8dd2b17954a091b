"""Scenario files: load and validate (with positions), replay, save.

A scenario is a Program plus its prose, schedule and expectations. Every
mistake becomes one InputError naming file, line, column and field.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field, replace

import yaml

from hvtui.engine import Engine
from hvtui.errors import InputError
from hvtui.model import (
    GUEST,
    MAX_VCPUS,
    USER,
    Exit,
    Flush,
    Op,
    Program,
    Run,
    SetInhibit,
    actor_sort_key,
)
from hvtui.properties import PROPERTIES
from hvtui.session import Session
from hvtui.variants import VARIANTS
from hvtui.yamlpos import PosDict, PosList, load as load_yaml

TOP_KEYS = ("name", "description", "vcpus", "variant", "initial", "actors", "schedule", "expect")
INITIAL_KEYS = ("inhibit", "mode")
OP_KEYS = {
    "flush": ("id", "op", "targets"),
    "set_inhibit": ("id", "op", "vcpu", "value"),
    "run": ("id", "op", "vcpu"),
    "exit": ("id", "op", "vcpu"),
}
EXPECT_KEYS = ("violations", "final", "progress", "stuck")
FINAL_FIELDS = {
    "inhibit": bool,
    "suspended": bool,
    "waiting_on": int,
    "mode": str,
    "pending_flush": bool,
    "flushes": int,
    "mutex": str,
    "exit_pending": bool,
    "srcu_reader": bool,
}
PROGRESS_VERDICTS = ("holds", "blocked-by-design", "violated")
_ACTOR = re.compile(r"^(vcpu(0|[1-9][0-9]*)|vmm|vmm:[A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class Expect:
    # For `check`: the properties expected to fail under the scenario's own
    # variant, or per variant when written as a mapping {variant: [ids]}.
    violations: tuple[str, ...] | None = None
    by_variant: tuple[tuple[str, tuple[str, ...]], ...] = ()
    final: tuple[tuple[int, tuple[tuple[str, object], ...]], ...] = ()  # vcpu -> fields
    progress: str | None = None  # the run's progress verdict at its end
    stuck: tuple[str, ...] | None = None  # actors unfinished at the end of the run

    def violations_under(self, variant: str, own_variant: str) -> tuple[str, ...]:
        """What `check` should find violated under `variant` (nothing, unless expected)."""
        if self.by_variant:
            return dict(self.by_variant).get(variant, ())
        if variant == own_variant and self.violations is not None:
            return self.violations
        return ()


@dataclass(frozen=True)
class Scenario:
    file: str
    name: str
    description: str
    vcpus: int
    variant: str
    program: Program
    schedule: tuple[str, ...] = ()
    expect: Expect = Expect()
    # where each schedule entry was written, for errors; () if not from a file
    schedule_pos: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def engine(self) -> Engine:
        return Engine(self.program, VARIANTS[self.variant])


# -- loading ----------------------------------------------------------------


def load(path: str) -> Scenario:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror}") from None
    return parse(data, path)


def parse(text: bytes | str, file: str) -> Scenario:
    return _Validator(file).scenario(load_yaml(text, file))


class _Validator:
    def __init__(self, file: str):
        self.file = file
        self.vcpus = 0

    # errors

    def fail(self, pos: tuple[int, int] | None, path: str, message: str) -> InputError:
        line, col = pos if pos else (None, None)
        return InputError(self.file, message, line, col, path)

    def keys(self, d: PosDict, allowed: tuple[str, ...], path: str) -> None:
        for key in d:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                also = f"did you mean '{hint[0]}'?" if hint else "expected one of " + ", ".join(
                    allowed
                )
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(d.keypos[key], where, f"unknown key '{key}' ({also})")

    def mapping(self, value: object, pos, path: str) -> PosDict:
        if not isinstance(value, PosDict):
            raise self.fail(pos, path, f"{_kind(value)} is not a mapping (expected key: value pairs)")
        return value

    def seq(self, value: object, pos, path: str, what: str) -> PosList:
        if not isinstance(value, PosList):
            raise self.fail(pos, path, f"{_kind(value)} is not a list (expected a list of {what})")
        return value

    def integer(self, value: object, pos, path: str, lo: int, hi: int, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(pos, path, f"{_kind(value)} is not an integer (expected {what})")
        if not lo <= value <= hi:
            raise self.fail(pos, path, f"{value} is out of range (expected {what})")
        return value

    def vcpu_id(self, value: object, pos, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(pos, path, f"{_kind(value)} is not a vCPU id (expected an integer)")
        if not 0 <= value < self.vcpus:
            raise self.fail(
                pos, path, f"{value} is out of range (the scenario has {self.vcpus} vCPUs)"
            )
        return value

    def string(self, value: object, pos, path: str, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(pos, path, f"{_kind(value)} is not {what}")
        return value

    def boolean(self, value: object, pos, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(pos, path, f"{_kind(value)} is not a boolean (expected true or false)")
        return value

    def choice(self, value: object, pos, path: str, choices, what: str) -> str:
        if not isinstance(value, str) or value not in choices:
            hint = difflib.get_close_matches(str(value), list(choices), n=1)
            extra = f"did you mean '{hint[0]}'?" if hint else "expected " + " | ".join(choices)
            raise self.fail(pos, path, f"unknown {what} {_show(value)} ({extra})")
        return value

    # the document

    def scenario(self, doc: object) -> Scenario:
        top = self.mapping(doc, getattr(doc, "pos", (1, 1)), "scenario")
        self.keys(top, TOP_KEYS, "")
        for key in ("name", "vcpus", "actors"):
            if key not in top:
                raise self.fail(top.pos, key, f"missing (a scenario needs '{key}')")
        v = top.valpos
        name = self.string(top["name"], v["name"], "name", "a name (expected a short text)")
        description = top.get("description", "")
        if description is None:
            description = ""
        if not isinstance(description, str):
            raise self.fail(v["description"], "description", f"{_kind(description)} is not text")
        self.vcpus = self.integer(top["vcpus"], v["vcpus"], "vcpus", 1, MAX_VCPUS,
                                  f"1..{MAX_VCPUS}")
        variant = "posted"
        if "variant" in top:
            variant = self.choice(top["variant"], v["variant"], "variant", VARIANTS, "variant")
        inhibit, modes = self.initial(top.get("initial"), v.get("initial"))
        vcpu_ops, threads = self.actors(top["actors"], v["actors"])
        program = Program(self.vcpus, vcpu_ops, threads, inhibit, modes)
        names = set(program.actor_names())
        schedule, schedule_pos = self.schedule(top.get("schedule"), v.get("schedule"), names)
        expect = self.expect(top.get("expect"), v.get("expect"), names)
        return Scenario(
            self.file, name, description, self.vcpus, variant, program, schedule, expect,
            schedule_pos,
        )

    def initial(self, value: object, pos) -> tuple[frozenset[int], tuple[tuple[int, str], ...]]:
        if value is None:
            return frozenset(), ()
        init = self.mapping(value, pos, "initial")
        self.keys(init, INITIAL_KEYS, "initial")
        inhibit: set[int] = set()
        if "inhibit" in init:
            items = self.seq(init["inhibit"], init.valpos["inhibit"], "initial.inhibit",
                             "vCPU ids")
            for i, item in enumerate(items):
                inhibit.add(self.vcpu_id(item, items.itempos[i], f"initial.inhibit[{i}]"))
        modes: dict[int, str] = {}
        if "mode" in init:
            m = self.mapping(init["mode"], init.valpos["mode"], "initial.mode")
            for key, mode in m.items():
                c = self.vcpu_id(key, m.keypos[key], f"initial.mode.{key}")
                modes[c] = self.choice(mode, m.valpos[key], f"initial.mode.{key}",
                                       (GUEST, USER), "initial mode")
        return frozenset(inhibit), tuple(sorted(modes.items()))

    def actors(self, value: object, pos):
        actors = self.mapping(value, pos, "actors")
        vcpu_ops: list[tuple[Flush, ...]] = [()] * self.vcpus
        threads: list[tuple[str, tuple[Op, ...]]] = []
        seen_ids: dict[str, str] = {}
        for name in actors:
            kpos = actors.keypos[name]
            if not isinstance(name, str) or not _ACTOR.match(name):
                raise self.fail(kpos, f"actors.{name}",
                                f"unknown actor {_show(name)} (expected vcpuN, vmm or vmm:<name>)")
            if name.startswith("vcpu") and int(name[4:]) >= self.vcpus:
                raise self.fail(kpos, f"actors.{name}",
                                f"{name} is out of range (the scenario has {self.vcpus} vCPUs)")
            path = f"actors.{name}"
            body = actors[name]
            if body is None:
                body = PosList(actors.valpos[name])
            ops = self.seq(body, actors.valpos[name], path, "ops")
            parsed = tuple(
                self.op(name, item, ops.itempos[i], f"{path}[{i}]", i, seen_ids)
                for i, item in enumerate(ops)
            )
            if name.startswith("vcpu"):
                vcpu_ops[int(name[4:])] = parsed
            else:
                threads.append((name, parsed))
        threads.sort(key=lambda t: actor_sort_key(t[0]))
        return tuple(vcpu_ops), tuple(threads)

    def op(self, actor: str, value: object, pos, path: str, index: int, seen: dict) -> Op:
        d = self.mapping(value, pos, path)
        if "op" not in d:
            raise self.fail(d.pos, f"{path}.op", "missing (expected flush | set_inhibit | run | exit)")
        kind = self.choice(d["op"], d.valpos["op"], f"{path}.op", tuple(OP_KEYS), "op")
        self.keys(d, OP_KEYS[kind], path)
        on_vcpu = actor.startswith("vcpu")
        if on_vcpu and kind != "flush":
            raise self.fail(d.valpos["op"], f"{path}.op",
                            f"{kind} is a VMM ioctl (give it to vmm or vmm:<name>, not {actor})")
        if not on_vcpu and kind == "flush":
            raise self.fail(d.valpos["op"], f"{path}.op",
                            "flush is a guest hypercall (give it to a vcpuN actor)")
        op_id = f"{actor}#{index}"
        if "id" in d:
            op_id = self.string(d["id"], d.valpos["id"], f"{path}.id", "an op id (expected text)")
            op_id = str(op_id)
        if op_id in seen:
            where = d.valpos.get("id", d.pos)
            raise self.fail(where, f"{path}.id", f"duplicate op id '{op_id}' (also in {seen[op_id]})")
        seen[op_id] = path
        if kind == "flush":
            spec = d.get("targets", "all")
            targets = self.targets(spec, d.valpos.get("targets", d.pos), f"{path}.targets")
            return Flush(op_id, targets, _plain(spec))
        for key in OP_KEYS[kind][2:]:
            if key not in d:
                raise self.fail(d.pos, f"{path}.{key}", f"missing (a {kind} op needs '{key}')")
        x = self.vcpu_id(d["vcpu"], d.valpos["vcpu"], f"{path}.vcpu")
        if kind == "set_inhibit":
            return SetInhibit(op_id, x, self.boolean(d["value"], d.valpos["value"], f"{path}.value"))
        return Run(op_id, x) if kind == "run" else Exit(op_id, x)

    def targets(self, spec: object, pos, path: str) -> tuple[int, ...]:
        expected = "expected all, a list of vCPU ids, {mask: M} or {sparse: {bank: mask}}"
        if spec == "all":
            return tuple(range(self.vcpus))
        if isinstance(spec, PosList):
            return tuple(sorted({self.vcpu_id(t, spec.itempos[i], f"{path}[{i}]")
                                 for i, t in enumerate(spec)}))
        if isinstance(spec, PosDict) and len(spec) == 1 and "mask" in spec:
            mask = self.integer(spec["mask"], spec.valpos["mask"], f"{path}.mask", 0, 2**64 - 1,
                                "a 64-bit processor mask")
            return self.bits(mask, 0, spec.valpos["mask"], f"{path}.mask")
        if isinstance(spec, PosDict) and len(spec) == 1 and "sparse" in spec:
            banks = self.mapping(spec["sparse"], spec.valpos["sparse"], f"{path}.sparse")
            ids: set[int] = set()
            for bank, mask in banks.items():
                bpath = f"{path}.sparse.{bank}"
                b = self.integer(bank, banks.keypos[bank], bpath, 0, 63, "a bank 0..63")
                m = self.integer(mask, banks.valpos[bank], bpath, 0, 2**64 - 1, "a 64-bit mask")
                ids.update(self.bits(m, 64 * b, banks.valpos[bank], bpath))
            return tuple(sorted(ids))
        if isinstance(spec, PosDict):
            self.keys(spec, ("mask", "sparse"), path)
            raise self.fail(pos, path, f"give exactly one of mask or sparse ({expected})")
        raise self.fail(pos, path, f"{_kind(spec)} is not a target set ({expected})")

    def bits(self, mask: int, base: int, pos, path: str) -> tuple[int, ...]:
        ids = tuple(base + i for i in range(64) if mask >> i & 1)
        for c in ids:
            if c >= self.vcpus:
                raise self.fail(pos, path, f"bit {c - base} names vcpu {c}, out of range "
                                f"(the scenario has {self.vcpus} vCPUs)")
        return ids

    def schedule(self, value: object, pos, names: set[str]):
        if value is None:
            return (), ()
        items = self.seq(value, pos, "schedule", "actor names")
        for i, item in enumerate(items):
            if item not in names:
                raise self.fail(items.itempos[i], f"schedule[{i}]",
                                f"unknown actor {_show(item)} ({_actor_hint(item, names)})")
        return tuple(items), tuple(items.itempos)

    def expect(self, value: object, pos, names: set[str]) -> Expect:
        if value is None:
            return Expect()
        d = self.mapping(value, pos, "expect")
        self.keys(d, EXPECT_KEYS, "expect")
        violations = None
        by_variant: list[tuple[str, tuple[str, ...]]] = []
        if isinstance(d.get("violations"), PosDict):
            m = d["violations"]
            for variant, ids in m.items():
                path = f"expect.violations.{variant}"
                self.choice(variant, m.keypos[variant], path, VARIANTS, "variant")
                by_variant.append((variant, self.properties(ids, m.valpos[variant], path)))
        elif "violations" in d:
            violations = self.properties(d["violations"], d.valpos["violations"],
                                         "expect.violations")
        final = ()
        if "final" in d:
            final = self.final(d["final"], d.valpos["final"])
        progress = None
        if "progress" in d:
            progress = self.choice(d["progress"], d.valpos["progress"], "expect.progress",
                                   PROGRESS_VERDICTS, "progress verdict")
        stuck = None
        if "stuck" in d:
            items = self.seq(d["stuck"], d.valpos["stuck"], "expect.stuck", "actor names")
            for i, item in enumerate(items):
                if item not in names:
                    raise self.fail(items.itempos[i], f"expect.stuck[{i}]",
                                    f"unknown actor {_show(item)} ({_actor_hint(item, names)})")
            stuck = tuple(items)
        return Expect(violations, tuple(by_variant), final, progress, stuck)

    def properties(self, value: object, pos, path: str) -> tuple[str, ...]:
        items = self.seq(value, pos, path, "property ids (or a mapping variant: [ids])")
        return tuple(
            self.choice(p, items.itempos[i], f"{path}[{i}]", PROPERTIES, "property")
            for i, p in enumerate(items)
        )

    def final(self, value: object, pos):
        d = self.mapping(value, pos, "expect.final")
        out = []
        for actor, fields_ in d.items():
            path = f"expect.final.{actor}"
            if not (isinstance(actor, str) and actor.startswith("vcpu") and _ACTOR.match(actor)):
                raise self.fail(d.keypos[actor], path,
                                f"{_show(actor)} is not a vCPU (expected vcpuN)")
            c = int(actor[4:])
            if c >= self.vcpus:
                raise self.fail(d.keypos[actor], path,
                                f"{actor} is out of range (the scenario has {self.vcpus} vCPUs)")
            f = self.mapping(fields_, d.valpos[actor], path)
            self.keys(f, tuple(FINAL_FIELDS), path)
            checked = []
            for key, want in f.items():
                typ = FINAL_FIELDS[key]
                ok = isinstance(want, typ) and (typ is bool or not isinstance(want, bool))
                if not ok:
                    raise self.fail(f.valpos[key], f"{path}.{key}",
                                    f"{_kind(want)} is not {'an' if typ is int else 'a'} "
                                    f"{typ.__name__} (expected the field's type)")
                checked.append((key, want))
            out.append((c, tuple(checked)))
        return tuple(sorted(out))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, PosDict):
        return "a mapping"
    if isinstance(value, PosList):
        return "a list"
    return _show(value)


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _actor_hint(item: object, names: set[str]) -> str:
    hint = difflib.get_close_matches(str(item), sorted(names), n=1)
    if hint:
        return f"did you mean '{hint[0]}'?"
    return "the scenario's actors are " + ", ".join(sorted(names, key=actor_sort_key)[:8])


def _plain(value: object) -> object:
    """PosDict/PosList back to plain dict/list, for saving what the user wrote."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- replaying ----------------------------------------------------------------


def replay(scenario: Scenario, engine: Engine | None = None) -> Session:
    """A session with the scenario's schedule applied (not run further)."""
    session = Session(engine or scenario.engine())
    index = session.engine.index
    for i, name in enumerate(scenario.schedule):
        actor = index.get(name)
        pos = scenario.schedule_pos[i] if i < len(scenario.schedule_pos) else None
        if actor is None:
            raise InputError(scenario.file, f"unknown actor '{name}'", *(pos or (None, None)),
                             f"schedule[{i}]")
        st = session.engine.status(session.state, actor)
        if not st.enabled:
            what = "has finished its ops" if not st.step else f"waits at {st.step}: {st.why}"
            raise InputError(scenario.file, f"{name} cannot take step {i + 1}: it {what}",
                             *(pos or (None, None)), f"schedule[{i}]")
        session.step(actor)
    return session


# -- saving -------------------------------------------------------------------


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
    if isinstance(op, SetInhibit):
        return {"id": op.id, "op": "set_inhibit", "vcpu": op.vcpu, "value": op.value}
    return {"id": op.id, "op": op.op, "vcpu": op.vcpu}


class _Dumper(yaml.SafeDumper):
    """Block style at the top, one flow-style line per op; prose as a literal block."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(scenario: Scenario) -> str:
    doc = to_dict(scenario)
    head = {k: v for k, v in doc.items() if k not in ("actors", "schedule", "expect")}
    out = [yaml.dump(head, Dumper=_Dumper, sort_keys=False, width=100)]
    out.append("actors:\n")
    for name, ops in doc["actors"].items():
        out.append(f"  {name}:\n" if ops else f"  {name}: []\n")
        for op in ops:
            line = _flow(op)
            out.append(f"    - {line}\n")
    if "schedule" in doc:
        out.append(f"schedule: {_flow(doc['schedule'])}\n")
    if "expect" in doc:
        out.append(yaml.dump({"expect": doc["expect"]}, Dumper=_Dumper, sort_keys=False,
                             width=100))
    return "".join(out)


def _flow(value: object) -> str:
    return yaml.dump(value, Dumper=_Dumper, default_flow_style=True, sort_keys=False,
                     width=10**9).strip()


def save(scenario: Scenario, path: str, overwrite: bool = False) -> None:
    """Write atomically (temp file + rename); never replace a file unless told to."""
    text = to_yaml(scenario)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".hvtui-", suffix=".yaml", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path exists: no window where it could be clobbered
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def with_schedule(scenario: Scenario, schedule: tuple[str, ...]) -> Scenario:
    return replace(scenario, schedule=schedule, schedule_pos=())

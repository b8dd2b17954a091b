"""The scenario format's rules: a parsed YAML document in, a Scenario out.

Every rule names the field it checks, where the offending token was, what
was wrong and what was expected; the first broken rule is the one reported.
The key tables here also feed `hvtui schema`, so the JSON Schema cannot
drift from what the loader accepts.
"""

from __future__ import annotations

import difflib
import re

from hvtui.errors import InputError
from hvtui.model.properties import PROPERTIES
from hvtui.model.state import (
    GUEST,
    KVM_RUN,
    MAX_VCPUS,
    MODES,
    USER,
    Exit,
    Flush,
    HypervInit,
    KernelWork,
    Op,
    Program,
    Run,
    SetInhibit,
    actor_sort_key,
)
from hvtui.model.variants import VARIANTS
from hvtui.scenario.value import DEFAULT, Expect, Scenario
from hvtui.scenario.yamlpos import Pos, PosDict, PosList, join, short_path, show_value

TOP_KEYS = ("name", "description", "vcpus", "variant", "initial", "actors", "schedule", "expect")
REQUIRED = ("name", "vcpus", "actors")
INITIAL_KEYS = ("inhibit", "mode", "no_hyperv")
INITIAL_MODES = (GUEST, USER)
OP_KEYS = {
    "flush": ("id", "op", "targets"),
    "kernel_work": ("id", "op"),
    "set_inhibit": ("id", "op", "vcpu", "value"),
    "run": ("id", "op", "vcpu"),
    "exit": ("id", "op", "vcpu"),
    "hyperv_init": ("id", "op", "vcpu"),
}
VCPU_OPS = ("flush", "kernel_work")
# what each op is, for the message that refuses it under the wrong kind of actor
OP_WHAT = {
    "flush": "a guest hypercall",
    "kernel_work": "the vCPU's own work inside KVM_RUN",
    "set_inhibit": "a VMM ioctl",
    "run": "a VMM ioctl",
    "exit": "a VMM ioctl",
    "hyperv_init": "a VMM ioctl",
}
OP_KINDS = " | ".join(OP_KEYS)
TARGET_KEYS = ("mask", "sparse")
MASK_MAX = 2**64 - 1
BANKS = MAX_VCPUS // 64
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
    "hyperv": bool,
}
PROGRESS_VERDICTS = ("holds", "blocked-by-design", "violated")
ACTOR_PATTERN = r"^(vcpu(0|[1-9][0-9]*)|vmm|vmm:[A-Za-z0-9_.-]+)$"
_ACTOR = re.compile(ACTOR_PATTERN)
# C0 and C1 controls but tab, line feed and NEL (which YAML reads as a line break),
# and the bidirectional embeddings, overrides and isolates, which make a diagram or
# a page show its text in another order than it has ("Trojan Source", CVE-2021-42574)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_VMM = re.compile(r"^(vmm|vmm:[A-Za-z0-9_.-]+)$")
_ON_ONE_VCPU = {"run": Run, "exit": Exit, "hyperv_init": HypervInit}
ALL_OP_KEYS = tuple(dict.fromkeys(k for keys in OP_KEYS.values() for k in keys))
_TARGETS_EXPECTED = "expected all, a list of vCPU ids, {mask: M} or {sparse: {bank: mask}}"


def check(doc: object, file: str) -> Scenario:
    return _Rules(file).scenario(doc)


class _Rules:
    def __init__(self, file: str):
        self.file = file
        self.vcpus = 0
        self.names: list[str] = []  # every actor, in round-robin order
        self.program: Program | None = None  # once the actors are read
        self.known: set[str] = set()
        self.no_hyperv: frozenset[int] = frozenset()  # initial.no_hyperv, once read

    # -- the building blocks ----------------------------------------------------

    def fail(self, pos: Pos | None, path: str, message: str) -> InputError:
        line, col = pos if pos else (None, None)
        return InputError(self.file, message, line, col, short_path(path))

    def keys(self, d: PosDict, allowed: tuple[str, ...], path: str, what: str = "") -> None:
        for key in d:
            if key not in allowed:
                hint = _close(key, allowed)
                also = f"did you mean '{hint}'?" if hint else "expected " + ", ".join(allowed)
                if what and not hint:
                    also += f" in {what}"
                raise self.fail(
                    d.keypos[key], join(path, key), f"unknown key {show_value(key)} ({also})"
                )

    def required(self, d: PosDict, keys: tuple[str, ...], path: str, what: str) -> None:
        for key in keys:
            if key not in d:
                raise self.fail(d.pos, join(path, key), f"missing (expected '{key}' in {what})")

    def mapping(self, value: object, pos: Pos, path: str, what: str) -> PosDict:
        if not isinstance(value, PosDict):
            raise self.fail(pos, path, f"{show_value(value)} is not a mapping (expected {what})")
        return value

    def seq(self, value: object, pos: Pos, path: str, what: str) -> PosList:
        if not isinstance(value, PosList):
            raise self.fail(pos, path, f"{show_value(value)} is not a list (expected {what})")
        return value

    def integer(self, value: object, pos: Pos, path: str, lo: int, hi: int, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(pos, path, f"{show_value(value)} is not an integer (expected {what})")
        if not lo <= value <= hi:
            raise self.fail(pos, path, f"{show_value(value)} is out of range (expected {what})")
        return int(value)

    def vcpu_id(self, value: object, pos: Pos, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(
                pos,
                path,
                f"{show_value(value)} is not a vCPU id (expected an integer 0..{self.vcpus - 1})",
            )
        if not 0 <= value < self.vcpus:
            raise self.fail(
                pos,
                path,
                f"{show_value(value)} is out of range (the scenario has {self.vcpus} vCPUs)",
            )
        return int(value)

    def text(self, value: object, pos: Pos, path: str, what: str) -> str:
        """A name or an id: one line of printable text, as it will be shown."""
        if isinstance(value, str) and value.strip() and not value.isprintable():
            raise self.fail(
                pos,
                path,
                f"{show_value(value)} is not {what} (expected printable text on one line)",
            )
        if not isinstance(value, str) or not value.strip():
            quoted = isinstance(value, (int, float)) and not isinstance(value, bool)
            quote = f"; quote it: '{show_value(value)}'" if quoted else ""
            raise self.fail(
                pos, path, f"{show_value(value)} is not {what} (expected non-empty text{quote})"
            )
        return value

    def boolean(self, value: object, pos: Pos, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(
                pos, path, f"{show_value(value)} is not a boolean (expected true or false)"
            )
        return value

    def choice(self, value: object, pos: Pos, path: str, choices, what: str) -> str:
        if not isinstance(value, str):
            raise self.fail(
                pos,
                path,
                f"{show_value(value)} is not a{'n'[: what[0] in 'aeiou']} "
                f"{what} (expected {' | '.join(choices)})",
            )
        if value not in choices:
            hint = _close(value, choices)
            extra = f"did you mean '{hint}'?" if hint else "expected " + " | ".join(choices)
            raise self.fail(pos, path, f"unknown {what} {show_value(value)} ({extra})")
        return value

    def actor_name(self, value: object, pos: Pos, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(
                pos,
                path,
                f"{show_value(value)} is not an actor name "
                f"(expected one of the scenario's actors, e.g. {self.names[0]})",
            )
        if value not in self.known:
            raise self.fail(
                pos, path, f"unknown actor {show_value(value)} ({actor_hint(value, self.program)})"
            )
        return value

    def vcpu_actor(self, name: object, pos: Pos, path: str) -> int:
        """`vcpuN` as a key: its N, within the scenario's vCPUs."""
        if not isinstance(name, str) or not name.startswith("vcpu") or not _ACTOR.match(name):
            hint = _vcpu_hint(name)
            raise self.fail(
                pos, path, f"{show_value(name)} is not a vCPU actor ({hint}expected vcpuN)"
            )
        digits = name[4:]
        if len(digits) > len(str(MAX_VCPUS)) or int(digits) >= self.vcpus:
            shown = name if len(name) <= 20 else show_value(name)
            raise self.fail(
                pos, path, f"{shown} is out of range (the scenario has {self.vcpus} vCPUs)"
            )
        return int(digits)

    # -- the document -------------------------------------------------------------

    def scenario(self, doc: object) -> Scenario:
        top = self.mapping(
            doc, getattr(doc, "pos", (1, 1)), "", "a scenario: name, vcpus, actors, ..."
        )
        self.keys(top, TOP_KEYS, "")
        self.required(top, REQUIRED, "", "a scenario")
        v = top.valpos
        name = self.text(top["name"], v["name"], "name", "a name")
        description = self.description(top.get("description"), v.get("description"))
        self.vcpus = self.integer(
            top["vcpus"], v["vcpus"], "vcpus", 1, MAX_VCPUS, f"a vCPU count 1..{MAX_VCPUS}"
        )
        variant = "posted"
        if "variant" in top:
            variant = self.choice(top["variant"], v["variant"], "variant", VARIANTS, "variant")
        inhibit, modes = self.initial(top.get("initial"), v.get("initial"))
        vcpu_ops, threads = self.actors(top["actors"], v["actors"])
        program = self.program = Program(
            self.vcpus, vcpu_ops, threads, inhibit, modes, self.no_hyperv
        )
        self.names = program.actor_names()
        self.known = set(self.names)
        schedule, schedule_pos = self.schedule(top.get("schedule"), v.get("schedule"))
        expect = self.expect(top.get("expect"), v.get("expect"))
        return Scenario(
            self.file,
            name,
            description,
            self.vcpus,
            variant,
            program,
            schedule,
            expect,
            schedule_pos,
        )

    def description(self, value: object, pos: Pos) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(
                pos,
                "description",
                f"{show_value(value)} is not text (expected prose, e.g. "
                "a literal block after 'description: |')",
            )
        # a quoted "\e[2J" would reach the terminal of whoever exports the file
        bad = _CONTROL.search(value)
        if bad:
            raise self.fail(
                pos,
                "description",
                f"control character U+{ord(bad.group()):04X} at character {bad.start() + 1} "
                "of the text (expected prose: printable text, line breaks and tabs)",
            )
        return value

    def initial(self, value: object, pos: Pos) -> tuple[frozenset[int], tuple]:
        if value is None:
            return frozenset(), ()
        init = self.mapping(value, pos, "initial", "inhibit, mode and/or no_hyperv")
        self.keys(init, INITIAL_KEYS, "initial")
        # first, so the other two can be held against it
        self.no_hyperv = frozenset(c for c, _, _ in self.id_list(init, "no_hyperv"))
        inhibit = set()
        for c, where, path in self.id_list(init, "inhibit"):
            if c in self.no_hyperv:
                raise self.fail(
                    where,
                    path,
                    f"vcpu{c} has no Hyper-V context (initial.no_hyperv), so it has no "
                    "tlb_flush_inhibit flag to set (expected vCPUs with a context)",
                )
            inhibit.add(c)
        modes: dict[int, str] = {}
        m = init.get("mode")
        if m is not None:
            m = self.mapping(m, init.valpos["mode"], "initial.mode", "vCPU id: guest | user pairs")
            for key, mode in m.items():
                path = f"initial.mode.{key}"
                c = self.vcpu_id(key, m.keypos[key], path)
                modes[c] = self.choice(mode, m.valpos[key], path, INITIAL_MODES, "initial mode")
                if c in self.no_hyperv and modes[c] != USER:
                    raise self.fail(
                        m.valpos[key],
                        path,
                        f"vcpu{c} has no Hyper-V context yet (initial.no_hyperv): it has never "
                        f"been in KVM_RUN, so it cannot start in {modes[c]} mode "
                        "(expected user, its default)",
                    )
        return frozenset(inhibit), tuple(sorted(modes.items()))

    def id_list(self, init: PosDict, key: str) -> list[tuple[int, Pos, str]]:
        """`initial.<key>: [ids]`: each id in range and named once, with where it was."""
        items = init.get(key)
        if items is None:
            return []
        items = self.seq(items, init.valpos[key], f"initial.{key}", "vCPU ids")
        out: list[tuple[int, Pos, str]] = []
        for i, item in enumerate(items):
            path, where = f"initial.{key}[{i}]", items.itempos[i]
            out.append((self.vcpu_id(item, where, path), where, path))
        self.once(items, [c for c, _, _ in out], f"initial.{key}", "vCPU", lambda c: f"vcpu{c}")
        return out

    def once(self, items: PosList, values: list, path: str, what: str, shown=show_value) -> None:
        """A list that stands for a set names each member once: a second mention
        is a slip (a copy-paste, a typo of another name) and is refused where it is."""
        first: dict[object, Pos] = {}
        for i, value in enumerate(values):
            if value in first:
                line, col = first[value]
                raise self.fail(
                    items.itempos[i],
                    f"{path}[{i}]",
                    f"{shown(value)} is listed twice (expected each {what} once; the first "
                    f"is at {line}:{col})",
                )
            first[value] = items.itempos[i]

    def actors(self, value: object, pos: Pos):
        actors = self.mapping(value, pos, "actors", "actor: [ops] pairs")
        vcpu_ops: list[tuple[Flush | KernelWork, ...]] = [()] * self.vcpus
        threads: list[tuple[str, tuple[Op, ...]]] = []
        seen_ids: dict[str, str] = {}
        for name in actors:
            path = join("actors", name)
            kpos = actors.keypos[name]
            if isinstance(name, str) and name.startswith("vcpu") and _ACTOR.match(name):
                self.vcpu_actor(name, kpos, path)
            elif not isinstance(name, str) or not _ACTOR.match(name):
                hint = _vcpu_hint(name)
                raise self.fail(
                    kpos,
                    path,
                    f"unknown actor {show_value(name)} ({hint}expected vcpuN, vmm or vmm:<name>)",
                )
            body = actors[name]
            if body is None:  # `vcpu0:` with nothing after it: an actor with no ops
                body = PosList(actors.valpos[name])
            ops = self.seq(body, actors.valpos[name], path, "a list of ops")
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

    def op(self, actor: str, value: object, pos: Pos, path: str, index: int, seen: dict) -> Op:
        d = self.mapping(value, pos, path, f"an op: {{op: {OP_KINDS}, ...}}")
        if "op" not in d:
            self.keys(d, ALL_OP_KEYS, path)
            raise self.fail(d.pos, f"{path}.op", f"missing (expected op: {OP_KINDS})")
        kind = self.choice(d["op"], d.valpos["op"], f"{path}.op", tuple(OP_KEYS), "op")
        on_vcpu = actor.startswith("vcpu")
        if on_vcpu != (kind in VCPU_OPS):
            where = "a vcpuN actor" if kind in VCPU_OPS else "vmm or vmm:<name>"
            raise self.fail(
                d.valpos["op"],
                f"{path}.op",
                f"{kind} is {OP_WHAT[kind]} (expected it under {where}, not {actor})",
            )
        if kind == "flush" and int(actor[4:]) in self.no_hyperv:
            raise self.fail(
                d.valpos["op"],
                f"{path}.op",
                f"{actor} has no Hyper-V context (initial.no_hyperv), so its guest cannot "
                f"make a flush hypercall (expected the flush under a vCPU with a context, "
                f"or {actor} left out of initial.no_hyperv)",
            )
        what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} op"
        self.keys(d, OP_KEYS[kind], path, what)
        op_id = default_id = f"{actor}#{index}"
        if "id" in d:
            op_id = self.text(d["id"], d.valpos["id"], f"{path}.id", "an op id")
        if op_id in seen:
            where = d.valpos.get("id", d.pos)
            raise self.fail(
                where,
                f"{path}.id",
                f"duplicate op id {show_value(op_id)} "
                f"(expected ids unique in the scenario; {seen[op_id]})",
            )
        seen[op_id] = f"{path} has it" + (" as its default id" if op_id == default_id else "")
        if kind == "flush":
            spec = d.get("targets", "all")
            targets = self.targets(spec, d.valpos.get("targets", d.pos), f"{path}.targets")
            return Flush(op_id, targets, plain(spec))
        if kind == "kernel_work":
            return KernelWork(op_id)
        self.required(d, OP_KEYS[kind][2:], path, what)
        x = self.vcpu_id(d["vcpu"], d.valpos["vcpu"], f"{path}.vcpu")
        if kind == "set_inhibit":
            return SetInhibit(
                op_id, x, self.boolean(d["value"], d.valpos["value"], f"{path}.value")
            )
        return _ON_ONE_VCPU[kind](op_id, x)

    def targets(self, spec: object, pos: Pos, path: str) -> tuple[int, ...]:
        if spec == "all":
            return tuple(range(self.vcpus))
        if isinstance(spec, PosList):
            # a list is a set written out, as a mask is: naming a vCPU twice
            # flushes it once (tests/test_engine_races.py)
            return tuple(
                sorted(
                    {self.vcpu_id(t, spec.itempos[i], f"{path}[{i}]") for i, t in enumerate(spec)}
                )
            )
        if not isinstance(spec, PosDict):
            raise self.fail(
                pos, path, f"{show_value(spec)} is not a target set ({_TARGETS_EXPECTED})"
            )
        self.keys(spec, TARGET_KEYS, path)
        if len(spec) != 1:
            raise self.fail(
                pos,
                path,
                f"{len(spec)} keys in the target set (expected exactly "
                "one: {mask: M} or {sparse: {bank: mask}})",
            )
        if "mask" in spec:
            mpos = spec.valpos["mask"]
            mask = self.integer(
                spec["mask"],
                mpos,
                f"{path}.mask",
                0,
                MASK_MAX,
                "a 64-bit processor mask 0..0xffffffffffffffff",
            )
            if mask == 0:
                # kvm_hv_flush_tlb() takes a zero processor_mask for
                # HV_FLUSH_ALL_PROCESSORS (its WS2012 workaround), and 5/7 keeps that
                return tuple(range(self.vcpus))
            return self.bits(mask, 0)
        banks = self.mapping(
            spec["sparse"],
            spec.valpos["sparse"],
            f"{path}.sparse",
            "bank: mask pairs, vCPU 64*bank+bit",
        )
        ids: set[int] = set()
        for bank, mask in banks.items():
            bpath = f"{path}.sparse.{bank}"
            b = self.integer(
                bank, banks.keypos[bank], bpath, 0, BANKS - 1, f"a bank number 0..{BANKS - 1}"
            )
            m = self.integer(
                mask, banks.valpos[bank], bpath, 0, MASK_MAX, "a 64-bit mask 0..0xffffffffffffffff"
            )
            ids.update(self.bits(m, 64 * b))
        return tuple(sorted(ids))

    def bits(self, mask: int, base: int) -> tuple[int, ...]:
        # A guest may set bits for VPs the VM does not have: 5/7's mask loop
        # skips them (`if (!v) { __clear_bit(i, vcpu_mask); continue; }`), so
        # the set is the vCPUs that exist, not an error.
        return tuple(
            base + i for i in range(mask.bit_length()) if mask >> i & 1 and base + i < self.vcpus
        )

    def schedule(self, value: object, pos: Pos):
        if value is None:
            return (), ()
        items = self.seq(value, pos, "schedule", "a list of actor names")
        for i, item in enumerate(items):
            self.actor_name(item, items.itempos[i], f"schedule[{i}]")
        return tuple(items), tuple(items.itempos)

    def expect(self, value: object, pos: Pos) -> Expect:
        if value is None:
            return Expect()
        d = self.mapping(value, pos, "expect", "violations, final, progress and/or stuck")
        self.keys(d, EXPECT_KEYS, "expect")
        violations = None
        by_variant: list[tuple[str, tuple[str, ...]]] = []
        if isinstance(d.get("violations"), PosDict):
            m = d["violations"]
            for variant, ids in m.items():
                path = f"expect.violations.{variant}"
                self.choice(variant, m.keypos[variant], path, (*VARIANTS, DEFAULT), "variant")
                ids = self.properties(ids, m.valpos[variant], path, "a list of property ids")
                by_variant.append((variant, ids))
        elif "violations" in d:
            violations = self.properties(
                d["violations"], d.valpos["violations"], "expect.violations"
            )
        final = ()
        if d.get("final") is not None:
            final = self.final(d["final"], d.valpos["final"])
        progress = None
        if "progress" in d:
            progress = self.choice(
                d["progress"],
                d.valpos["progress"],
                "expect.progress",
                PROGRESS_VERDICTS,
                "progress verdict",
            )
        stuck = None
        if "stuck" in d:
            items = self.seq(d["stuck"], d.valpos["stuck"], "expect.stuck", "a list of actor names")
            stuck = tuple(
                self.actor_name(item, items.itempos[i], f"expect.stuck[{i}]")
                for i, item in enumerate(items)
            )
            self.once(items, list(stuck), "expect.stuck", "actor")
        return Expect(violations, tuple(by_variant), final, progress, stuck)

    def properties(
        self,
        value: object,
        pos: Pos,
        path: str,
        what: str = "a list of property ids, or variant: [ids] pairs",
    ) -> tuple[str, ...]:
        items = self.seq(value, pos, path, what)
        ids = tuple(
            self.choice(p, items.itempos[i], f"{path}[{i}]", PROPERTIES, "property")
            for i, p in enumerate(items)
        )
        self.once(items, list(ids), path, "property")
        return ids

    def final(self, value: object, pos: Pos):
        d = self.mapping(value, pos, "expect.final", "vcpuN: {field: value} pairs")
        out = []
        for actor, fields_ in d.items():
            path = join("expect.final", actor)
            c = self.vcpu_actor(actor, d.keypos[actor], path)
            f = self.mapping(fields_, d.valpos[actor], path, "field: value pairs")
            self.keys(f, tuple(FINAL_FIELDS), path)
            out.append(
                (
                    c,
                    tuple(
                        (key, self.final_value(key, want, f.valpos[key], f"{path}.{key}"))
                        for key, want in f.items()
                    ),
                )
            )
        return tuple(sorted(out))

    def final_value(self, key: str, want: object, pos: Pos, path: str) -> object:
        """What a field can hold at the end of a run, so a typo cannot pass unnoticed."""
        if key == "waiting_on":
            return self.integer(
                want, pos, path, -1, self.vcpus - 1, f"-1 or a vCPU id 0..{self.vcpus - 1}"
            )
        if key == "flushes":
            return self.integer(want, pos, path, 0, 2**63 - 1, "a count, 0 or more")
        if key == "mode":
            return self.choice(want, pos, path, MODES, "mode")
        if key == "mutex":
            # nobody, the vCPU's own KVM_RUN, or one of the scenario's VMM threads: a
            # thread it does not have can never hold it
            holders = ("", KVM_RUN, *(n for n in self.names if _VMM.match(n)))
            if want not in holders:
                raise self.fail(
                    pos,
                    path,
                    f"{show_value(want)} is not a mutex holder "
                    f"(expected '' | {' | '.join(holders[1:])})",
                )
            return want
        return self.boolean(want, pos, path)


def plain(value: object) -> object:
    """PosDict / PosList / Int back to plain dict / list / int, for saving what was written."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


def _close(value: object, choices) -> str | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    # in any case: VMM and CPU0 (the diagram's columns) are vmm and vcpu0, FLUSH is flush
    lowered = {c.lower(): c for c in choices}
    hint = difflib.get_close_matches(str(value)[:100].lower(), list(lowered), n=1)
    return lowered[hint[0]] if hint else None


def _vcpu_hint(name: object) -> str:
    """`0:` where `vcpu0:` was meant; a number no vCPU has gets no hint (and a
    5000-digit one is not copied into the message)."""
    if isinstance(name, bool) or not isinstance(name, int) or not 0 <= name < MAX_VCPUS:
        return ""
    return f"did you mean 'vcpu{int(name)}'? "


def actor_hint(item: object, program: Program) -> str:
    """What to say after `unknown actor X`: whose op X is, the vCPUs' range, a near
    name, or the list."""
    names = program.actor_names()
    vcpus = program.vcpus
    if isinstance(item, str) and item.startswith("vcpu") and _ACTOR.match(item):
        return f"the scenario has {vcpus} vCPUs: vcpu0..vcpu{vcpus - 1}"
    owners = [(f"vcpu{c}", ops) for c, ops in enumerate(program.vcpu_ops)]
    for actor, ops in owners + list(program.threads):
        if any(op.id == item for op in ops):  # a schedule of op ids, not of who steps
            return f"that is an op id of {actor}: expected its actor, {actor}"
    hint = _close(item, names)
    if hint:
        return f"did you mean '{hint}'?"
    shown = sorted(names, key=actor_sort_key)
    more = f", ... ({len(shown)} in all)" if len(shown) > 8 else ""
    return "expected one of the scenario's actors: " + ", ".join(shown[:8]) + more

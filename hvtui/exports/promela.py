"""`hvtui export --format promela`: one program under one variant as a SPIN model.

Nothing here knows what a step does: every d_step is a StepDef's own
Promela (hvtui.model.steps, `promela=`), instantiated for one actor, one op
and, where the text names the flush's current target, one target. The
state is Vcpu's and Thread's fields as arrays of the same names, plus the
inhibit windows, so one Promela state is one hvtui state, one d_step one
hvtui step, and the trail of a counterexample is an hvtui schedule: pid p
is actor `Model.pids[p]`. Past SPIN's 255 processes one scheduler process
takes every actor's d_steps, and `Model.lines` says whose each line is.

The properties are assertions on the transitions and states the Python
monitor (hvtui.model.properties) judges: a judged step asserts its
property before its effect; a step that writes a field a state property
watches asserts that property after it; a watcher process asserts
`progress` when nothing else can step (`timeout`). Each assertion is
guarded by ON(n), which the environment variable HVTUI_PROPERTIES (a list
of property numbers) selects at pan's start (unset: every property), so
one compiled `pan` can leave out the properties already found violated
and look for the next shortest counterexample.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib.metadata import version
from typing import NamedTuple

from hvtui.errors import InputError
from hvtui.model import properties as props
from hvtui.model.engine import Engine
from hvtui.model.state import KVM_RUN, MODES, Vcpu
from hvtui.model.steps import ANYTIME, BY_KIND, OP_PHASES, STEPS, C, StepDef, T, X
from hvtui.model.variants import VARIANTS

MAX_PROCESSES = 255  # SPIN's limit, init and the watcher included
# The pseudo-property a pan run reports when it reaches an end state blocked
# by design (progress's second verdict), numbered after the real ones.
BY_DESIGN = len(props.PROPERTIES)
ENV = "HVTUI_PROPERTIES"


class Model(NamedTuple):
    text: str
    pids: tuple[int | None, ...]  # pid -> the actor it runs (None: init, the watcher)
    lines: dict[int, int]  # with one scheduler process: a d_step's line -> its actor
    vector_bytes: int  # at most this many bytes in pan's state vector


# -- the properties, as Promela conditions --------------------------------------
# (property, step kind, what must hold before that step): the step properties,
# exactly properties.JUDGES's pairs (checked below).
STEP_ASSERTS = (
    (props.INHIBIT_HOLDS, "complete", "!ANY_TARGET(windows[@])"),
    (props.STAYS_PUT, "complete", "!SUSP(C)"),
    (props.NO_REQUEST, "request", "!windows[T]"),
    (props.NO_FLUSH, "service", "!windows[C]"),
    (props.NO_BOGUS_STATUS, "s3", "RETRY || SUSP(C)"),
    (props.NO_NULL_DEREF, "check", "hyperv[T]"),
    (props.NO_NULL_DEREF, "compare", "hyperv[X]"),
    (props.NO_NULL_DEREF, "write", "hyperv[X]"),
    (
        props.SYNC_FLUSHES_ONLY,
        "sync",
        "ALL(!((OWN_SRCU -> flush_srcu_reader[@] : srcu_reader[@]) && pc[@] == PC_vmentry))",
    ),
)
assert {(p, k) for p, k, _ in STEP_ASSERTS} == {
    (p, k) for p, kinds in props.JUDGES.items() for k in kinds
}, "every judged step asserts its property"

# The state properties: (when it holds whatever the vCPUs, what must hold of
# each vCPU @). Like the monitor, a step checks them after it for the vCPUs it
# writes a watched field of, and for all of them when it leaves the ioctl.
STATE_ASSERTS = {
    props.STAYS_PUT: ("", "!(mode[@] == GUEST && SUSP(@))"),
    props.NO_LOST_WAKEUP: (
        "IN_IOCTL",
        "!(SUSP(@) && (waiting_on[@] == -1 || !inhibit[waiting_on[@]]))",
    ),
}

# Promela's types for Vcpu's fields (bit: a bool; byte: an enum or an index)
_TYPES = {
    "inhibit": "bit",
    "suspended": "bit",
    "waiting_on": "short",
    "mode": "byte",
    "pending_flush": "bit",
    "flushes": "short",
    "mutex": "byte",
    "exit_pending": "bit",
    "srcu_reader": "bit",
    "srcu_gen": "short",
    "hyperv": "bit",
    "flush_srcu_reader": "bit",
    "flush_srcu_gen": "short",
    "ran": "bit",
    "op": "byte",
    "pc": "byte",
    "k": "short",
}
assert tuple(_TYPES) == Vcpu._fields, "one array per Vcpu field"
_MAX_OPS = 255  # `op` is a byte


def pc_code(kind: str) -> int:
    """A step kind as a pc value; 0 is a VMM thread's "" (its op's first step)."""
    return 0 if not kind else 1 + [d.kind for d in STEPS].index(kind)


# -- the model ---------------------------------------------------------------------


def render(scenario, session=None) -> str:
    """The export (the run is not needed: the model is the program's)."""
    return generate(scenario).text


def generate(scenario) -> Model:
    program = scenario.program
    variant = VARIANTS[scenario.variant]
    engine = Engine(program, variant)
    actors: list[tuple[int, str, list[str]]] = []  # (actor, name, its d_steps)
    for c in _live_vcpus(program):
        actors.append((c, f"vcpu{c}", _vcpu_steps(engine, c)))
    for i, (name, ops) in enumerate(program.threads):
        if ops:  # a thread with nothing to do needs no process
            actors.append((program.vcpus + i, name, _thread_steps(engine, i)))
    for a, name, _ in actors:
        if len(engine.ops[a]) > _MAX_OPS:
            raise InputError(
                scenario.file,
                f"actors.{name}: {len(engine.ops[a]):,} ops (expected at most {_MAX_OPS} "
                "for SPIN, whose model keeps an actor's op in a byte; hvtui's own engine, "
                "without --engine spin, takes any number)",
            )
    # One process per actor while SPIN has processes enough; past that one
    # scheduler process takes every actor's steps (its trail names d_steps,
    # not pids: Model.lines says whose each one is).
    scheduler = len(actors) + 2 > MAX_PROCESSES
    processes = [("scheduler", actors)] if scheduler else [(n, [(a, n, st)]) for a, n, st in actors]
    parts = [
        _header(scenario, [name for name, _ in processes]),
        _declarations(engine),
        _initial(engine, [name for name, _ in processes]),
    ]
    for name, mine in processes:
        body = "\n".join(
            f"  :: {step}" + (f"  /* {who} */" if scheduler else "")
            for _, who, steps in mine
            for step in steps
        )
        parts.append(f"proctype p_{_ident(name)}() {{  /* {name} */\n  do\n{body}\n  od\n}}\n")
    parts.append(_watcher(engine))
    text = "\n".join(parts)
    if scheduler:
        pids: tuple[int | None, ...] = (None, None, None)
        owners = iter(a for a, _, steps in actors for _ in steps)
        start = text.index("proctype p_scheduler()")
        first = text.count("\n", 0, start) + 1  # the proctype's line, 1-based
        lines = {
            first + n: next(owners)
            for n, line in enumerate(text[start : text.index("\n}\n", start)].split("\n"))
            if line.startswith("  :: d_step")
        }
    else:
        pids, lines = (None, *(a for a, _, _ in actors), None), {}
    return Model(text, pids, lines, _vector_bytes(engine, len(processes)))


def _live_vcpus(program) -> list[int]:
    """The vCPUs that can ever step: with ops of their own, or named by an op
    (a flush's target services a request; a VMM op kicks, runs or inits it)."""
    named = {op.vcpu for _, ops in program.threads for op in ops}
    named |= {t for ops in program.vcpu_ops for op in ops if op.op == "flush" for t in op.targets}
    return [c for c in range(program.vcpus) if program.vcpu_ops[c] or c in named]


def _vector_bytes(engine: Engine, processes: int) -> int:
    """A bound on pan's state vector: a byte per bit or byte, two per short."""
    per_vcpu = sum(2 if kind == "short" else 1 for kind in _TYPES.values()) + 1  # + windows
    threads = max(len(engine.program.threads), 1)
    return engine.n * per_vcpu + threads * (4 + 2 * engine.n) + 16 * (processes + 2) + 64


def _ident(name: str) -> str:
    """An actor's name as a Promela identifier, one to one: vmm:a_b, vmm:a.b and
    vmm:a-b are three threads, which one `_` for each would make one proctype."""
    ident = re.sub(r"[^A-Za-z0-9]", lambda m: _IDENT_ESCAPES[m.group()], name)
    if len(ident) <= _IDENT_MAX:
        return ident
    # a thread named at that length: its name's head and a digest, one character
    # longer than any identifier kept whole, so it is no other actor's
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{ident[: _IDENT_MAX - 16]}_{digest}"


_IDENT_ESCAPES = {":": "_", "_": "__", ".": "_d", "-": "_h"}  # what an actor name holds
_IDENT_MAX = 200  # SPIN's scanner takes a name of about 2,000 characters, not 3,000


def _comment(text: str) -> str:
    """What the user wrote (a name, an op id), fit to go inside a C comment: a `*/`
    in it would end the comment and make the rest of the line Promela."""
    return text.replace("*/", "* /")


def _header(scenario, names: list[str]) -> str:
    patches = sorted({m for d in STEPS for m in re.findall(r"\b(\d)/7\b", d.series)})
    order = ", ".join(f"{p + 1}={name}" for p, name in enumerate(names))
    props_ = ", ".join(f"{n}={p}" for n, p in enumerate(props.PROPERTIES))
    return (
        "/*\n"
        f" * hvtui {version('hvtui')}: scenario {_comment(scenario.name)} "
        f"({os.path.basename(scenario.file)}), variant {scenario.variant}\n"
        " * The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT series (7 patches); its steps come from\n"
        f' * patches {", ".join(p + "/7" for p in patches)} (5/7 "KVM: x86: Implement '
        'KVM_HYPERV_SET_TLB_FLUSH_INHIBIT").\n'
        " * Generated by `hvtui export --format promela` from hvtui's step table:\n"
        " * one d_step per hvtui step; do not edit. Init's one atomic step sets the\n"
        " * initial state and starts the actors (pan counts one state more than hvtui).\n"
        f" * pids: 0=init, {order}, {len(names) + 1}=watcher\n"
        f" * {ENV}=n,m,... checks only those: {props_}; {BY_DESIGN}=an end blocked by\n"
        " * design (off unless named); unset: every property\n"
        " */\n"
    )


def _declarations(engine: Engine) -> str:
    variant = engine.variant
    nth = len(engine.program.threads)
    lines = [f"#define NV {engine.n}", f"#define NTH {nth}"]
    lines += [f"#define {mode.upper()} {i}" for i, mode in enumerate(MODES)]
    lines += ["#define NOBODY 0", "#define KVM_RUN 1  /* thread i holds a mutex as 2 + i */"]
    lines += [f"#define PC_{d.kind} {pc_code(d.kind)}" for d in STEPS]
    lines += [f"#define {name.upper()} {int(on)}" for name, on in variant.toggles().items()]
    lines += [
        "#define SUSP(c) (MERGED_STATE -> waiting_on[c] != -1 : suspended[c])",
        "#define DONE(th) top[th] = top[th] + 1; tpc[th] = 0; tw[th] = 0",
        "#define NEXT_W(th) tpc[th] = (tw[th] + 1 < NV -> PC_unsuspend : PC_return); "
        "tw[th] = tw[th] + 1",
        "#define ON(p) c_expr { ((hv_properties >> p) & 1) }",
        f"#define IN_IOCTL ({' || '.join(f'tpc[{i}] != 0' for i in range(nth)) or '0'})",
        "",
        "c_decl {",
        f"  /* the properties this run checks: {ENV}=n,m,..., or every one when unset */",
        f"  static unsigned hv_properties = {(1 << BY_DESIGN) - 1}u;",
        "  static void hv_select(void) __attribute__((constructor));",
        "  static void hv_select(void) {",
        f'    char *e = getenv("{ENV}");',
        "    if (!e) return;",
        "    hv_properties = 0;",
        "    while (*e) {",
        "      char *end;",
        "      long n = strtol(e, &end, 10);",
        "      if (end == e) { e++; continue; }",
        "      if (n >= 0 && n < 32) hv_properties |= 1u << n;",
        "      e = end;",
        "    }",
        "  }",
        "}",
        "",
    ]
    default = Vcpu()
    for name, kind in _TYPES.items():
        lines.append(f"{kind} {name}[NV] = {_encode(name, getattr(default, name), engine)};")
    size = max(nth, 1)  # Promela has no empty arrays
    lines += [
        "bit windows[NV];  /* the inhibit-window history the properties read */",
        f"byte top[{size}];  /* each VMM thread's op */",
        f"byte tpc[{size}];  /* and its next step (0: the op's first) */",
        f"short tw[{size}];  /* the unsuspend scan's cursor */",
        f"short readers[{size * engine.n}];  /* [th * NV + c]: the SRCU generation "
        "synchronize_srcu waits for, 0 for none */",
    ]
    return "\n".join(lines) + "\n"


def _encode(field: str, value, engine: Engine) -> int:
    if field == "mode":
        return MODES.index(value)
    if field == "pc":
        return pc_code(value)
    if field == "mutex":
        if value == KVM_RUN:
            return 1
        return 0 if not value else 2 + [n for n, _ in engine.program.threads].index(value)
    return int(value)


def _initial(engine: Engine, processes: list[str]) -> str:
    """Init's one atomic step: the initial state's fields that differ from the
    declarations' defaults, then every actor's process and the watcher."""
    s = engine.initial()
    default = Vcpu()
    lines = []
    for c, v in enumerate(s.vcpus):
        for name in Vcpu._fields:
            if getattr(v, name) != getattr(default, name):
                lines.append(f"{name}[{c}] = {_encode(name, getattr(v, name), engine)};")
    lines += [f"windows[{c}] = 1;" for c in range(engine.n) if s.windows >> c & 1]
    lines += [f"run p_{_ident(name)}();" for name in processes]
    lines.append("run watcher()")
    body = "\n".join(f"    {line}" for line in lines)
    return f"init {{\n  atomic {{\n{body}\n  }}\n}}\n"


# -- the d_steps of one actor -------------------------------------------------------


def _vcpu_steps(engine: Engine, c: int) -> list[str]:
    """vcpu c's d_steps: the always-available ones, then each op's."""
    out = [_d_step(engine, d, {"C": c}, "") for d in ANYTIME]
    shared: set[str] = set()
    for i, op in enumerate(engine.ops[c]):
        phases = OP_PHASES[op.op]
        for kind in (k for phase in phases for k in phase):
            d = BY_KIND[kind]
            if not d.applies(engine.variant, op):
                continue
            binding = {"C": c, "NT": len(op.targets) if op.op == "flush" else 0}
            if kind == phases[0][0]:  # the op's first step: the guest executes it
                out.append(_d_step(engine, d, binding, f"op[C] == {i}", op))
                continue
            at = f"mode[C] == KERNEL && pc[C] == PC_{kind}"
            text = _text(d)
            if not _OP_BOUND.search(text):  # the same d_step for every op
                if kind not in shared:
                    shared.add(kind)
                    out.append(_d_step(engine, d, binding, at))
            elif not _TARGET_BOUND.search(text):
                out.append(_d_step(engine, d, binding, f"{at} && op[C] == {i}", op))
            else:  # one d_step per target: T is a constant in each
                for j, t in enumerate(op.targets):
                    b = binding | {"T": t, "LAST": int(j == len(op.targets) - 1)}
                    out.append(_d_step(engine, d, b, f"{at} && op[C] == {i} && k[C] == {j}", op))
    return out


def _thread_steps(engine: Engine, i: int) -> list[str]:
    name, ops = engine.program.threads[i]
    out = []
    for j, op in enumerate(ops):
        phases = OP_PHASES[op.op]
        first = phases[0][0]
        for kind in (k for phase in phases for k in phase):
            d = BY_KIND[kind]
            if not d.applies(engine.variant, op):
                continue
            binding = {"TH": i, "ME": 2 + i, "X": op.vcpu, "B": int(getattr(op, "value", 0))}
            at = f"top[TH] == {j} && tpc[TH] == {'0' if kind == first else f'PC_{kind}'}"
            out.append(_d_step(engine, d, binding, at, op))
    return out


_OP_BOUND = re.compile(r"\b(T|NT|LAST|ANY_TARGET)\b")
_TARGET_BOUND = re.compile(r"\b(T|LAST)\b")


def _text(d: StepDef) -> str:
    """Everything the step's d_step says: its guard, effect and assertions."""
    asserts = [cond for _, kind, cond in STEP_ASSERTS if kind == d.kind]
    return " ".join([d.promela.guard, d.promela.effect, *asserts])


def _d_step(engine: Engine, d: StepDef, binding: dict, at: str, op=None) -> str:
    """One hvtui step as one d_step: where the actor is, the step's guard; the
    properties judged on it; its effect; the state properties it may change."""
    guard = " && ".join(f"({g})" for g in (at, d.promela.guard) if g) or "true"
    body = [
        f"if :: ON({_num(p)}) -> assert({cond}) :: else fi"
        for p, k, cond in STEP_ASSERTS
        if k == d.kind
    ]
    body.append(d.promela.effect)
    for prop, (unless, each) in STATE_ASSERTS.items():
        whom = {loc.who for loc in d.all_writes() if loc.field in props.WATCHES[prop]}
        if not whom:
            continue
        if whom - {C, T, X}:  # every vCPU; also W, which the effect moves on
            cond = f"ALL({each})"
        else:
            cond = " && ".join(f"({_at(each, who.upper())})" for who in sorted(whom))
        if unless:
            cond = f"{unless} || ({cond})"
        body.append(f"if :: ON({_num(prop)}) -> assert({cond}) :: else fi")
    text = f"d_step {{ {guard} -> {'; '.join(body)} }}"
    what = d.kind if op is None else f"{d.kind} ({_comment(op.id)})"
    return _expand(_bind(text, binding, op), engine.n) + f"  /* {what} */"


def _num(prop: str) -> int:
    return props.PROPERTIES.index(prop)


def _bind(text: str, binding: dict, op) -> str:
    text = re.sub(r"\bW\b", "tw[TH]", text)
    if op is not None and op.op == "flush":
        text = _replace_calls(text, "ANY_TARGET", lambda arg: _join(arg, op.targets, "||", "0"))
    return re.sub(r"\b(C|T|X|B|TH|ME|NT|LAST)\b", lambda m: str(binding[m.group(1)]), text)


def _expand(text: str, n: int) -> str:
    """EACH(s), ALL(e) and ANY(e): once per vCPU @."""
    text = _replace_calls(text, "EACH", lambda arg: "; ".join(_at(arg, c) for c in range(n)))
    text = _replace_calls(text, "ALL", lambda arg: _join(arg, range(n), "&&", "1"))
    return _replace_calls(text, "ANY", lambda arg: _join(arg, range(n), "||", "0"))


def _at(text: str, c: int) -> str:
    return text.replace("@", str(c))


def _join(arg: str, ids, op: str, empty: str) -> str:
    return "(" + f" {op} ".join(f"({_at(arg, c)})" for c in ids) + ")" if ids else empty


def _replace_calls(text: str, name: str, make) -> str:
    """Each `name(...)` in text (balanced parentheses) -> make(its argument)."""
    pattern = re.compile(rf"\b{name}\(")
    while (m := pattern.search(text)) is not None:
        depth, end = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        text = text[: m.start()] + make(text[m.end() : end - 1]) + text[end:]
    return text


def _watcher(engine: Engine) -> str:
    """When nothing else can step: progress, and whether the end is blocked by design."""
    finished, by_design = [], []
    for a, ops in enumerate(engine.ops):
        count = len(ops)
        if a < engine.n:
            done = f"op[{a}] >= {count}"
            by_design.append(
                f"({done} || (SUSP({a}) && waiting_on[{a}] != -1 && inhibit[waiting_on[{a}]]))"
            )
        else:
            done = f"top[{a - engine.n}] >= {count}"
            by_design.append(f"({done})")
        finished.append(f"({done})")
    all_done = " && ".join(finished) or "1"
    stuck_ok = " && ".join(by_design) or "1"
    p = _num(props.PROGRESS)
    return (
        "/* nothing else can step: every actor has finished (progress holds), or the\n"
        " * only ones left are vCPUs suspended on an inhibited vCPU (blocked by design) */\n"
        "proctype watcher() {\n"
        "  do\n"
        "  :: d_step { timeout -> "
        f"if :: ON({p}) -> assert({stuck_ok}) :: else fi; "
        f"if :: ON({BY_DESIGN}) -> assert(({all_done}) || !({stuck_ok})) :: else fi }}\n"
        "  od\n"
        "}\n"
    )

"""Hypothesis strategies for valid scenario documents (plain dicts), for the loader tests.

A document is built the way a person writes one: a few vCPUs, flushes in
every target form and kernel work, VMM threads with ioctls (hyperv_init
too), sometimes vCPUs without a Hyper-V context, `initial`, `expect`
and a schedule of actor names (not necessarily one that can be taken: the
loader does not replay). `yaml_text` renders one as block YAML.
"""

from __future__ import annotations

import yaml
from hypothesis import strategies as st

from hvtui.model.properties import PROPERTIES
from hvtui.model.variants import VARIANTS

# names start with a letter so no YAML reader takes them for numbers or booleans
NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True).filter(
    lambda s: s not in ("null", "true", "false", "yes", "no", "on", "off", "y", "n")
)
VARIANT = st.sampled_from(sorted(VARIANTS))


@st.composite
def targets(draw, vcpus: int):
    ids = st.integers(0, vcpus - 1)
    form = draw(st.sampled_from(["all", "list", "mask", "sparse"]))
    if form == "all":
        return "all"
    chosen = draw(st.lists(ids, max_size=4))
    if form == "list":
        return chosen
    if form == "mask" and all(c < 64 for c in chosen):
        return {"mask": sum(1 << c for c in set(chosen))}
    banks: dict[int, int] = {}
    for c in chosen:
        banks[c // 64] = banks.get(c // 64, 0) | 1 << (c % 64)
    return {"sparse": banks}


@st.composite
def scenario_docs(draw, max_vcpus: int = 6) -> dict:
    vcpus = draw(st.integers(1, max_vcpus))
    ids = st.integers(0, vcpus - 1)
    op_ids = iter(f"op{i}" for i in range(100))
    # vCPUs without a Hyper-V context: no flush of their own, no flag, user mode
    no_hyperv = draw(st.lists(ids, max_size=2, unique=True)) if draw(st.booleans()) else []
    actors: dict = {}
    for c in draw(st.lists(ids, max_size=3, unique=True)):
        kinds = ["kernel_work"] if c in no_hyperv else ["flush", "flush", "kernel_work"]
        ops = []
        for _ in range(draw(st.integers(0, 2))):
            op = {"id": next(op_ids), "op": draw(st.sampled_from(kinds))}
            if op["op"] == "flush":
                op["targets"] = draw(targets(vcpus))
            ops.append(op)
        actors[f"vcpu{c}"] = ops
    for name in draw(
        st.lists(st.sampled_from(["vmm", "vmm:b", "vmm:io"]), max_size=2, unique=True)
    ):
        ops = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["set_inhibit", "run", "exit", "hyperv_init"]))
            op = {"id": next(op_ids), "op": kind, "vcpu": draw(ids)}
            if kind == "set_inhibit":
                op["value"] = draw(st.booleans())
            ops.append(op)
        actors[name] = ops
    doc: dict = {"name": draw(NAMES), "vcpus": vcpus}
    if draw(st.booleans()):
        doc["description"] = draw(st.sampled_from(["", "One line.", "Two\nlines.\n"]))
    if draw(st.booleans()):
        doc["variant"] = draw(VARIANT)
    if no_hyperv or draw(st.booleans()):
        with_context = ids.filter(lambda c: c not in no_hyperv)
        modes = draw(st.dictionaries(ids, st.sampled_from(["guest", "user"]), max_size=2))
        doc["initial"] = {
            "inhibit": draw(st.lists(with_context, max_size=2, unique=True)),
            "mode": {c: "user" if c in no_hyperv else m for c, m in modes.items()},
        }
        if no_hyperv:
            doc["initial"]["no_hyperv"] = no_hyperv
    doc["actors"] = actors
    names = [f"vcpu{c}" for c in range(vcpus)] + [n for n in actors if n.startswith("vmm")]
    if draw(st.booleans()):
        doc["schedule"] = draw(st.lists(st.sampled_from(names), max_size=6))
    if draw(st.booleans()):
        doc["expect"] = draw(expectations(vcpus, names))
    return doc


@st.composite
def expectations(draw, vcpus: int, names: list[str]) -> dict:
    props = st.lists(st.sampled_from(PROPERTIES), max_size=2, unique=True)
    expect: dict = {}
    if draw(st.booleans()):
        per_variant = st.dictionaries(st.one_of(VARIANT, st.just("default")), props, max_size=3)
        expect["violations"] = draw(st.one_of(props, per_variant))
    if draw(st.booleans()):
        fields = st.fixed_dictionaries(
            {},
            optional={
                "inhibit": st.booleans(),
                "suspended": st.booleans(),
                "waiting_on": st.integers(-1, vcpus - 1),
                "mode": st.sampled_from(["user", "guest", "kernel", "blocked"]),
                "flushes": st.integers(0, 3),
                # a holder the scenario has: the loader refuses a thread it has not
                "mutex": st.sampled_from(
                    ["", "KVM_RUN", *(n for n in names if n.startswith("vmm"))]
                ),
                "hyperv": st.booleans(),
            },
        )
        chosen = draw(st.lists(st.integers(0, vcpus - 1), max_size=2, unique=True))
        expect["final"] = {f"vcpu{c}": draw(fields) for c in chosen}
    if draw(st.booleans()):
        expect["progress"] = draw(st.sampled_from(["holds", "blocked-by-design", "violated"]))
    if draw(st.booleans()):
        expect["stuck"] = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    return expect


def yaml_text(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)

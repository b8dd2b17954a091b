"""A scenario's `expect` block against what a run reached."""

from __future__ import annotations

from hvtui.model.properties import PROGRESS, VIOLATED
from hvtui.model.session import Session
from hvtui.scenario.load import Expect
from hvtui.scenario.yamlpos import show_value


def vcpu_view(session: Session, c: int, state=None) -> dict[str, object]:
    """The fields a person reads for vcpu c; `suspended` is derived in merged-state."""
    engine = session.engine
    v = (state or session.state).vcpus[c]
    return {
        "inhibit": v.inhibit,
        "suspended": engine.suspended(v),
        "waiting_on": v.waiting_on,
        "mode": v.mode,
        "pending_flush": v.pending_flush,
        "flushes": v.flushes,
        "mutex": v.mutex,
        "exit_pending": v.exit_pending,
        "srcu_reader": v.srcu_reader,
        "hyperv": v.hyperv,  # has a Hyper-V context
    }


def stuck(session: Session) -> list[str]:
    """Actors that have not finished their ops."""
    engine = session.engine
    return [n for a, n in enumerate(engine.names) if not engine.finished(session.state, a)]


def has_run_expectations(expect: Expect) -> bool:
    """The block says how the run ends (`final`, `progress` or `stuck`); `violations`
    alone is a claim about every interleaving, which `check` decides."""
    return bool(expect.final) or expect.progress is not None or expect.stuck is not None


def unexpected_violations(session: Session, expect: Expect, own_variant: str) -> list[str]:
    """`run --strict`: each property violated along the run (a deadlock at its end
    included) that `expect.violations` does not list for the run's variant.

    One run is one interleaving, so an expected violation it does not reach is
    not a failure: `check` is what must find those.
    """
    allowed = set(expect.violations_under(session.engine.variant.name, own_variant))
    found = dict(session.first_violations())
    done = session.progress()
    if done is not None and done.verdict == VIOLATED:
        found[PROGRESS] = session.pos
    return [
        f"{prop} violated at step {step}, not listed in expect.violations (--strict)"
        for prop, step in found.items()
        if prop not in allowed
    ]


def failures(session: Session, expect: Expect) -> list[str]:
    """What the run's end state disagrees with, one line each (empty: all met)."""
    out = []
    for c, fields in expect.final:
        view = vcpu_view(session, c)
        for key, want in fields:
            if view[key] != want:
                wrong = f"expected {show_value(want)}, got {show_value(view[key])}"
                out.append(f"expect.final.vcpu{c}.{key}: {wrong}")
    if expect.progress is not None:
        got = session.progress()
        verdict = got.verdict if got else "pending"
        if verdict != expect.progress:
            out.append(f"expect.progress: expected {expect.progress}, got {verdict}")
    if expect.stuck is not None:
        got_stuck = stuck(session)
        if sorted(got_stuck) != sorted(expect.stuck):
            out.append(f"expect.stuck: expected {list(expect.stuck)}, got {got_stuck}")
    return out

"""The run as a Markdown page: what to notice, the diagram, the final grid, the verdicts.

Meant for an issue, a review comment or a wiki page; the diagram inside is
the plain-text one, fenced, so it reads the same as in a mail.
"""

from __future__ import annotations

from hvtui.exports import diagram
from hvtui.model.properties import DESCRIPTIONS, PROPERTIES
from hvtui.model.session import Session
from hvtui.runs.report import GRID_COLUMNS, shown_vcpus
from hvtui.scenario.expect import failures, vcpu_view
from hvtui.scenario.load import Scenario

DETAIL_MAX = 160  # a longer progress detail (hundreds of waiters) is left to the diagram


def render(scenario: Scenario, session: Session) -> str:
    out = [f"# {scenario.name}", ""]
    if scenario.description.strip():
        out += [scenario.description.strip(), ""]
    out += [
        f"Variant `{scenario.variant}`, {scenario.vcpus} vCPUs, {session.pos} steps; "
        f"replay with `hvtui run {scenario.file}`.",
        "",
        "## Race diagram",
        "",
        "```text",
        diagram.render(scenario, session).rstrip("\n"),
        "```",
        "",
    ]
    out += _grid(session)
    out += _verdicts(scenario, session)
    return "\n".join(out) + "\n"


def _grid(session: Session) -> list[str]:
    rows = shown_vcpus(session)
    out = [
        "## Final state",
        "",
        "| vcpu | " + " | ".join(GRID_COLUMNS) + " |",
        "|---:|" + "---|" * len(GRID_COLUMNS),
    ]
    for c in rows:
        view = vcpu_view(session, c)
        out.append(f"| {c} | " + " | ".join(_value(view[k]) for k in GRID_COLUMNS) + " |")
    hidden = session.engine.n - len(rows)
    if hidden:
        out += ["", f"{hidden} more vCPUs, untouched, are in their initial state."]
    return out + [""]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    return f"`{value}`" if value != "" else "-"


def _verdicts(scenario: Scenario, session: Session) -> list[str]:
    first = session.first_violations()
    verdicts = session.verdicts()
    out = ["## Verdicts", "", "| property | verdict | where |", "|---|---|---|"]
    for prop in PROPERTIES:
        where = f"step {first[prop]}" if prop in first else ""
        if prop == "progress":
            done = session.progress()
            where = done.detail if done and len(done.detail) <= DETAIL_MAX else where
        out.append(f"| `{prop}` | {verdicts[prop]} | {where} |")
    out += ["", "What each property says:", ""]
    out += [f"- `{prop}`: {DESCRIPTIONS[prop]}." for prop in PROPERTIES]
    failed = failures(session, scenario.expect)
    out += ["", "Expectations (`expect`): " + ("met." if not failed else "not met:")]
    out += [f"- {line}" for line in failed]
    return out

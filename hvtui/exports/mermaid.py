"""The run as a Mermaid sequenceDiagram, for docs and review tools that render it.

Participants are the actors that step, in the diagram's column order. A step
that acts on another actor (a flush request, a scan's write into a waiter, a
kick, KVM_RUN) is a message to it; every other step is a note over its actor.
Each text starts with the step number so it lines up with `hvtui run`.
"""

from __future__ import annotations

import re

from hvtui.exports.diagram import Row, fold_quiet, order_actors
from hvtui.model.session import Session
from hvtui.model.state import actor_sort_key
from hvtui.runs.kernel import cpu_name, ending, explain, kernel_lines
from hvtui.scenario.load import Scenario

# Mermaid ends a statement at ';' and reads '#' as an entity; neither is needed.
_UNSAFE = re.compile(r"[;#]")


def render(scenario: Scenario, session: Session) -> str:
    lines = kernel_lines(session)
    peers = {ln.time: ln.peer for ln in lines}
    rows = fold_quiet(lines)
    first = session.first_violations()
    actors = order_actors(session, rows)
    # a vCPU that is only acted on (a request it never services) still gets a lifeline
    actors += sorted({p for p in peers.values() if p} - set(actors), key=actor_sort_key)
    out = ["sequenceDiagram", f"    %% {_text(scenario.name)}, variant {scenario.variant}"]
    out += [f"    participant {participant_id(a)} as {cpu_name(a)}" for a in actors]
    for row in rows:
        actor = participant_id(row.actors[0])
        text = _text(f"{row.time} {_call(row)}")
        peer = peers.get(row.time, "")
        if peer and peer != row.actors[0]:
            out.append(f"    {actor}->>{participant_id(peer)}: {text}")
        else:
            out.append(f"    Note over {actor}: {text}")
        for prop in dict.fromkeys(row.violations):
            if first.get(prop) == row.time:
                out.append(f"    Note over {actor}: {_text(explain(session, prop, row.time))}")
    if actors:
        over = participant_id(actors[0])
        if len(actors) > 1:
            over += f",{participant_id(actors[-1])}"
        out.append(f"    Note over {over}: {_text(ending(session))}")
    return "\n".join(out) + "\n"


def participant_id(actor: str) -> str:
    """vmm:b is not a Mermaid id; vmm_b is (the label keeps the real name)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", actor)


def _call(row: Row) -> str:
    return f"{row.head}: {row.text}" if row.head else row.text


def _text(text: str) -> str:
    return _UNSAFE.sub(",", text)

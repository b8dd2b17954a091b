"""The actors panel's rows: each actor with something to do, identical waits as one row.

No Textual here. At 4096 vCPUs, 315 vCPUs suspended on five inhibited bank
leaders would be 315 rows saying the same thing; vCPUs that wait at the same
step for the same kind of reason (the reason with its vCPU ids taken out) are
one row that counts them and names who they wait on and who they are.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hvtui.model.engine import DONE, Status, format_targets

_VCPU = re.compile(r"vcpu(\d+)")


class ActorRow(NamedTuple):
    actors: tuple[int, ...]  # one actor, or the vCPUs of a group
    step: str
    enabled: bool
    why: str  # the wait, as the engine says it; a group's names every vCPU waited on


def rows(statuses: list[Status], n: int, next_actor: int | None) -> tuple[list[ActorRow], int]:
    """The rows in actor order (a group where its first vCPU is), and how many actors
    are done with nothing to do (they are one line at the end)."""
    out: list[ActorRow | list] = []
    groups: dict[tuple[str, str], list] = {}
    idle = 0
    for a, st in enumerate(statuses):
        if st.why == DONE and a != next_actor:
            idle += 1
        elif st.enabled or a >= n or a == next_actor:
            out.append(ActorRow((a,), st.step, st.enabled, st.why))
        else:
            key = (st.step, _VCPU.sub("vcpu#", st.why))
            group = groups.get(key)
            if group is None:
                group = groups[key] = [st.step, [], []]
                out.append(group)
            group[1].append(a)
            group[2].append(st.why)
    return [r if isinstance(r, ActorRow) else _group(*r) for r in out], idle


def _group(step: str, actors: list[int], whys: list[str]) -> ActorRow:
    if len(actors) == 1:
        return ActorRow((actors[0],), step, False, whys[0])
    named = sorted({int(m) for why in set(whys) for m in _VCPU.findall(why)})
    why = whys[0]
    if len(named) > 1:
        listed = ", ".join(f"vcpu{c}" for c in named[:6]) + (", ..." if len(named) > 6 else "")
        why = _VCPU.sub("#", why, count=1).replace("#", listed, 1)
    return ActorRow(tuple(actors), step, False, why)


def group_text(row: ActorRow) -> str:
    """`315 vCPUs wait at resume: suspended on vcpu0, vcpu832, ... (1-63,833-895,...)`.

    The ids as the event log writes a target set: a mask below 64, else ranges.
    """
    return f"{len(row.actors)} vCPUs wait at {row.step}: {row.why} ({format_targets(row.actors)})"

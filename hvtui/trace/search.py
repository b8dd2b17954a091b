"""The constrained search: a run of the model that prints exactly the trace.

The idea of TLA+ trace validation (Cirstea, Kuppe, Loillier, Merz, 2024): model
check the spec with the trace as a constraint. A run is consistent with the
trace when
- thread by thread, its traced steps print the trace's events in order
  (the step table says which step prints what; a step whose tracepoint the
  trace does not record at all is untraced);
- across threads, an event may come before one printed on another thread
  earlier only if they are within the tolerance (clocks of different CPUs
  drift; `trace-cmd record -C mono` keeps that small);
- untraced steps are free, and the run may go on after the trace ends.

Depth first, most promising step first: the owner of the earliest event not
yet printed, then the owners of the events within the tolerance of it, then
every other actor that can move. States are remembered by a 64-bit
fingerprint of (model state, events printed so far), as TLC does, kept
incremental so a step costs the vCPUs it touched, not all 4096.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hvtui.model.engine import Engine
from hvtui.model.state import State
from hvtui.trace.build import Obs
from hvtui.trace.tracepoints import emitted

MAX_STATES = 2_000_000
_MASK = (1 << 64) - 1


@dataclass
class Result:
    consistent: bool
    schedule: list[str]  # actors, one per step
    lines: list[int | None]  # the trace line each step printed, if any
    explained: int  # trace events the run prints
    total: int
    failed: Obs | None = None  # the first event no run explains
    failed_actor: str = ""
    instead: list[str] = field(default_factory=list)  # what the model could print there
    states: int = 0
    bounded: bool = False  # MAX_STATES was hit


def search(engine: Engine, obs: dict[str, list[Obs]], enabled: frozenset[str], tolerance: int):
    return _Search(engine, obs, enabled, tolerance).run()


class _Search:
    def __init__(self, engine: Engine, obs, enabled, tolerance: int):
        self.engine = engine
        self.enabled = enabled
        self.tol = tolerance
        names = engine.names
        # lists 0..len(names)-1 are the actors'; extra ones belong to nobody
        self.lists: list[list[Obs]] = [obs.get(name, []) for name in names]
        self.list_names = list(names)
        for name, items in obs.items():
            if name not in engine.index:
                self.lists.append(items)
                self.list_names.append(name)
        order = [
            (o.ts, o.line, li, i)
            for li, items in enumerate(self.lists)
            for i, o in enumerate(items)
        ]
        order.sort()
        self.order = order
        n = engine.n
        movers = set(range(n, len(names)))
        movers |= {c for c in range(n) if engine.ops[c] or self.lists[c]}
        for _, ops in engine.program.threads:
            movers |= {op.vcpu for op in ops if hasattr(op, "vcpu")}
        self.movers = sorted(movers, key=lambda a: (a < n, a))  # VMM threads first

    def run(self) -> Result:
        engine = self.engine
        lists, order = self.lists, self.order
        total = len(order)
        consumed = [0] * len(lists)
        s0 = engine.initial()
        vfp0 = sum(_h(c, v) for c, v in enumerate(s0.vcpus)) & _MASK
        seen = {_key(s0, vfp0, 0)}
        # a frame: state, its vCPU fingerprint, consumed-digest, frontier, link, the
        # list whose event its step printed (-1: none), how many candidates it tried.
        # link = (parent link, actor, line) builds the path without copying it; the
        # candidates are recomputed from (frontier, consumed), which a pop restores,
        # so a frame holds no iterator: memory per step of a long run stays small.
        stack = [[s0, vfp0, 0, 0, None, -1, 0]]
        best = (0, None, s0, 0)  # (explained, link, state, frontier)
        explained = 0
        bounded = False
        while stack:
            frame = stack[-1]
            s, vfp, digest, frontier, link, _, tried = frame
            if frontier == total:
                return self._result(True, link, explained, total, len(seen))
            child, frame[6] = self._next_child(s, frontier, consumed, tried)
            if child is None:
                stack.pop()
                li = frame[5]
                if li >= 0:  # undo the event this frame's step printed
                    consumed[li] -= 1
                    explained -= 1
                continue
            a, after, printed = child
            if printed is not None and not self._fits(printed, a, consumed, frontier):
                continue
            touched = after.vcpus.touched(s.vcpus)
            if touched is None:
                cvfp = sum(_h(c, v) for c, v in enumerate(after.vcpus)) & _MASK
            else:
                cvfp = vfp
                for c in touched:
                    cvfp += _h(c, after.vcpus[c]) - _h(c, s.vcpus[c])
                cvfp &= _MASK
            cdigest, cfront, li, line = digest, frontier, -1, None
            if printed is not None:
                li = a
                old = consumed[a]
                cdigest = (digest + _h(a, old + 1) - _h(a, old)) & _MASK
            key = _key(after, cvfp, cdigest)
            if key in seen:
                continue
            if len(seen) >= MAX_STATES:
                bounded = True
                break
            seen.add(key)
            if li >= 0:
                line = lists[a][consumed[a]].line
                consumed[a] += 1
                explained += 1
                while cfront < total and consumed[order[cfront][2]] > order[cfront][3]:
                    cfront += 1
            clink = (link, a, line)
            if explained > best[0]:
                best = (explained, clink, after, cfront)
            stack.append([after, cvfp, cdigest, cfront, clink, li, 0])
        result = self._result(False, best[1], best[0], total, len(seen))
        result.bounded = bounded
        if best[3] < total:
            _, _, li, i = order[best[3]]
            result.failed = lists[li][i]
            result.failed_actor = self.list_names[li]
        result.instead = self._instead(best[2])
        return result

    def _fits(self, printed: tuple, a: int, consumed: list[int], frontier: int) -> bool:
        """The step prints `printed`: is it actor a's next event, in time?"""
        items = self.lists[a]
        i = consumed[a]
        if i >= len(items) or items[i].key != printed:
            return False
        if frontier < len(self.order):
            earliest = self.order[frontier][0]
            return earliest >= items[i].ts - self.tol
        return True

    def _window(self, frontier: int, consumed: list[int]) -> list[int]:
        """The actors owning the earliest events not yet printed (those within the
        tolerance of the first, at most 9): the most promising to step."""
        order, names = self.order, self.engine.names
        owners: list[int] = []
        first_ts = order[frontier][0] if frontier < len(order) else 0
        k = frontier
        while k < len(order) and order[k][0] <= first_ts + self.tol and len(owners) < 9:
            li = order[k][2]
            if li < len(names) and li not in owners and consumed[li] <= order[k][3]:
                owners.append(li)
            k += 1
        return owners

    def _next_child(self, s: State, frontier: int, consumed: list[int], tried: int):
        """(the next child after `tried` candidates, the count tried then): the window's
        actors first, then every actor that can move; a child is (actor, state after,
        the key it prints or None)."""
        window = self._window(frontier, consumed)
        movers = self.movers
        while True:
            if tried < len(window):
                a = window[tried]
            elif tried - len(window) < len(movers):
                a = movers[tried - len(window)]
                if a in window:
                    tried += 1
                    continue
            else:
                return None, tried
            tried += 1
            child = self._step(s, a)
            if child is not None:
                return child, tried

    def _step(self, s: State, a: int):
        engine = self.engine
        st = engine.status(s, a)
        if not st.enabled:
            return None
        after, event = engine.step_with(s, a, st)
        keys = [e.key for e in emitted(engine, s, a, event, after) if e.key is not None]
        keys = [k for k in keys if k[0] in self.enabled]
        return a, after, (keys[0] if keys else None)

    def _result(self, ok: bool, link, explained: int, total: int, states: int) -> Result:
        steps = []
        while link is not None:
            link, a, line = link
            steps.append((a, line))
        steps.reverse()
        names = self.engine.names
        return Result(
            ok,
            [names[a] for a, _ in steps],
            [line for _, line in steps],
            explained,
            total,
            states=states,
        )

    def _instead(self, s: State, limit: int = 4000) -> list[str]:
        """What the model could print next from s, after any untraced steps."""
        engine = self.engine
        found: dict[str, None] = {}
        frontier = [s]
        seen = {s}
        while frontier and len(seen) < limit:
            nxt = []
            for state in frontier:
                for a in self.movers:
                    st = engine.status(state, a)
                    if not st.enabled:
                        continue
                    after, event = engine.step_with(state, a, st)
                    printed = [
                        e
                        for e in emitted(engine, state, a, event, after)
                        if e.key is not None and e.key[0] in self.enabled
                    ]
                    if printed:
                        e = printed[0]
                        found[f"{engine.names[a]}: {e.name}: {e.fields.strip()}"] = None
                    elif after not in seen:
                        seen.add(after)
                        nxt.append(after)
            frontier = nxt
        return sorted(found)[:12]


def _h(c: int, v) -> int:
    return hash((c, v)) & _MASK


def _key(s: State, vfp: int, digest: int) -> int:
    return hash((vfp, s.threads, s.windows, digest))

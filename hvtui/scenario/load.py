"""Scenario files: load and validate (with positions), replay, save.

A scenario is a Program plus its prose, schedule and expectations. Every
mistake becomes one InputError naming file, line, column and field: the
YAML layer is hvtui.scenario.yamlpos, the format's rules are hvtui.scenario.rules,
writing back is hvtui.scenario.save.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hvtui.errors import InputError, regular_file
from hvtui.model.engine import DONE, Engine
from hvtui.model.session import Session
from hvtui.scenario.rules import actor_hint, check
from hvtui.scenario.save import save, to_dict, to_yaml
from hvtui.scenario.value import Expect, Scenario
from hvtui.scenario.yamlpos import load as load_yaml
from hvtui.scenario.yamlpos import position, show_value

__all__ = [
    "Expect",
    "Scenario",
    "load",
    "parse",
    "replay",
    "with_schedule",
    "parse_schedule_arg",
    "to_dict",
    "to_yaml",
    "save",
    "MAX_BYTES",
    "SCHEDULE_ARG",
]

# A scenario is a few ops; 100k short ops are ~3.8 MB and load in a few seconds.
# Past this the file is not a scenario, and reading it would only make the user wait.
MAX_BYTES = 4 * 1024 * 1024
SCHEDULE_ARG = "--schedule"  # the "file" named by errors in a command-line schedule


# -- loading ----------------------------------------------------------------


def load(path: str) -> Scenario:
    """Read and validate one scenario file; anything wrong is one InputError."""
    # `-` reads as stdin elsewhere; here a scenario is a file the workbench can reload
    info = regular_file(path, "a scenario file", ": a scenario is read from a file, not stdin")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # never more, whatever the file grew to
    except OSError as exc:
        raise InputError(
            path, f"cannot read the file: {_reason(exc)} (expected a readable scenario file)"
        ) from None
    if len(data) > MAX_BYTES:
        size = max(info.st_size, len(data))
        # where it passes the limit: a position, as every refusal of a file's text has
        head = data[:MAX_BYTES].decode("utf-8", "replace")
        raise InputError(
            path,
            f"the file is {size:,} bytes (expected a scenario of at most {MAX_BYTES:,}: "
            "it passes that here)",
            *position(head, len(head)),
        )
    return parse(data, path)


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def parse(text: bytes | str, file: str) -> Scenario:
    return check(load_yaml(text, file), file)


# -- schedules ------------------------------------------------------------------


class _Schedule(tuple):
    """Actor names that remember their columns in a command-line argument."""

    positions: tuple[tuple[int, int], ...]
    source: str


_SCHEDULE_TOKEN = re.compile(r"""\s*(?:(,)|(["']?)([^\s,"'\[\]]+)\2|(\S))""")


def parse_schedule_arg(text: str) -> tuple[str, ...]:
    """`--schedule "vcpu0, vmm vmm"`: actor names split by commas and/or spaces.

    A list copied from `check` (`[vcpu0, vmm]` or JSON `["vcpu0", "vmm"]`)
    reads too. The result remembers each name's column, so with_schedule()
    and replay() point their errors at `--schedule:1:COL`.
    """
    body = text.strip()
    offset = len(text) - len(text.lstrip())
    if body.startswith("[") and body.endswith("]"):
        body, offset = body[1:-1], offset + 1
    names: list[str] = []
    cols: list[tuple[int, int]] = []
    after_name = False  # a comma is fine only right after a name
    i = 0
    while i < len(body):
        m = _SCHEDULE_TOKEN.match(body, i)
        if m is None:  # only trailing spaces are left
            break
        col = offset + m.start(m.lastindex) + 1
        if m.group(1):
            if not after_name:
                raise InputError(
                    SCHEDULE_ARG,
                    "a comma with no actor name before it "
                    "(expected names separated by commas or spaces)",
                    1,
                    col,
                    f"schedule[{len(names)}]",
                )
            after_name = False
        elif m.group(3):
            names.append(m.group(3))
            cols.append((1, col))
            after_name = True
        else:
            raise InputError(
                SCHEDULE_ARG,
                f"unexpected {m.group(4)!r} (expected actor names separated by commas or spaces)",
                1,
                col,
                f"schedule[{len(names)}]",
            )
        i = m.end()
    if names and not after_name:
        raise InputError(
            SCHEDULE_ARG,
            "a trailing comma (expected an actor name after it)",
            1,
            offset + len(body.rstrip()),
            f"schedule[{len(names)}]",
        )
    out = _Schedule(names)
    out.positions, out.source = tuple(cols), SCHEDULE_ARG
    return out


def with_schedule(scenario: Scenario, schedule: tuple[str, ...]) -> Scenario:
    """The scenario with another schedule: from `check`, the workbench or --schedule.

    Unknown actor names are refused here, positioned if the schedule came
    from parse_schedule_arg(); whether each step can be taken is replay()'s job.
    """
    positions = getattr(schedule, "positions", ())
    source = getattr(schedule, "source", "")
    known = set(scenario.program.actor_names())
    for i, name in enumerate(schedule):
        if name not in known:
            line, col = positions[i] if i < len(positions) else (None, None)
            raise InputError(
                source or scenario.file,
                f"unknown actor {show_value(name)} ({actor_hint(name, scenario.program)})",
                line,
                col,
                f"schedule[{i}]",
            )
    return replace(
        scenario, schedule=tuple(schedule), schedule_pos=tuple(positions), schedule_source=source
    )


# -- replaying ----------------------------------------------------------------


def replay(scenario: Scenario, engine: Engine | None = None) -> Session:
    """A session with the scenario's schedule applied (not run further).

    A schedule entry whose actor cannot step is an input error at that entry,
    saying why the actor waits and who could have stepped instead.
    """
    session = Session(engine or scenario.engine())
    stop = session.play(scenario.schedule)
    if stop is None:
        return session
    engine = session.engine
    file = scenario.schedule_source or scenario.file
    i = stop.index
    line, col = scenario.schedule_pos[i] if i < len(scenario.schedule_pos) else (None, None)
    if stop.status is None:
        raise InputError(
            file,
            f"unknown actor {show_value(stop.name)} (expected one of the scenario's actors)",
            line,
            col,
            f"schedule[{i}]",
        )
    st = stop.status
    if st.why == DONE:
        what = "it has finished its ops and has nothing left to do"
    else:
        what = f"it waits at {st.step}: {st.why}"
    ready = [engine.names[a] for a in engine.enabled(session.state)]
    expected = (
        (
            "expected one of the actors that can step: "
            + ", ".join(ready[:8])
            + (", ..." if len(ready) > 8 else "")
        )
        if ready
        else f"nothing can step after step {i}: the run is over"
    )
    raise InputError(
        file,
        f"{stop.name} cannot take step {i + 1}: {what} ({expected})",
        line,
        col,
        f"schedule[{i}]",
    )

"""A run of the model as the kernel would trace it: tracefs `trace` text.

Each vCPU is QEMU's thread `CPU N/KVM`, the VMM thread `vmm` is QEMU's main
thread and other VMM threads keep their names; timestamps follow the steps,
one microsecond per printed line. Which step prints what is the step
table's (each outcome's tracepoints in hvtui.model.steps; their fields from
hvtui.trace.tracepoints), the one `hvtui trace` reads this back by, as the
same run: a round trip that tests both.
"""

from __future__ import annotations

from hvtui.model.session import Session
from hvtui.trace.tracepoints import emitted

HOST_CPUS = 4
_BASE_US = 1_000_000  # the first line is at 1.000001 s
_HEADER = """\
# tracer: nop
# trace_clock: mono (hvtui export: timestamps follow the model's steps)
#
# entries-in-buffer/entries-written: {count}/{count}   #P:{cpus}
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""


def thread(engine, actor: int) -> tuple[str, int, int]:
    """(comm, pid, host cpu) of an actor's thread."""
    n = engine.n
    if actor < n:
        return f"CPU {actor}/KVM", 5000 + actor, actor % HOST_CPUS
    name = engine.names[actor]
    comm = "qemu-system-x86" if name == "vmm" else name[:15]
    return comm, 4000 + actor - n, (actor - n) % HOST_CPUS


def render(scenario, session: Session) -> str:
    engine = session.engine
    lines = []
    s = session.initial
    for i in range(session.pos):
        actor = session.actors[i]
        after, event = engine.step(s, actor, i + 1)
        for e in emitted(engine, s, actor, event, after):
            comm, pid, cpu = thread(engine, actor if e.vcpu < 0 else e.vcpu)
            us = _BASE_US + len(lines) + 1
            lines.append(
                f"{comm:>16}-{pid:<7} [{cpu:03d}] ..... {us // 1_000_000:5d}.{us % 1_000_000:06d}: "
                f"{e.name}: {e.fields}\n"
            )
        s = after
    return _HEADER.format(count=len(lines), cpus=HOST_CPUS) + "".join(lines)

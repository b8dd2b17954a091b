"""History memory grows linearly with the steps taken (not timed).

Each step keeps its actor, its event and its verdicts; a state is kept only
every CHECKPOINT steps and shares all untouched chunks with the one before.
If a step ever copied the whole history or the whole vCPU vector into what
it keeps, doubling the steps would quadruple the memory instead of
doubling it. benchmarks/bench_limits.py prints the figures at 4096 vCPUs.
"""

from __future__ import annotations

import gc
import tracemalloc

from engine_support import flush, program

from hvtui.model.engine import Engine
from hvtui.model.session import Session
from hvtui.model.state import Exit, Run, SetInhibit
from hvtui.model.variants import POSTED

STEPS = (1500, 3000, 6000)


def busy_program(n: int = 256):
    """Every vCPU flushes its two neighbours over and over; vcpu1 inhibited and cleared."""
    vmm = [
        Exit("k1", 1),
        SetInhibit("on", 1, True),
        Run("r1", 1),
        Exit("k2", 1),
        SetInhibit("off", 1, False),
        Run("r2", 1),
    ]
    flushes = {
        c: [flush((c + 1) % n, (c + 2) % n, id=f"f{c}.{j}") for j in range(8)] for c in range(n)
    }
    return program(n, flushes, vmm=vmm)


def retained_bytes(steps: int) -> int:
    """What a session holds after `steps` steps, beyond what existed before it."""
    engine = Engine(busy_program(), POSTED)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        session = Session(engine)
        assert session.run(steps) == steps
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def test_history_memory_grows_linearly_with_the_steps():
    small, medium, large = (retained_bytes(k) for k in STEPS)
    first, second = medium - small, large - medium  # 1500 more steps, then 3000 more
    assert 1.5 < second / first < 2.6, (small, medium, large)  # linear: 2; quadratic: 4
    assert large / STEPS[-1] < 1000, f"{large / STEPS[-1]:.0f} bytes a step"

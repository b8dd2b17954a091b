"""The cycle collector, paused around work that makes many values and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the body with the cycle collector off, as it was after.

    A replay or a search allocates millions of tuples that reference
    counting frees (a Vec's link to its parent is a weak reference), and
    the collector, which runs every few hundred allocations and now and
    then walks every value still alive, cost a third of a long replay and
    a quarter of a check, and found nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

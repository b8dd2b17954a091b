"""Counts as a sentence reads them: 1 step, 2 steps."""

from __future__ import annotations


def n_steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"

"""Same input, same bytes: whatever the process, whatever Python's hash seed.

Every shipped scenario goes through `run --json` and `check --json` in
fresh processes under different PYTHONHASHSEEDs; the outputs must match
byte for byte. The only thing allowed to differ in `check` is the wall
time it reports, under "seconds".
"""

from __future__ import annotations

import json

from conftest import ROOT, SCENARIOS, run_cli

FILES = [p.relative_to(ROOT).as_posix() for p in sorted(SCENARIOS.glob("*.yaml"))]
SEEDS = ("0", "1", "4242")


def outputs(*command: str, seeds: tuple[str, ...] = SEEDS) -> list[str]:
    """stdout of the command under each hash seed (it must succeed or report 1)."""
    texts = []
    for seed in seeds:
        code, out, err = run_cli(*command, env={"PYTHONHASHSEED": seed})
        assert code in (0, 1), err
        texts.append(out)
    return texts


def test_there_are_scenarios_to_compare():
    assert len(FILES) >= 2


def test_run_json_is_byte_identical_across_processes_and_hash_seeds():
    # two seeds are enough here: the 4096-vCPU scenario makes each run a 10 MB document
    first, other = outputs("run", "--json", *FILES, seeds=SEEDS[:2])
    assert len(json.loads(first)["results"]) == len(FILES)
    assert other == first


def _without_seconds(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_check_json_differs_only_in_its_seconds():
    # a state bound is as deterministic as the search itself, and keeps the
    # 4096-vCPU scenario from searching for minutes
    first, *others = outputs("check", "--json", "--max-states", "2000", *FILES)
    for other in others:
        assert _without_seconds(json.loads(other)) == _without_seconds(json.loads(first))
        changed = [
            (a, b) for a, b in zip(first.splitlines(), other.splitlines(), strict=True) if a != b
        ]
        assert all('"seconds"' in a and '"seconds"' in b for a, b in changed), changed[:3]

"""The sequence diagram parses as Mermaid, and says who acts on whom.

We cannot run Mermaid here, so `parse` below is a strict reader of the
subset of sequenceDiagram the export writes (header, %% comments,
`participant ID as LABEL`, `A->>B: text`, `Note over A[,B]: text`),
following Mermaid's own rules for ids and for the characters that end a
statement early. Anything outside that subset is an error, so a new
construct in the export has to be added here on purpose.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from hvtui.exports import mermaid
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import load
from tests.conftest import SCENARIOS

ID = r"[A-Za-z_][A-Za-z0-9_]*"
PARTICIPANT = re.compile(rf"^participant ({ID}) as (\S+)$")
MESSAGE = re.compile(rf"^({ID})->>({ID}): (.+)$")
NOTE = re.compile(rf"^Note over ({ID})(?:,({ID}))?: (.+)$")


class Diagram(NamedTuple):
    participants: dict[str, str]  # id -> label
    messages: list[tuple[str, str, str]]  # (from, to, text)
    notes: list[tuple[str, str]]  # (over, text)


def parse(text: str) -> Diagram:
    lines = text.split("\n")
    if lines[0] != "sequenceDiagram":
        raise ValueError("line 1: expected 'sequenceDiagram'")
    if lines[-1] != "":
        raise ValueError("the text does not end with a newline")
    d = Diagram({}, [], [])
    for n, raw in enumerate(lines[1:-1], start=2):
        if not raw.startswith("    ") or raw[4:5].isspace():
            raise ValueError(f"line {n}: statements are indented by four spaces")
        line = raw[4:]
        if line.startswith("%%"):
            continue
        if ";" in line or "#" in line:
            raise ValueError(f"line {n}: ';' or '#' would end or escape the statement")
        if m := PARTICIPANT.match(line):
            if m[1] in d.participants:
                raise ValueError(f"line {n}: participant {m[1]} declared twice")
            if d.messages or d.notes:
                raise ValueError(f"line {n}: participants come before the first step")
            d.participants[m[1]] = m[2]
        elif m := MESSAGE.match(line):
            _known(d, n, m[1], m[2])
            d.messages.append((m[1], m[2], m[3]))
        elif m := NOTE.match(line):
            _known(d, n, m[1], m[2])
            d.notes.append((m[1], m[3]))
        else:
            raise ValueError(f"line {n}: not a statement of the subset: {line!r}")
    return d


def _known(d: Diagram, n: int, *ids: str | None) -> None:
    for i in ids:
        if i is not None and i not in d.participants:
            raise ValueError(f"line {n}: {i} was never declared as a participant")


def sequence(path: str) -> str:
    scenario = load(path)
    return mermaid.render(scenario, replay_to_end(scenario))


# -- the reader itself must be able to say no ----------------------------------


@pytest.mark.parametrize(
    "bad, why",
    [
        ("graph TD\n", "line 1"),
        ("sequenceDiagram\n    vcpu0->>vcpu1: hi\n", "never declared"),
        ("sequenceDiagram\n    participant a as a\n    a->>a: x; y\n", "';' or '#'"),
        ("sequenceDiagram\n    participant vmm:b as vmm:b\n", "not a statement"),
        ("sequenceDiagram\nparticipant a as a\n", "indented"),
        ("sequenceDiagram\n    participant a as a\n    participant a as a\n", "twice"),
    ],
)
def test_the_reader_rejects_what_mermaid_would_reject(bad, why):
    with pytest.raises(ValueError, match=why):
        parse(bad)


# -- every scenario -------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_library_scenario_exports_a_valid_sequence_diagram(path):
    d = parse(sequence(str(path.relative_to(SCENARIOS.parent))))
    assert d.participants
    assert d.messages or d.notes


def test_requests_kicks_and_wakes_are_messages_between_actors():
    d = parse(sequence("scenarios/reviewer-race.yaml"))
    assert list(d.participants) == ["vcpu0", "vmm", "vcpu1", "vcpu2"]
    sent = [(a, b, text.split(" ", 1)[1]) for a, b, text in d.messages]
    assert sent == [
        ("vmm", "vcpu1", "pthread_kill(vcpu1 thread)"),
        ("vcpu0", "vcpu1", "kvm_make_request(KVM_REQ_HV_TLB_FLUSH, vcpu1)"),
        ("vcpu0", "vcpu2", "kvm_make_request(KVM_REQ_HV_TLB_FLUSH, vcpu2)"),
        ("vmm", "vcpu1", "ioctl(vcpu1_fd, KVM_RUN)"),
    ]
    assert list(d.participants.values()) == ["CPU0", "VMM", "CPU1", "CPU2"]
    assert (
        "vcpu1",
        "CPU1 services the flush request at 17, after the ioctl that set CPU1's flag returned "
        "at 15",
    ) in d.notes


def test_a_named_vmm_thread_gets_a_mermaid_id_and_keeps_its_name_as_label():
    d = parse(sequence("scenarios/retry-second-target.yaml"))
    assert d.participants["vmm_b"] == "VMM:b"
    woken = [(a, b) for a, b, text in d.messages if "->suspended, false)" in text]
    assert woken == [("vmm", "vcpu0"), ("vmm_b", "vcpu0")]


def test_a_vcpu_that_is_only_requested_still_gets_a_lifeline():
    d = parse(sequence("scenarios/inhibit-during-flush.yaml"))
    # vcpu1 sits in userspace the whole run: it never steps, but vcpu0 requests it
    assert "vcpu1" in d.participants
    assert ("vcpu0", "vcpu1") in [(a, b) for a, b, _ in d.messages]

"""--format perfetto against the Trace Event Format's rules, and what it shows of the race.

The rules checked (Trace Event Format, JSON Object Format): the document is
an object whose `traceEvents` is a list and whose `displayTimeUnit` is "ms"
or "ns"; every event has `name`, `ph`, `pid`, `tid` and, except metadata,
a numeric `ts` in microseconds; `X` (complete) events carry a non-negative
`dur`; `i` (instant) events a scope `s` of "g", "p" or "t"; `M` (metadata)
events name one of process_name, process_labels, process_sort_index,
thread_name, thread_sort_index with `args`; flow events (`s`, `t`, `f`)
carry an `id`, each flow starts once and finishes once, no earlier than it
starts; `args`, where present, is an object. Complete events on one thread
must nest: two slices either are disjoint or one contains the other.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from hvtui.exports import perfetto
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import load
from tests.conftest import SCENARIOS, run_cli

PHASES = set("BEXiIMCbnestfPOND") | {"(", ")"}
METADATA = {
    "process_name",
    "process_labels",
    "process_sort_index",
    "thread_name",
    "thread_sort_index",
}


def trace(path: str) -> dict:
    scenario = load(path)
    return json.loads(perfetto.render(scenario, replay_to_end(scenario)))


def check_rules(doc: dict) -> None:
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc.get("displayTimeUnit", "ms") in ("ms", "ns")
    flows: dict[object, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    slices = defaultdict(list)
    for e in doc["traceEvents"]:
        assert {"name", "ph", "pid", "tid"} <= set(e), e
        assert e["ph"] in PHASES, e
        assert isinstance(e.get("args", {}), dict), e
        if e["ph"] == "M":
            assert e["name"] in METADATA and "args" in e, e
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
            slices[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
        elif e["ph"] in "iI":
            assert e.get("s", "t") in ("g", "p", "t"), e
        elif e["ph"] in "stf":
            assert "id" in e, e
            flows[e["id"]][e["ph"]].append(e["ts"])
    for fid, phases in flows.items():
        assert len(phases["s"]) == 1 and len(phases["f"]) == 1, fid
        assert phases["s"][0] <= phases["f"][0], fid
    for track, spans in slices.items():
        for a0, a1, an in spans:
            for b0, b1, bn in spans:
                disjoint = a1 <= b0 or b1 <= a0
                nested = (a0 <= b0 and b1 <= a1) or (b0 <= a0 and a1 <= b1)
                assert disjoint or nested, (track, an, bn)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_library_trace_keeps_the_format_rules(path):
    check_rules(trace(str(path.relative_to(SCENARIOS.parent))))


def test_the_checker_of_the_rules_can_fail():
    bad = {"traceEvents": [{"name": "x", "ph": "X", "ts": 0, "pid": 1, "tid": 1}]}
    with pytest.raises(KeyError):
        check_rules(bad)  # a complete event without its dur
    crossing = {
        "traceEvents": [
            {"name": "a", "ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 1},
            {"name": "b", "ph": "X", "ts": 5, "dur": 10, "pid": 1, "tid": 1},
        ]
    }
    with pytest.raises(AssertionError):
        check_rules(crossing)


def by(doc: dict, **fields) -> list[dict]:
    return [e for e in doc["traceEvents"] if all(e.get(k) == v for k, v in fields.items())]


def test_one_track_per_actor_with_the_race_on_it():
    doc = trace("scenarios/reviewer-race.yaml")
    names = {e["tid"]: e["args"]["name"] for e in by(doc, ph="M", name="thread_name")}
    assert sorted(names.values()) == ["CPU0", "CPU1", "CPU2", "CPU3", "VMM"]
    tid = {v: k for k, v in names.items()}
    ms = 1000
    # CPU0's hypercall, from kvm_hv_flush_tlb() (step 3) to its completion (step 13)
    [call] = by(doc, ph="X", name="flush hypercall", tid=tid["CPU0"])
    assert call["ts"] == 3 * ms and call["ts"] + call["dur"] > 13 * ms
    # the VMM's ioctl from mutex_lock (5) to its return (15), the SRCU wait inside it
    [ioctl] = by(doc, ph="X", name="KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", tid=tid["VMM"])
    [wait] = by(doc, ph="X", name="synchronize_srcu()", tid=tid["VMM"])
    assert (ioctl["ts"], wait["ts"]) == (5 * ms, 12 * ms)
    assert ioctl["ts"] < wait["ts"] and wait["ts"] + wait["dur"] < ioctl["ts"] + ioctl["dur"]
    # CPU1 leaves KVM_RUN at step 2 and is back in it from step 16
    runs = sorted(e["ts"] for e in by(doc, ph="X", name="KVM_RUN", tid=tid["CPU1"]))
    assert runs == [0, 16 * ms]
    # the tracepoint at the hypercall's entry, and the violation, where they happened
    [entry] = by(doc, ph="i", name="kvm_hv_flush_tlb")
    assert (entry["tid"], entry["ts"], entry["args"]["line"]) == (
        tid["CPU0"],
        3 * ms,
        "vcpu 0 targets 0x6",
    )
    [bad] = by(doc, ph="i", cat="violation")
    assert bad["ts"] == 17 * ms and bad["s"] == "g"
    assert bad["name"].startswith("CPU1 services the flush request at 17")
    # the flush request raised at step 9 arrives at CPU1's service at step 17
    arrows = {(e["ph"], e["ts"], e["tid"]) for e in by(doc, cat="request")}
    assert {("s", 9 * ms, tid["CPU0"]), ("f", 17 * ms, tid["CPU1"])} <= arrows


def test_suspend_and_unsuspend_are_instant_tracepoints():
    doc = trace("scenarios/basic-suspend-wake.yaml")
    fired = [(e["name"], e["args"]["line"]) for e in by(doc, ph="i", cat="tracepoint")]
    assert ("kvm_hv_vcpu_suspend_tlb_flush", "suspending vcpu 0 waiting on 1") in fired
    assert ("kvm_hv_vcpu_unsuspend_tlb_flush", "unsuspending vcpu 0") in fired
    # the suspended attempt ends at kvm_hv_hypercall_complete(); the retry is a slice of its own
    assert len(by(doc, ph="X", name="flush hypercall")) == 2


def test_export_writes_it_and_json_carries_it_as_a_document():
    code, out, err = run_cli("export", "scenarios/reviewer-race.yaml", "-f", "perfetto")
    assert (code, err) == (0, "")
    check_rules(json.loads(out))
    code, out, _ = run_cli("export", "scenarios/reviewer-race.yaml", "-f", "perfetto", "--json")
    assert code == 0 and json.loads(out)["content"]["displayTimeUnit"] == "ms"

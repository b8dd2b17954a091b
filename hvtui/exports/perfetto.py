"""The run as Chrome trace-event JSON, for ui.perfetto.dev and chrome://tracing.

One track (thread) per actor, named as the diagram heads its columns
(`CPU0`, `VMM`), in one process named after the scenario. Step N happens
at N milliseconds. Slices (complete events, `ph: X`) are what takes time:

- on a vCPU's track, `KVM_RUN` while its thread is inside the ioctl, the
  flush hypercall from its entry to `kvm_hv_hypercall_complete()` (one
  slice per attempt: a suspended one ends there and is retried), and
  `kvm_hv_vcpu_flush_tlb()` where it services a request;
- on a VMM thread's track, each `KVM_HYPERV_SET_TLB_FLUSH_INHIBIT` ioctl
  from `mutex_lock` to its return, and inside it the `synchronize_srcu()`
  wait.

Slices on one track nest (a hypercall lies inside a `KVM_RUN`, a
`synchronize_srcu()` inside its ioctl), as the format requires. The
series' tracepoints are instant events on the track that fired them, with
the line the trace would print; each first violation is a global instant
event saying what went wrong; a flow arrow runs from each flush request to
the service that consumed it. The same run gives the same bytes.
"""

from __future__ import annotations

import json

from hvtui.model.session import Session
from hvtui.model.state import USER
from hvtui.runs.kernel import cpu_name, explain, kernel_lines
from hvtui.scenario.load import Scenario

STEP_US = 1000  # one step is a millisecond on the timeline
PID = 1


def render(scenario: Scenario, session: Session) -> str:
    engine = session.engine
    tid = {name: i + 1 for i, name in enumerate(engine.names)}
    out: list[dict] = [_meta("process_name", 0, {"name": f"hvtui: {scenario.name}"})]
    for name, t in tid.items():
        out.append(_meta("thread_name", t, {"name": cpu_name(name)}))
        out.append(_meta("thread_sort_index", t, {"sort_index": t}))

    def ts(step: int) -> int:
        return step * STEP_US

    def slice_(actor: str, name: str, cat: str, start: int, end: int, args: dict) -> None:
        # begins at its first step, ends half a step after its last, so that a
        # slice that ends on the same step as the one around it still nests
        out.append(
            {
                "name": name,
                "cat": cat,
                "ph": "X",
                "ts": ts(start),
                "dur": ts(end) - ts(start) + STEP_US // 2,
                "pid": PID,
                "tid": tid[actor],
                "args": args,
            }
        )

    end = session.pos + 1  # where slices still open at the end are cut
    in_run = {f"vcpu{c}": 0 for c, v in enumerate(session.initial.vcpus) if v.mode != USER}
    hypercall: dict[str, tuple[int, str]] = {}
    ioctl: dict[str, tuple[int, str]] = {}
    sync: dict[str, int] = {}
    requests: dict[str, list[tuple[int, str]]] = {}  # target -> (step, requester)
    first = {step: prop for prop, step in session.first_violations().items()}
    flows = 0
    for ln in kernel_lines(session):
        t, actor, kind = ln.time, ln.actor, ln.kind
        if kind == "enter":
            hypercall[actor] = (t, ln.text)
        elif kind in ("complete", "s3") and actor in hypercall:
            start, text = hypercall.pop(actor)
            slice_(actor, "flush hypercall", "hypercall", start, t, {"entry": text, "end": ln.text})
        elif kind == "lock":
            ioctl[actor] = (t, ln.head)
        elif kind == "return" and actor in ioctl:
            start, call = ioctl.pop(actor)
            slice_(actor, "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", "ioctl", start, t, {"call": call})
        elif kind == "sync":
            sync[actor] = t
        elif kind == "synced" and actor in sync:
            slice_(actor, "synchronize_srcu()", "srcu", sync.pop(actor), t, {})
        elif kind == "run":
            in_run[ln.peer] = t
        elif kind == "leave" and actor in in_run:
            slice_(actor, "KVM_RUN", "ioctl", in_run.pop(actor), t, {"returns": ln.text})
        elif kind == "request":
            requests.setdefault(ln.peer, []).append((t, actor))
        elif kind == "service":
            slice_(actor, "kvm_hv_vcpu_flush_tlb()", "flush", t, t, {})
            for at, requester in requests.pop(actor, []):
                flows += 1
                out.append(_flow("s", flows, ts(at), tid[requester]))
                out.append({**_flow("f", flows, ts(t), tid[actor]), "bp": "e"})
        if kind in ("exit", "run"):  # userspace: pthread_kill(), ioctl(KVM_RUN)
            out.append(_instant(ln.text, "userspace", ts(t), tid[actor], "t", {}))
        if ln.tracepoint:
            name, _, message = ln.tracepoint.partition(": ")
            out.append(_instant(name, "tracepoint", ts(t), tid[actor], "t", {"line": message}))
        if t in first:
            what = explain(session, first[t], t)
            out.append(_instant(what, "violation", ts(t), tid[actor], "g", {"step": t}))
    for actor, (start, text) in hypercall.items():
        slice_(actor, "flush hypercall", "hypercall", start, end, {"entry": text, "end": ""})
    for actor, (start, call) in ioctl.items():
        slice_(actor, "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", "ioctl", start, end, {"call": call})
    for actor, start in sync.items():
        slice_(actor, "synchronize_srcu()", "srcu", start, end, {})
    for actor, start in in_run.items():
        slice_(actor, "KVM_RUN", "ioctl", start, end, {})
    # one event a line: a diff of two traces reads event by event
    events = ",\n".join("  " + json.dumps(e) for e in out)
    tail = json.dumps({"displayTimeUnit": "ms", "otherData": _other(scenario, session)})
    return '{"traceEvents": [\n' + events + "\n],\n " + tail[1:] + "\n"


def _meta(name: str, tid: int, args: dict) -> dict:
    return {"name": name, "ph": "M", "pid": PID, "tid": tid, "args": args}


def _instant(name: str, cat: str, ts: int, tid: int, scope: str, args: dict) -> dict:
    return {
        "name": name,
        "cat": cat,
        "ph": "i",
        "s": scope,
        "ts": ts,
        "pid": PID,
        "tid": tid,
        "args": args,
    }


def _flow(ph: str, flow_id: int, ts: int, tid: int) -> dict:
    return {
        "name": "KVM_REQ_HV_TLB_FLUSH",
        "cat": "request",
        "ph": ph,
        "id": flow_id,
        "ts": ts,
        "pid": PID,
        "tid": tid,
    }


def _other(scenario: Scenario, session: Session) -> dict:
    return {"scenario": scenario.name, "variant": scenario.variant, "steps": session.pos}

"""A trace checked against the model: the report `hvtui trace` prints.

Tries each candidate scenario the trace implies (fewest inferred ioctls
first) and keeps the first consistent one, or the one explaining the
longest prefix. The found interleaving is a schedule: replayed in a
Session, it gives the property verdicts along it, as for any run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hvtui.errors import printable
from hvtui.model.engine import Engine
from hvtui.model.properties import PROPERTIES
from hvtui.model.variants import POSTED, VARIANTS
from hvtui.scenario import load as scenarios
from hvtui.scenario.save import to_dict
from hvtui.trace.build import NOBODY, Built, Candidate, build, line_texts, scan
from hvtui.trace.mapping import VP_MAP, parse_id_map
from hvtui.trace.search import Result, search


@dataclass
class Report:
    built: Built
    candidate: Candidate
    result: Result
    scenario: scenarios.Scenario
    verdicts: dict[str, str]
    first: dict[str, int]
    warnings: list[str]
    texts: list[str]  # the model's event text of each step of the run
    failed_text: str  # the trace line of the first event no run explains ("" if none)

    def document(self) -> dict:
        s, r = self.built.scan, self.result
        doc = {
            "file": s.path,
            "lines": s.lines,
            "events": r.total,
            "skipped": dict(sorted(s.skipped.items())),
            "other_hypercall_results": s.other_results,
            "threads": {
                str(pid): {"comm": s.mapper.comms.get(pid, ""), "vcpu": src.vcpu, "by": src.how}
                for pid, src in self.built.mapping.items()
            },
            "clock": s.clock or None,
            "warnings": self.warnings,
            "notes": self.built.notes,
            "variant": self.scenario.variant,
            "scenario": to_dict(self.scenario),
            "inferred_ioctls": self.candidate.ioctls,
            "result": "consistent" if r.consistent else "inconsistent",
            "explained": r.explained,
            "states": r.states,
            "schedule": r.schedule,
            "steps": [
                {"step": i + 1, "actor": a, "text": text, "line": line}
                for i, (a, line, text) in enumerate(
                    zip(r.schedule, r.lines, self.texts, strict=True)
                )
            ],
            "verdicts": self.verdicts,
            "violations": {p: {"step": step} for p, step in self.first.items()},
        }
        if not r.consistent:
            doc["line"] = r.failed.line if r.failed else None
            doc["expected"] = self.failed_text or None
            doc["actor"] = r.failed_actor
            doc["instead"] = r.instead
            doc["bounded"] = r.bounded
        return doc

    def text(self) -> str:
        s, r, sc = self.built.scan, self.result, self.scenario
        out = [f"trace {s.path}: {s.lines} lines, {r.total} events the model decides"]
        if s.skipped:
            skipped = ", ".join(f"{name} {count}" for name, count in sorted(s.skipped.items()))
            out.append(f"  skipped (not the series' tracepoints): {skipped}")
        for pid, src in self.built.mapping.items():
            out.append(f"  pid {pid} ({s.mapper.comms.get(pid, '?')}) is vcpu{src.vcpu}: {src.how}")
        for note in self.built.notes:
            out.append(f"  note: {note}")
        out.append(f"scenario: {sc.vcpus} vCPUs, variant {sc.variant}, " + _program(self.candidate))
        if r.consistent:
            out.append(
                f"consistent: every event explained by a run of {len(r.schedule)} steps "
                f"({r.states} states searched)"
            )
        else:
            where = f"line {r.failed.line}" if r.failed else "the end"
            out.append(f"inconsistent at {where}: {self.failed_text.strip()}")
            if r.failed_actor == NOBODY:
                why = "no suspension of that vCPU is left for it to end, so no ioctl prints it"
            else:
                why = f"no run then prints this on {r.failed_actor}"
            out.append(
                f"  the model explains the first {r.explained} of {r.total} events "
                f"(the schedule below); {why}"
            )
            if r.bounded:
                out.append(f"  (the search stopped after {r.states} states)")
            if r.instead:
                out.append("  the model could have printed instead:")
                out += [f"    {line}" for line in r.instead]
            else:
                out.append("  the model could print nothing more there")
        out.append("schedule: [" + ", ".join(r.schedule) + "]")
        for i, (actor, line) in enumerate(zip(r.schedule, r.lines, strict=True)):
            if line is not None:
                out.append(f"  step {i + 1:>4} {actor:<9} {self.texts[i]}  <- line {line}")
        verdicts = ", ".join(f"{p} {self.verdicts[p]}" for p in PROPERTIES)
        out.append(f"verdicts along the run: {verdicts}")
        for prop, step in self.first.items():
            out.append(f"  violated: {prop} at step {step}")
        # a thread's comm and a trace line are what the traced system wrote: any
        # process can name itself "\e]0;...\a" (PR_SET_NAME), the reader's terminal must not obey
        return "\n".join(printable(line) for line in out) + "\n"


def check(
    path: str,
    skeleton_path: str | None,
    variant: str | None,
    tolerance: int,
    pid_map: str | None,
    kernel_work: bool = False,
    vp_map: str | None = None,
    untraced: frozenset[str] = frozenset(),
) -> Report:
    skeleton = scenarios.load(skeleton_path) if skeleton_path else None
    vp = parse_id_map(vp_map, VP_MAP)
    found = scan(path, parse_id_map(pid_map), kernel_work)
    name = variant or (skeleton.variant if skeleton else POSTED.name)
    built = build(
        found, skeleton.program if skeleton else None, vp, VARIANTS[name].wake_all, untraced
    )
    best: tuple[Candidate, Result] | None = None
    for cand in built.candidates:
        result = search(Engine(cand.program, VARIANTS[name]), cand.obs, built.enabled, tolerance)
        if best is None or result.consistent or result.explained > best[1].explained:
            best = (cand, result)
        if result.consistent:
            break
    assert best is not None
    cand, result = best
    # the file's name as the scenario's (escaped: a name with an ESC or a line break
    # would make a scenario file the loader refuses)
    shown = printable(os.path.basename(path))
    base = os.path.splitext(shown)[0]
    scenario = scenarios.Scenario(
        file=path,
        name=skeleton.name if skeleton else f"trace-{base}",
        description=f"Built by hvtui trace from {shown}; the schedule is "
        + ("the run that prints it." if result.consistent else "the longest prefix explained."),
        vcpus=cand.program.vcpus,
        variant=name,
        program=cand.program,
        schedule=tuple(result.schedule),
    )
    session = scenarios.replay(scenario)
    return Report(
        built,
        cand,
        result,
        scenario,
        session.verdicts(),
        session.first_violations(),
        _clock_warnings(built),
        [e.text for e in session.events],
        line_texts(path, {result.failed.line}).get(result.failed.line, "") if result.failed else "",
    )


def _clock_warnings(built: Built) -> list[str]:
    s = built.scan
    if len(s.cpus) < 2 or s.clock not in ("", "local"):
        return []
    said = "the trace says trace_clock local" if s.clock else "the trace does not name its clock"
    return [
        f"{said}; the default local clock is not synchronised across CPUs, so the order of "
        "events on different CPUs may be wrong: record with `trace-cmd record -C mono`, "
        "or allow for the skew with --tolerance"
    ]


def _program(cand: Candidate) -> str:
    p = cand.program
    parts = []
    for c, ops in enumerate(p.vcpu_ops):
        if ops:
            parts.append(f"vcpu{c}: " + ", ".join(_op(op) for op in ops))
    for name, ops in p.threads:
        parts.append(f"{name}: " + ", ".join(_op(op) for op in ops))
    if cand.initial_inhibit:
        parts.append(f"inhibited from the start: {list(cand.initial_inhibit)}")
    parts.append(f"{cand.ioctls} inferred set_inhibit(x, true)")
    return "; ".join(parts)


def _op(op) -> str:
    if op.op == "flush":
        return f"flush {op.spec}"
    if op.op == "kernel_work":
        return "kernel_work"
    if op.op == "set_inhibit":
        return f"set_inhibit {op.vcpu} {str(op.value).lower()}"
    return f"{op.op} {op.vcpu}"

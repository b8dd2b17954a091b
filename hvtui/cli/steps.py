"""`hvtui steps`: the table of atomic steps, printed from their declarations.

Everything here is read off hvtui.model.steps (and the properties' JUDGES),
so the table cannot say something the engine does not do.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _judges() -> dict[str, list[str]]:
    from hvtui.model.properties import JUDGES

    out: dict[str, list[str]] = {}
    for prop, kinds in JUDGES.items():
        for kind in kinds:
            out.setdefault(kind, []).append(prop)
    return out


def table() -> list[dict]:
    """One entry per step, in the table's order."""
    from hvtui.model.steps import STEPS
    from hvtui.model.variants import VARIANTS

    judges = _judges()
    rows = []
    for d in STEPS:
        by_variant = {name: [str(loc) for loc in d.more_reads(v)] for name, v in VARIANTS.items()}
        rows.append(
            {
                "actor": d.actor,
                "op": d.op or "(any time)",
                "step": d.kind + (f" {d.arg}" if d.arg else ""),
                "guard": d.guard or "its turn in the op",
                "reads": [str(loc) for loc in d.reads],
                "reads_by_variant": {k: v for k, v in by_variant.items() if v},
                "writes": [str(loc) for loc in d.writes],
                "outcomes": {
                    name: {
                        "text": case.text,
                        "tracepoints": list(case.tracepoints),
                        "writes": [str(loc) for loc in case.writes],
                    }
                    for name, case in d.cases.items()
                },
                "judged_by": judges.get(d.kind, []),
                "series": d.series,
            }
        )
    return rows


def _reads_line(row: dict) -> str:
    reads = " ".join(row["reads"])
    groups: dict[str, list[str]] = {}
    for variant, extra in row["reads_by_variant"].items():
        groups.setdefault(" ".join(extra), []).append(variant)
    for extra, variants in groups.items():
        reads += f"; {extra} ({', '.join(variants)})"
    return reads


def main(args: argparse.Namespace) -> int:
    rows = table()
    if args.json:
        import json

        print(json.dumps({"steps": rows}, indent=2))
        return 0
    print(
        "Atomic steps. Locations are field[whom]: c the stepping vCPU, t its flush's\n"
        "current target, x the VMM op's vCPU, w the vCPU the unsuspend scan is at,\n"
        "all every vCPU, recorded the readers synchronize_srcu waits for, thread the\n"
        "VMM thread itself; pos is an actor's place in its program. In a kernel line\n"
        "{} is filled with vCPU ids and values.\n"
    )
    for row in rows:
        print(f"{row['actor']} {row['op']}: {row['step']}")
        print(f"  guard:        {row['guard']}")
        print(f"  reads:        {_reads_line(row)}")
        print(f"  writes:       {' '.join(row['writes']) or '-'}")
        for name, case in row["outcomes"].items():
            extra = f" (+ {' '.join(case['writes'])})" if case["writes"] else ""
            print(f"  {name + ':':<14}{case['text']}{extra}")
            if case["tracepoints"]:
                print(f"  {'':<14}trace: {', '.join(case['tracepoints'])}")
        if row["judged_by"]:
            print(f"  judged by:    {', '.join(row['judged_by'])}")
        print(f"  series:       {row['series']}")
        print()
    return 0

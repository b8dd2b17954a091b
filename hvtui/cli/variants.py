"""`hvtui variants`: each variant, what it changes, where it comes from, and its toggles."""

from __future__ import annotations

import argparse

from hvtui.model.variants import POSTED, VARIANTS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def main(args: argparse.Namespace) -> int:
    if args.json:
        import json

        doc = {
            name: {"source": v.source, "description": v.description, "toggles": v.toggles()}
            for name, v in VARIANTS.items()
        }
        print(json.dumps(doc, indent=2))
        return 0
    width = max(map(len, VARIANTS))
    for name, v in VARIANTS.items():
        changed = [
            f"{k}={'on' if val else 'off'}"
            for k, val in v.toggles().items()
            if val != getattr(POSTED, k)
        ]
        print(f"{name:<{width}}  {v.description}")
        print(f"{'':<{width}}  from: {v.source}")
        print(f"{'':<{width}}  toggles: {', '.join(changed) or 'the baseline'}")
    return 0

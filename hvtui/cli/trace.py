"""`hvtui trace FILE`: does a real trace fit the model?

Reads the text of `trace-cmd report` or of tracefs `trace` / `trace_pipe`
with the series' tracepoints (record with `trace-cmd record -C mono -e
kvm_hv_flush_tlb -e kvm_hv_flush_tlb_ex -e kvm_hv_hypercall -e
kvm_hv_hypercall_done -e kvm_hv_vcpu_suspend_tlb_flush -e
kvm_hv_vcpu_unsuspend_tlb_flush -e kvm_userspace_exit -e kvm_entry -e kvm_exit`),
builds the scenario it implies, and searches for a run of the model that
prints exactly those events. Exit 0 consistent, 1 inconsistent, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from hvtui.atomic import not_the_input, writable
from hvtui.errors import InputError, printable
from hvtui.model.variants import VARIANTS

TOLERANCE = "--tolerance"
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "record with a clock that is the same on every CPU:\n"
        "  trace-cmd record -C mono -e kvm_hv_flush_tlb -e kvm_hv_flush_tlb_ex \\\n"
        "    -e kvm_hv_hypercall -e kvm_hv_hypercall_done -e kvm_hv_vcpu_suspend_tlb_flush \\\n"
        "    -e kvm_hv_vcpu_unsuspend_tlb_flush -e kvm_userspace_exit -e kvm_entry -e kvm_exit\n"
        "  trace-cmd report > run.txt && hvtui trace run.txt\n"
        "the default trace_clock (local) is not synchronised across CPUs."
    )
    parser.add_argument("file", metavar="FILE", help="trace-cmd report output, or tracefs trace")
    parser.add_argument("--save", metavar="OUT.yaml", help="write the scenario (with the schedule)")
    parser.add_argument("--force", action="store_true", help="replace OUT.yaml if it exists")
    parser.add_argument("--open", action="store_true", help="show the run in the workbench")
    parser.add_argument(
        "--with",
        dest="skeleton",
        metavar="SKELETON.yaml",
        help="a scenario giving what a trace cannot say: its vCPU ops replace the inferred "
        "ones of those vCPUs, its VMM threads (and initial block) the inferred ioctls",
    )
    parser.add_argument(
        "--variant", choices=sorted(VARIANTS), help="check under this variant (default posted)"
    )
    parser.add_argument(
        TOLERANCE,
        default="0",
        metavar="T",
        help="events on different threads closer than T may be in either order "
        "(e.g. 2us, 1ms; a bare number is microseconds; default 0)",
    )
    parser.add_argument(
        "--pid-map", metavar="PID=VCPU,...", help="which thread is which vCPU, by hand"
    )
    parser.add_argument(
        "--vp-map",
        metavar="VP=VCPU,...",
        help="which vcpu_id each VP index of a flush's processor mask is, where they differ "
        "(QEMU's default: the same number)",
    )
    parser.add_argument(
        "--untraced",
        metavar="EVENT,...",
        help="tracepoints that were not recorded, so the steps that print them are free "
        "(e.g. kvm_hv_hypercall_done on a kernel before it existed); by default the "
        "series' four (kvm_hv_flush_tlb[_ex], kvm_hv_hypercall_done, "
        "kvm_hv_vcpu_[un]suspend_tlb_flush) count as recorded once one of them is seen",
    )
    parser.add_argument(
        "--kernel-work",
        action="store_true",
        help="read each kvm_exit..kvm_entry pair of a vCPU thread that holds no flush and no "
        "userspace exit as a kernel_work op (an in-kernel exit holding kvm->srcu, which the "
        "ioctl's synchronize_srcu waits for); one op per pair, so a long trace gets long",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def parse_tolerance(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s)?\s*", text)
    if m is None:
        raise InputError(TOLERANCE, f"{text!r} is not a duration (expected e.g. 0, 5us, 2ms)", 1, 1)
    ns = float(m.group(1)) * _UNITS[m.group(2) or "us"]
    if ns >= 2**64:  # or infinite, which int() refuses: longer than a trace's clock counts
        raise InputError(
            TOLERANCE,
            f"{text!r} is longer than a trace can span (expected less than 2^64 ns, e.g. 5us)",
            1,
            1,
        )
    return int(ns)


def parse_untraced(text: str | None) -> frozenset[str]:
    from hvtui.trace.build import KIND

    names = frozenset(n for n in re.split(r"[,\s]+", text or "") if n)
    for name in sorted(names):
        if name not in KIND or " " in name:
            known = ", ".join(sorted(n for n in KIND if " " not in n))
            raise InputError("--untraced", f"{name!r} is not one of {known}", 1, 1)
    return names


def main(args: argparse.Namespace) -> int:
    from hvtui.trace.check import check

    if args.json and args.open:  # the workbench would draw on the stdout that holds the document
        raise InputError(
            "--open",
            "not with --json (expected one of them: --json's stdout holds "
            "one JSON document, --open draws the workbench there)",
        )
    if args.open:
        from hvtui.cli.workbench import needs_a_terminal

        needs_a_terminal()  # before the search, which can take a while
    if args.skeleton == "":  # an unset shell variable, not "no --with": the ops would be guessed
        raise InputError("--with", "an empty file name (expected a scenario file)")
    tolerance = parse_tolerance(args.tolerance)
    # `--save ''` is refused, not taken for no --save, and before the search, which can
    # take a while
    if args.save is not None:
        writable(args.save, args.force, option="--save")
        not_the_input(args.save, args.file, "trace")
    report = check(
        args.file,
        args.skeleton,
        args.variant,
        tolerance,
        args.pid_map,
        args.kernel_work,
        args.vp_map,
        parse_untraced(args.untraced),
    )
    if args.save is not None:
        from hvtui.scenario.save import save

        save(report.scenario, args.save, overwrite=args.force)
    if args.json:
        json.dump(report.document(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.text())
        for warning in report.warnings:
            print(f"hvtui trace: warning: {printable(warning)}", file=sys.stderr)
    if args.open:
        workbench_app(report, args.save).run()
    return 0 if report.result.consistent else 1


def workbench_app(report, saved: str | None):
    """The workbench on the trace's scenario, the found run as its recorded future
    (how `hvtui FILE --schedule` opens one), each step naming the trace line it
    explains; reload reads the saved file, if any."""
    from dataclasses import replace

    from hvtui.tui.app import WorkbenchApp  # Textual only once the input is known good

    where = os.path.abspath(saved) if saved else f"{report.scenario.file} (trace)"
    r = report.result
    sources = zip(r.schedule, report.texts, r.lines, strict=True)
    return WorkbenchApp(replace(report.scenario, file=where), sources=list(sources))

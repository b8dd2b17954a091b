"""`hvtui check FILE...`: every interleaving, a verdict per property, shortest counterexamples."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hvtui.atomic import not_the_input, writable
from hvtui.check.jobs import run as run_jobs
from hvtui.check.limits import MEMORY_SHARE, format_size, parse_size, total_memory
from hvtui.check.search import Options, Progress, Result, check
from hvtui.errors import QUOTED, InputError, printable
from hvtui.model.properties import INCOMPLETE, PROGRESS, PROPERTIES, VIOLATED
from hvtui.model.variants import VARIANTS
from hvtui.spin.toolchain import ToolError

if TYPE_CHECKING:  # YAML and Rich load in main(), after argparse: --help stays quick
    from hvtui.scenario import load as scenarios
    from hvtui.spin.check import SpinOptions

WIDTH = 100  # the matrix is pasted into mail


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    parser.add_argument(
        "--variant",
        choices=[*VARIANTS, "all"],
        metavar="VARIANT",
        help="check under this variant instead of the scenario's: "
        f"{', '.join(VARIANTS)}; 'all' sweeps them and prints a variants x properties table",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="verdicts and schedules only, no step lists"
    )
    parser.add_argument(
        "--save",
        metavar="OUT.yaml",
        help="write the first counterexample as a scenario the workbench opens",
    )
    parser.add_argument(
        "--property",
        choices=PROPERTIES,
        metavar="ID",
        help=f"with --save: the property whose counterexample to save: {', '.join(PROPERTIES)}",
    )
    parser.add_argument("--force", action="store_true", help="with --save: replace OUT.yaml")
    total = total_memory()
    default = (
        f"{MEMORY_SHARE:.0%} of this machine's {format_size(total)} of RAM"
        if total
        else "none: this system does not say how much RAM it has"
    )
    parser.add_argument(
        "--max-memory",
        type=_positive(_memory, "a size (expected e.g. 4G, 500M or 25%)"),
        metavar="SIZE",
        help="stop when this process's resident memory (RSS) reaches SIZE, e.g. 4G, "
        f"500M or 25%% of RAM (default {default.replace('%', '%%')}); "
        "a check ends by itself, and what it has not decided by then is 'incomplete'",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        default="1",
        metavar="N",
        help="run the checks (one per file and variant) in N worker processes, each with "
        f"1/N of the memory limit, default or --max-memory (both are totals); 0 or auto: "
        f"one per CPU as os.cpu_count() counts them ({os.cpu_count()} here); default 1: "
        "one at a time, in this process. The output is the same whatever N; --engine spin "
        "runs N pans (and their compilers) at once",
    )
    parser.add_argument(
        "--max-states",
        type=_positive(int, "a positive number of states"),
        metavar="N",
        help="also stop after storing N states (default: no count)",
    )
    parser.add_argument(
        "--max-seconds",
        type=_positive(float, "a positive number of seconds"),
        metavar="S",
        help="also stop after S seconds of wall time per check (default: no time limit)",
    )
    parser.add_argument(
        "--no-dedup",
        action="store_true",
        help="do not merge states seen before (a tree search: tiny scenarios)",
    )
    parser.add_argument(
        "--no-generations",
        action="store_true",
        help="do not merge states that differ only in SRCU generation numbers",
    )
    parser.add_argument(
        "--no-slicing",
        action="store_true",
        help="do not merge states that differ only in fields no property reads (flush counts)",
    )
    parser.add_argument(
        "--no-symmetry", action="store_true", help="do not fold interchangeable vCPUs"
    )
    parser.add_argument(
        "--no-banks",
        action="store_true",
        help="symmetry: do not fold vCPUs whose programs are equal up to renaming "
        "(each flushing itself, as in a bank)",
    )
    parser.add_argument("--no-por", action="store_true", help="no partial-order reduction")
    parser.add_argument(
        "--no-commuting",
        action="store_true",
        help="partial order: do not let two requests to one vCPU commute",
    )
    parser.add_argument(
        "--no-shortest",
        action="store_true",
        help="with partial-order reduction: keep the first counterexamples "
        "found instead of searching again for shortest ones (progress's "
        "is a shortest one either way)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show progress on stderr even when it is not a terminal",
    )
    parser.add_argument(
        "--engine",
        choices=("hvtui", "spin"),
        default="hvtui",
        help="hvtui (default): the search above; spin: SPIN's pan on `export --format promela`'s "
        "model (spin -a, gcc -O2 -DBFS -DSAFETY, pan runs until each violation has its shortest "
        "counterexample; compiled pans cached "
        "under $XDG_CACHE_HOME/hvtui/pan); same verdicts and schedules; --max-memory and "
        "--max-seconds apply, the reduction flags do not",
    )
    parser.add_argument(
        "--spin-cc",
        action="append",
        default=[],
        metavar="FLAG",
        help="with --engine spin: one more compiler flag for pan, e.g. -DBITSTATE (bitstate "
        "hashing) or -DBFS_PAR (multi-core breadth-first search, with --spin-pan=-u2 for two "
        "cores); both store states compressed, so a holds becomes incomplete",
    )
    parser.add_argument(
        "--spin-pan",
        action="append",
        default=[],
        metavar="FLAG",
        help="with --engine spin: one more pan flag, e.g. -w28 (hash table size), "
        "-RS7 (random seed, for swarm-style runs with -DBITSTATE)",
    )


def _memory(text: str) -> int:
    """--max-memory: a size, or a share of RAM of at most all of it."""
    share = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if share and float(share[1]) > 100:
        # a limit the search could never reach is no limit: most likely a typo
        raise argparse.ArgumentTypeError(
            f"{text!r} is more than this machine's RAM (expected a share of at most 100%)"
        )
    return parse_size(text)


def _positive(parse, what: str):
    """An argparse type: `parse(text)`, refused unless a positive finite number."""

    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return convert


def main(args: argparse.Namespace) -> int:
    from hvtui.scenario import load as scenarios

    if args.property and args.save is None:
        raise InputError("", "--property picks what --save writes: give --save OUT.yaml too")
    if args.save is not None:  # `--save ''` is refused, not taken for no --save
        writable(args.save, args.force, option="--save")
        for path in args.files:
            not_the_input(args.save, path, "scenario")
    jobs = _jobs(args.jobs)
    _engine_options(args)
    if args.engine == "spin":
        missing = _spin_missing()
        if missing:
            print(f"hvtui check --engine spin: {missing}", file=sys.stderr)
            return 2
        _compiler_takes(args.spin_cc)
    loaded = [scenarios.load(path) for path in args.files]  # all input errors first
    for scenario in loaded:
        # check ignores the schedule, but one that cannot be taken is still bad
        # input: the same file would be refused by `run` and the workbench.
        scenarios.replay(scenario)
    options = Options(
        dedup=not args.no_dedup,
        generations=not args.no_generations,
        slicing=not args.no_slicing,
        symmetry=not args.no_symmetry,
        banks=not args.no_banks,
        por=not args.no_por,
        commuting=not args.no_commuting,
        max_states=args.max_states,
        max_seconds=args.max_seconds,
        shortest=not args.no_shortest,
    )
    if args.max_memory is not None:
        options = replace(options, max_memory=args.max_memory)
    checks = [
        (scenario, variant)
        for scenario in loaded
        for variant in (
            list(VARIANTS) if args.variant == "all" else [args.variant or scenario.variant]
        )
    ]
    workers = min(jobs, len(checks))
    if workers > 1 and options.max_memory is not None:  # the command's limit: a share each
        options = replace(options, max_memory=options.max_memory // workers)
    spin = _spin_options(args, options) if args.engine == "spin" else None
    tasks = [_Task(scenario, variant, options, spin) for scenario, variant in checks]
    show = (
        _ProgressLines([(t.scenario.file, t.variant) for t in tasks], options.max_memory)
        if args.progress or sys.stderr.isatty()
        else None
    )
    try:
        outcome = run_jobs(_work, tasks, workers, show.report if show else None)
    except ToolError as exc:  # spin, the compiler or pan failed: nothing to show
        print(f"hvtui check --engine spin: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    finally:
        if show:
            show.clear()
    runs = [(tasks[index].scenario, result) for index, result in outcome.results]
    interrupted = outcome.interrupted
    if args.json:
        json.dump({"results": [document(result) for _, result in runs]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_text(runs, all_variants=args.variant == "all", quiet=args.quiet)
    if args.save is not None:
        save_counterexample(runs, args.save, args.property, args.force)
    if interrupted:
        print(
            "hvtui check: interrupted (Ctrl-C): the verdicts above are those found so far",
            file=sys.stderr,
        )
        return 130
    return 0 if all(result.met for _, result in runs) else 1


def _spin_missing() -> str:
    """What --engine spin needs and this machine lacks, or "": spin, the C
    compiler ($CC or gcc), and a cache directory for the compiled pans, each
    of which would otherwise fail in the middle of the first check."""
    from hvtui.scenario.yamlpos import show_value
    from hvtui.spin import toolchain

    if toolchain.spin_path() is None:
        return toolchain.MISSING
    cc = toolchain.compiler()
    if shutil.which(cc) is None:
        return f"no C compiler {show_value(cc)} (expected gcc installed, or CC naming a compiler)"
    cache = toolchain.cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return (
            f"cannot make {printable(str(cache))} for the compiled pans: {exc.strerror} "
            "(expected a writable directory: set XDG_CACHE_HOME)"
        )
    return ""


def _engine_options(args) -> None:
    """Refuse an option the chosen engine would ignore: the user meant it to count."""
    spin_flags = (("--spin-cc", args.spin_cc, "-DBITSTATE"), ("--spin-pan", args.spin_pan, "-w28"))
    for flag, given, example in spin_flags:
        if given and args.engine != "spin":
            raise InputError(flag, "only with --engine spin (expected --engine spin too)")
        if "" in given:  # an unset shell variable: gcc would take it for a file name
            raise InputError(flag, f"an empty flag (expected one flag per {flag}, e.g. {example})")
    if args.engine == "spin" and args.max_states is not None:  # pan stores states uncounted
        raise InputError(
            "--max-states",
            "not with --engine spin (expected --max-memory or --max-seconds to bound pan)",
        )


def _compiler_takes(flags: list[str]) -> None:
    """--spin-cc's flags, tried now on a program of one line, compiled and
    linked: a flag the compiler or the linker refuses would otherwise fail the
    build of pan after the model is made, in a worker."""
    import subprocess
    import tempfile

    from hvtui.spin.toolchain import compiler

    if not flags:
        return
    cc = compiler()  # found: _spin_missing() said so
    with tempfile.TemporaryDirectory(prefix="hvtui-cc-") as tmp:
        try:
            done = subprocess.run(
                [cc, *flags, "-x", "c", "-", "-o", os.path.join(tmp, "a.out")],
                input="int main(void) { return 0; }\n",
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:  # not an executable after all
            raise InputError(
                "--spin-cc", f"cannot run {cc}: {exc.strerror} (expected a C compiler)"
            ) from None
    if done.returncode != 0:
        said = _one_line(done.stderr or done.stdout) or f"exit {done.returncode}"
        raise InputError(
            "--spin-cc", f"{cc} refuses {' '.join(flags)!r}: {said} (expected flags it takes)"
        )


def _one_line(said: str) -> str:
    """A tool's complaint (gcc's can be pages) as the start of one printable line."""
    text = printable(" ".join(said.split()))
    return text if len(text) <= QUOTED else f"{text[:QUOTED]}... ({len(text)} characters)"


def _spin_options(args, options: Options):
    from hvtui.spin.check import SpinOptions

    return SpinOptions(
        tuple(args.spin_cc), tuple(args.spin_pan), options.max_memory, options.max_seconds
    )


# -- running the checks -------------------------------------------------------


def _jobs(text: str) -> int:
    """--jobs: a count of worker processes (0 or auto: one per CPU)."""
    if text.strip().lower() == "auto":
        return os.cpu_count() or 1
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise InputError(
            "--jobs", f"{text!r} is not a number of processes (expected N >= 0 or auto)"
        )
    return n or os.cpu_count() or 1


@dataclass(frozen=True)
class _Task:
    """One search: a file under one variant, as a worker process receives it."""

    scenario: scenarios.Scenario
    variant: str
    options: Options
    spin: SpinOptions | None = None  # --engine spin


def _work(task: _Task, progress, cancel) -> Result:
    """`hvtui.check.jobs` runs this for each task, here or in a worker."""
    if task.spin is not None:
        from hvtui.spin import check as spin

        return spin.check(task.scenario, task.variant, task.spin)
    return check(task.scenario, task.variant, task.options, progress=progress, cancel=cancel)


# -- JSON -----------------------------------------------------------------------


def document(result: Result) -> dict:
    """One entry of `check --json`'s "results" (the documented JSON format)."""
    properties = {}
    for prop, verdict in result.properties.items():
        entry: dict = {"verdict": verdict.verdict}
        if verdict.schedule is not None:
            entry["schedule"] = list(verdict.schedule)
            entry["length"] = len(verdict.schedule)
            entry["shortest"] = verdict.shortest
        if verdict.detail:
            entry["detail"] = verdict.detail
        properties[prop] = entry
    return {
        "file": result.file,
        "variant": result.variant,
        "complete": result.complete,
        "states": result.states,
        "transitions": result.transitions,
        "seconds": round(result.seconds, 3),
        "depth": result.depth,
        "bound": result.bound,
        "properties": properties,
        "expected": list(result.expected),
        "met": result.met,
        "reductions": result.reductions,
    }


# -- text -----------------------------------------------------------------------


def print_text(runs, all_variants: bool, quiet: bool) -> None:
    out = sys.stdout
    by_file: dict[str, list[tuple[scenarios.Scenario, Result]]] = {}
    for scenario, result in runs:
        by_file.setdefault(scenario.file, []).append((scenario, result))
    for n, group in enumerate(by_file.values()):
        if n:
            out.write("\n")
        for scenario, result in group:
            out.write(section(scenario, result, quiet))
        if all_variants:
            out.write(
                f"\n{group[0][0].name}: verdict per variant "
                f"(FAIL N: violated, N steps in the shortest counterexample)\n"
            )
            out.write(matrix([result for _, result in group]))


def section(scenario: scenarios.Scenario, result: Result, quiet: bool = False) -> str:
    """One file under one variant: counts, verdicts, counterexamples, expectation."""
    lines = [f"{scenario.name} ({result.file}), variant {result.variant}"]
    rate = result.states / result.seconds if result.seconds > 0 else 0.0
    ending = "complete" if result.complete else f"INCOMPLETE: stopped by {result.bound}"
    lines.append(
        f"  {result.states:,} states, {result.transitions:,} transitions, depth "
        f"{result.depth}, {result.seconds:.2f} s ({rate:,.0f} states/s); {ending}"
    )
    lines.append(_fill(f"reductions: {reductions_text(result.reductions)}", "  ", "    "))
    from hvtui.runs.report import abridged

    width = max(len(p) for p in PROPERTIES)
    for prop, verdict in result.properties.items():
        text = cell(verdict.verdict, verdict.schedule, verdict.shortest)
        if prop == PROGRESS and verdict.verdict != INCOMPLETE:
            text += f": {abridged(verdict.detail)}"  # who waits on what
        lines.append(f"  {prop:<{width}}  {text}")
    for prop, verdict in result.properties.items():
        if verdict.verdict == VIOLATED and verdict.schedule is not None:
            lines.append("")
            lines.extend(counterexample(scenario, result.variant, prop, verdict, quiet))
    expected = ", ".join(result.expected) or "nothing"
    if result.met:
        lines.append(f"  expected to fail: {expected} -- met")
    else:
        got = ", ".join(result.violated) or "nothing"
        why = "" if result.complete else " (the search is incomplete)"
        lines.append(f"  expected to fail: {expected}; failed: {got} -- NOT MET{why}")
    return "\n".join(lines) + "\n"


# what each reduction did, or that it was off (keys as in Result.reductions)
_REDUCTIONS = (
    ("dedup", "no dedup (tree search)", "dedup merged {revisits:,} transitions into seen states"),
    ("generations", "SRCU generations kept", "generations forgotten in {forgotten:,} successors"),
    ("slicing", "no slicing", "slicing forgot flush counts in {sliced:,} successors"),
    ("symmetry", "no symmetry", "symmetry sorted {folded:,} successors onto a twin"),
    (
        "por",
        "no partial order",
        "partial order left out {pruned_transitions:,} transitions at {reduced_states:,} states",
    ),
)


def reductions_text(reductions: dict[str, dict[str, int]]) -> str:
    parts = []
    for key, off, on in _REDUCTIONS:
        counts = reductions.get(key)
        if key == "symmetry" and counts is not None and not counts["groups"]:
            parts.append("symmetry: no interchangeable vCPUs")
        else:
            parts.append(off if counts is None else on.format(**counts))
    short = reductions.get("shorten")
    if short is not None:
        parts.append(f"{short['states']:,} more states to find shortest counterexamples")
    return "; ".join(parts)


def cell(verdict: str, schedule, shortest: bool = True, compact: bool = False) -> str:
    """`holds`, `violated (N)`, `blocked-by-design`, `incomplete`; `compact` writes a
    violation `FAIL N`, so nine properties still fit a mail's matrix."""
    if verdict == VIOLATED and schedule is not None:
        n = f"{'' if shortest else '<='}{len(schedule)}"
        return f"FAIL {n}" if compact else f"violated ({n})"
    return verdict


def counterexample(scenario, variant: str, prop: str, verdict, quiet: bool) -> list[str]:
    from hvtui.runs.report import abridged, event_line
    from hvtui.scenario import load as scenarios

    schedule = verdict.schedule
    what = "shortest counterexample" if verdict.shortest else "counterexample (maybe not shortest)"
    lines = [
        f"  {prop}: {what}, {len(schedule)} steps",
        _fill(f"schedule: {flow(schedule)}", "    ", "      "),
    ]
    if quiet:
        return lines
    session = scenarios.replay(
        replace(scenarios.with_schedule(scenario, schedule), variant=variant)
    )
    for event, found in zip(session.events, session.violations, strict=True):
        mark = f"   <-- {', '.join(found)}" if found else ""
        lines.append("    " + event_line(event) + mark)
    if prop == PROGRESS:
        lines.append(f"    stuck: {abridged(verdict.detail)}")
    return lines


def _fill(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def flow(schedule) -> str:
    """The schedule as a YAML flow list, ready to paste into a scenario."""
    return "[" + ", ".join(schedule) + "]"


def matrix(results: list[Result]) -> str:
    """Variants x properties, plain text within WIDTH columns.

    Headers break after hyphens; if the cells are still too wide, the widest
    column whose cells can break (blocked-by-design) breaks them too.
    """
    header = ["variant", *PROPERTIES]
    rows = [
        [
            r.variant,
            *(cell(v.verdict, v.schedule, v.shortest, compact=True) for v in r.properties.values()),
        ]
        for r in results
    ]
    columns = [[row[i] for row in rows] for i in range(len(header))]
    widths = [max(len(_longest_part(header[i])), *map(len, col)) for i, col in enumerate(columns)]
    gap = 2
    while (excess := sum(widths) + gap * (len(widths) - 1) - WIDTH) > 0:
        if gap == 2:
            gap = 1
            continue
        narrowest = [
            max(len(_longest_part(text)) for text in [header[i], *col])
            for i, col in enumerate(columns)
        ]
        # a variant's name stays whole: people copy it into --variant
        breakable = [i for i, w in enumerate(widths) if i and narrowest[i] < w]
        if not breakable:
            break
        i = max(breakable, key=lambda i: widths[i])
        widths[i] = max(narrowest[i], widths[i] - excess)
    lines = _block(
        [_wrap(h, w) for h, w in zip(header, widths, strict=True)], widths, gap, bottom=True
    )
    lines.append(_join(["-" * w for w in widths], widths, gap))
    for row in rows:
        lines += _block([_wrap(c, w) for c, w in zip(row, widths, strict=True)], widths, gap)
    return "\n".join(lines) + "\n"


def _parts(text: str) -> list[str]:
    words = text.split("-")
    return [w + "-" for w in words[:-1]] + [words[-1]]


def _longest_part(text: str) -> str:
    return max(_parts(text), key=len)


def _wrap(text: str, width: int) -> list[str]:
    """`text` broken after hyphens into lines of at most `width` (where it can)."""
    lines = [""]
    for part in _parts(text):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return lines


def _block(cells: list[list[str]], widths: list[int], gap: int, bottom: bool = False):
    """One table row whose cells may span several lines."""
    height = max(len(c) for c in cells)
    pad = [[""] * (height - len(c)) for c in cells]
    cells = [p + c if bottom else c + p for c, p in zip(cells, pad, strict=True)]
    return [_join([c[k] for c in cells], widths, gap) for k in range(height)]


def _join(cells: list[str], widths: list[int], gap: int) -> str:
    return (" " * gap).join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


# -- saving -----------------------------------------------------------------------


def save_counterexample(runs, path: str, prop: str | None, force: bool) -> None:
    from hvtui.scenario import load as scenarios

    for scenario, result in runs:
        for name, verdict in result.properties.items():
            if verdict.verdict == VIOLATED and (prop is None or name == prop):
                scenarios.save(counterexample_scenario(scenario, result, name), path, force)
                print(
                    f"saved: {path} ({name} under {result.variant}, {len(verdict.schedule)} steps)",
                    file=sys.stderr,
                )
                return
    what = f"{prop} does not fail" if prop else "no property fails"
    print(f"hvtui check: nothing saved to {path}: {what}", file=sys.stderr)


def counterexample_scenario(scenario, result: Result, prop: str) -> scenarios.Scenario:
    """The same program under the failing variant, its schedule the counterexample,
    named and described by what it violates; `expect` names what `check` found, so
    check and run both pass on it."""
    from hvtui.runs.describe import describe

    return describe(
        scenario,
        result.properties[prop].schedule,
        variant=result.variant,
        violations=result.violated if result.complete else None,
        focus=prop,
    )


# -- progress -------------------------------------------------------------------


class _ProgressLines:
    """Progress on stderr a few times a second. On a terminal, one line per
    running check (one per worker), rewritten in place; otherwise each report
    is appended as a line of its own (a log stays readable)."""

    def __init__(self, checks: list[tuple[str, str]], max_memory: int | None):
        self.tty = sys.stderr.isatty()
        self.checks = checks  # (file, variant) by task
        self.of = f" of {format_size(max_memory)}" if max_memory else ""
        self.lines: dict[int, str] = {}  # the running checks' lines, by task
        self.drawn = 0  # how many of them the terminal shows

    def report(self, index: int, p: Progress | None) -> None:
        """Check `index` has got this far (None: it has ended)."""
        if p is None:
            if self.lines.pop(index, None) is not None:
                self._draw()
            return
        file, variant = self.checks[index]
        phase = "" if p.phase == "explore" else ", shortening counterexamples"
        line = (
            f"checking {file} ({variant}{phase}): {p.states:,} states, "
            f"depth {p.depth}, {p.rate:,.0f} states/s, memory {format_size(p.memory)}{self.of}"
        )
        if not self.tty:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            return
        self.lines[index] = line
        self._draw()

    def _draw(self) -> None:
        # only on a terminal: elsewhere report() appends and keeps no lines
        # back to the first line drawn, erase from there down, draw the lines again,
        # each cut to the terminal's width so that none wraps and the count holds
        up = f"\033[{self.drawn - 1}F" if self.drawn > 1 else "\r"
        width = max(20, shutil.get_terminal_size().columns - 1)
        lines = [self.lines[i][:width] for i in sorted(self.lines)]
        sys.stderr.write(up + "\033[J" + "\n".join(lines))
        sys.stderr.flush()
        self.drawn = len(lines)

    def clear(self) -> None:
        self.lines.clear()
        if self.drawn:
            self._draw()

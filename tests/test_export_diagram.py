"""The race diagram as a reviewer pastes it: 80 columns, ASCII, every row in its actor's column."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings

from hvtui.exports import diagram, perfetto
from hvtui.runs.kernel import cpu_name
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import load, parse
from tests.conftest import SCENARIOS, run_cli
from tests.hypothesis_programs import play, programs, schedules, variants
from tests.test_export_perfetto import check_rules

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))


def draw(scenario, **options) -> str:
    return diagram.render(scenario, replay_to_end(scenario), **options)


class Drawn:
    """A diagram read back: its columns (from the ==== rule) and which lines each row owns."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines()
        head = next(i for i, line in enumerate(self.lines) if line.lstrip().startswith("="))
        self.names = self.lines[head - 1].split()
        self.spans = [(m.start(), m.end()) for m in re.finditer(r"=+", self.lines[head])]
        end = self.lines.index("", head)
        self.body = self.lines[head + 1 : end]
        self.footer = " ".join(" ".join(self.lines[end:]).split())
        self.rows: dict[int, list[str]] = {}  # step -> the lines of its row
        current = None
        for line in self.body:
            number = re.match(r"^\s*(\d+)\*? ", line)
            # a step number stands in the gutter; a wrapped line's text may be a number too
            if number and number.end(1) <= self.spans[0][0]:
                current = int(number.group(1))
                self.rows[current] = []
            if current is not None and not _marker(line):
                self.rows[current].append(line)

    def column_of(self, line: str) -> str:
        """The one column the line's text lies in, bars of other columns aside."""
        gutter = self.spans[0][0]
        found = set()
        for m in re.finditer(r"\S+(?: \S+)*", line[gutter:]):
            start, end = m.start() + gutter, m.end() + gutter
            if m.group(0) == "|":
                continue
            inside = [i for i, (a, b) in enumerate(self.spans) if a <= start and end <= b]
            assert inside, f"{line!r}: {m.group(0)!r} crosses a column boundary"
            found.add(inside[0])
        assert len(found) == 1, f"{line!r} is in columns {found}"
        return self.names[found.pop()]

    def text_in(self, step: int) -> str:
        """Row `step`'s text without bars and wrapping, as one line."""
        words = [w for line in self.rows[step] for w in line.split()]
        words = words[1:]  # the step number
        return " ".join(w for w in words if w != "|")


def squeeze(text: str) -> str:
    """Text compared across wrapping, which may break after "(" or before "->"."""
    return text.replace(" ", "")


def _marker(line: str) -> bool:
    """A line that only draws windows: their bars and the marks where they open or close."""
    rest = " ".join(w for w in line.split() if w != "|")
    return rest in ("", diagram.OPENS, diagram.CLOSES)


def check_layout(scenario) -> Drawn:
    """Every line fits, is ASCII, and every row lies in its actor's column."""
    session = replay_to_end(scenario)
    text = diagram.render(scenario, session)
    assert max(len(line) for line in text.splitlines()) <= 80
    text.encode("ascii")
    assert "\t" not in text
    drawn = Drawn(text)
    for step, lines in drawn.rows.items():
        actor = cpu_name(session.events[step - 1].actor)
        for line in lines:
            column = drawn.column_of(line)
            assert column in (actor, diagram.OTHERS), (step, line)
    return drawn


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_diagram_fits_a_mail_with_each_row_in_its_column(path):
    check_layout(load(str(path.relative_to(SCENARIOS.parent))))


def actors(count: int) -> str:
    """A scenario with `count` actors: the VMM and count - 1 vCPUs flushing each other."""
    n = count - 1
    lines = [f"name: actors-{count}", f"vcpus: {max(n, 2)}", "actors:"]
    for c in range(n):
        lines.append(f"  vcpu{c}: [{{op: flush, targets: [{(c + 1) % max(n, 2)}]}}]")
    lines += [
        "  vmm:",
        "    - {op: exit, vcpu: 1}",
        "    - {op: set_inhibit, vcpu: 1, value: true}",
        "    - {op: run, vcpu: 1}",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6])
def test_80_columns_hold_from_2_to_6_actors_folding_beyond_4(count):
    drawn = check_layout(parse(actors(count), f"actors-{count}.yaml"))
    session = replay_to_end(parse(actors(count), "x.yaml"))
    stepping = {e.actor for e in session.events}
    if len(stepping) <= 4:
        assert sorted(drawn.names) == sorted(cpu_name(a) for a in stepping)
    else:
        assert drawn.names[-1] == "others" and len(drawn.names) == 4
        assert "VMM" in drawn.names  # the thread doing the ioctls keeps its own column
        shared = [drawn.text_in(s) for s, ls in drawn.rows.items() if ls[0][drawn.spans[3][0] :]]
        assert shared and all(re.match(r"CPU[\d,-]+: ", t) for t in shared)


def test_the_reviewers_race_in_the_words_of_the_series():
    drawn = check_layout(load("scenarios/reviewer-race.yaml"))
    assert drawn.names == ["CPU0", "VMM", "CPU1", "CPU2"]
    assert drawn.text_in(1) == "pthread_kill(vcpu1 thread)"
    assert drawn.text_in(2) == "KVM_RUN returns -EINTR"
    assert (
        drawn.text_in(4).replace(" ", "") == "READ_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit)==0"
    )
    assert (
        drawn.text_in(5)
        .replace(" ", "")
        .startswith(
            "ioctl(vcpu1_fd,KVM_HYPERV_SET_TLB_FLUSH_INHIBIT,{.inhibit=1})mutex_lock(&vcpu1->mutex)"
        )
    )
    assert (
        drawn.text_in(7).replace(" ", "") == "WRITE_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit,1)"
    )
    assert squeeze(drawn.text_in(12)) == squeeze(
        "synchronize_srcu(&kvm->srcu) /* waits for CPU0 */"
    )
    assert drawn.text_in(15) == "ioctl returns 0"
    assert drawn.rows[17][0].startswith("17*")
    assert drawn.footer.startswith(
        "* CPU1 services the flush request at 17, after the ioctl that set CPU1's flag "
        "returned at 15."
    )


def test_the_inhibit_window_is_a_bar_down_the_targets_column():
    drawn = Drawn(draw(load("scenarios/reviewer-race.yaml")))
    x = drawn.spans[drawn.names.index("CPU1")][0]
    after_15 = drawn.body.index(drawn.rows[16][0]) - 1
    assert drawn.body[after_15][x:] == diagram.OPENS  # opens under the ioctl's return
    below = drawn.body[after_15 + 1 :]
    assert below and all(line[x] == "|" for line in below)  # down to the last row
    assert not any(line[x : x + 1] == "|" for line in drawn.body[:after_15])


def test_a_window_that_closes_ends_at_the_lock_of_the_clearing_ioctl():
    drawn = Drawn(draw(load("scenarios/basic-suspend-wake.yaml")))
    x = drawn.spans[drawn.names.index("CPU1")][0]
    body = drawn.body
    assert body[0][x:] == diagram.OPENS  # inhibited from the start
    close = next(i for i, line in enumerate(body) if line[x:] == diagram.CLOSES)
    assert body.index(drawn.rows[6][-1]) == close - 1  # step 6 is the clearing ioctl's lock
    assert all(line[x] == "|" for line in body[1:close])


def test_no_tool_words():
    """The reader sees the kernel and the series, not hvtui's vocabulary."""
    for name in ("reviewer-race", "lost-wakeup-no-sync", "reviewer-race-no-sync"):
        text = draw(load(f"scenarios/{name}.yaml"))
        for word in ("variant", "window is open", "progress", "holds", "violates", "actor"):
            assert word not in text, (name, word)
        assert not re.search(r"\b(inhibit-holds|no-[a-z-]+-inhibited|no-lost-wakeup)\b", text)


def test_a_deadlock_is_said_in_plain_english():
    drawn = Drawn(draw(load("scenarios/lost-wakeup-no-sync.yaml")))
    assert drawn.rows[10][0].startswith("10*")
    assert (
        "* after 10, CPU0 is suspended waiting on CPU1, whose flag is clear: nothing will "
        "wake it." in drawn.footer
    )
    assert drawn.footer.endswith("Nothing can run any more: a deadlock.")


def test_a_scan_that_passes_vcpus_by_is_folded_into_one_row():
    drawn = Drawn(draw(load("scenarios/unsuspend-swapped-clobber.yaml")))
    assert drawn.text_in(28) == "kvm_hv_vcpu_unsuspend_tlb_flush() /* CPU0-2 not woken */"
    assert 29 not in drawn.rows and 30 not in drawn.rows
    assert (
        drawn.text_in(11)
        .replace(" ", "")
        .endswith("WRITE_ONCE(vcpu0->arch.hyperv->suspended,false)")
    )


def test_relevant_leaves_out_the_steps_the_violation_does_not_depend_on():
    drawn = Drawn(draw(load("scenarios/reviewer-race.yaml"), relevant=True))
    assert drawn.names == ["CPU0", "VMM", "CPU1"]  # CPU2 only serviced its own request
    assert 11 not in drawn.rows
    assert sorted(drawn.rows) == [s for s in range(1, 18) if s != 11]
    assert drawn.footer.endswith("Left out: steps 11.")


def test_chosen_actors_only():
    drawn = Drawn(draw(load("scenarios/reviewer-race.yaml"), actors=["vcpu1", "vmm"]))
    assert drawn.names == ["VMM", "CPU1"]
    assert sorted(drawn.rows) == [1, 2, 5, 6, 7, 12, 14, 15, 16, 17]


def test_export_flags_pick_actors_and_relevant_steps():
    code, out, err = run_cli(
        "export", "scenarios/reviewer-race.yaml", "-f", "diagram", "--actors", "CPU1,VMM"
    )
    assert (code, err) == (0, "")
    assert Drawn(out).names == ["VMM", "CPU1"]
    code, out, _ = run_cli("export", "scenarios/reviewer-race.yaml", "-f", "diagram", "--relevant")
    assert code == 0 and "Left out: steps 11." in out
    code, out, err = run_cli(
        "export", "scenarios/reviewer-race.yaml", "-f", "diagram", "--actors", "CPU0,CPU7"
    )
    assert (code, out) == (2, "")
    assert err.startswith("--actors:1:6: 'CPU7' is not an actor of this scenario")
    code, _, err = run_cli("export", "scenarios/reviewer-race.yaml", "-f", "json", "--relevant")
    assert code == 2 and err == "--relevant: only applies to --format diagram, not json\n"


def test_the_same_run_draws_the_same_bytes():
    scenario = load("scenarios/three-waiters.yaml")
    assert draw(scenario) == draw(scenario)


def test_a_long_identifier_wraps_inside_its_column():
    lines, splits = diagram.wrap("READ_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit) == 0", 22)
    assert lines == ("READ_ONCE(vcpu1", "  ->arch.hyperv", "  ->tlb_flush_inhibit)", "  == 0")
    assert splits == 0
    lines, splits = diagram.wrap("KVM_HYPERV_SET_TLB_FLUSH_INHIBIT,", 16)
    assert all(len(line) <= 16 for line in lines) and splits > 0
    assert "".join(line.strip() for line in lines) == "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT,"


HOTPLUG = """
name: hotplug
vcpus: 3
initial:
  mode: {2: user}
actors:
  vcpu0: [{id: f, op: flush, targets: all}]
  vmm:
    - {id: inh, op: set_inhibit, vcpu: 2, value: true}
    - {id: init, op: exit, vcpu: 2}
    - {id: run2, op: run, vcpu: 2}
"""


def hotplug():
    """vcpu2 hot-plugged: no Hyper-V context until the VMM's KVM_SET_CPUID2.

    The loader does not read `no_hyperv` or `hyperv_init` yet, so the program
    is built here: the `exit` op becomes the hyperv_init.
    """
    from dataclasses import replace

    from hvtui.model.state import HypervInit

    scenario = parse(HOTPLUG, "hotplug.yaml")
    program = scenario.program
    (name, (inhibit, _, run)), *_ = program.threads
    program = replace(
        program,
        initial_no_hyperv=frozenset({2}),
        threads=((name, (inhibit, HypervInit("init", 2), run)),),
    )
    return replace(scenario, program=program, schedule=("vcpu0",) * 4)


def test_the_diagram_names_the_null_dereference():
    drawn = check_layout(hotplug())
    read = squeeze(drawn.text_in(4))
    assert read == squeeze(
        "READ_ONCE(vcpu2->arch.hyperv->tlb_flush_inhibit): NULL dereference, "
        "vcpu2->arch.hyperv is NULL"
    )
    assert drawn.rows[4][0].startswith(" 4*")
    assert drawn.footer.startswith(
        "* CPU0 dereferences vcpu2->arch.hyperv at 4, but CPU2 has no Hyper-V context yet "
        "(no KVM_SET_CPUID2): a NULL pointer dereference in the host kernel."
    )
    init = next(s for s, ls in drawn.rows.items() if "KVM_SET_CPUID2" in squeeze(" ".join(ls)))
    assert "kvm_hv_vcpu_init()" in squeeze(drawn.text_in(init))
    # the ioctl's write through the missing context set nothing: no window is drawn
    assert diagram.OPENS not in drawn.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), variant=variants, choices=schedules)
def test_any_run_draws_within_80_columns_each_row_in_its_column_and_traces_by_the_rules(
    program, variant, choices
):
    from hvtui.model.engine import Engine
    from hvtui.model.variants import VARIANTS
    from hvtui.scenario.load import Scenario

    session, _ = play(Engine(program, VARIANTS[variant]), choices)
    scenario = Scenario("random.yaml", "random", "", program.vcpus, variant, program)
    text = diagram.render(scenario, session)
    assert max(len(line) for line in text.splitlines()) <= 80
    if not session.pos:
        return
    drawn = Drawn(text)
    for step, lines in drawn.rows.items():
        actor = cpu_name(session.events[step - 1].actor)
        assert all(drawn.column_of(line) in (actor, diagram.OTHERS) for line in lines), step
    assert text == diagram.render(scenario, session)
    check_rules(json.loads(perfetto.render(scenario, session)))  # and the trace keeps its rules

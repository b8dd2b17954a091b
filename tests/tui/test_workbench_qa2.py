"""What a second first-time user met driving the workbench in a real terminal, each pinned
by the keys they pressed and what the screen then showed.

Every test here failed before its fix; the screen is read as text, as a person reads it.
"""

from __future__ import annotations

from test_workbench_qa import dialog_text
from workbench_support import ROOT, app_on, demo, opened, screen_lines, toasts

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.panels import PropertiesPanel


def log_lines(app: WorkbenchApp, text: str) -> list[str]:
    return [line for line in screen_lines(app) if text in line]


async def test_a_flush_at_marked_targets_names_them_as_the_panels_and_the_log_do():
    """Marking vcpu1 and vcpu3 and firing a flush said `flush [1, 3]` on the message line,
    while the selected vCPU's panel and the event log wrote the same set as `0xa`."""
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("l", "m")  # vcpu1
        assert "marked 0x2" in toasts(app)
        await pilot.press("l", "l", "m")  # vcpu3
        assert "marked 0xa" in toasts(app)
        await pilot.press("f")
        await pilot.pause()
        said = toasts(app)
        assert "vcpu3: added flush3: flush 0xa" in said and "[" not in said
        assert log_lines(app, "program op 1/1 flush3: flush 0xa, at enter")  # vcpu3's panel
        for _ in range(40):  # step until vcpu3 enters its hypercall
            await pilot.press("right_square_bracket")
            if log_lines(app, "kvm_hv_flush_tlb: vcpu 3 targets 0xa"):  # the log's notation
                break
        else:
            raise AssertionError("\n".join(screen_lines(app)))
        await pilot.press("u")
        assert "no target marked" in toasts(app)
        await pilot.press("f")  # nothing marked: every vCPU, in the same notation
        assert "flush 0xf (all: no target marked)" in toasts(app)


async def test_the_help_says_how_a_target_set_is_written():
    async with opened(WorkbenchApp(demo(), recover=False), (200, 60)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "as the event log does: a processor mask (0xa) when all are below 64" in (
            dialog_text(pilot.app)
        )


async def test_shrinking_the_terminal_refits_the_key_line():
    """After a step, 200x60 -> 80x24 (tmux resize-window) left the 200-column key line cut
    at the right edge: `? help` and `q quit` were off the screen until the next key. The
    step's message wraps at 80 columns, which moves the line up as it shrinks."""
    app = WorkbenchApp(load(str(ROOT / "scenarios" / "wake-all-bogus-status.yaml")), recover=False)
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        for size in ((80, 24), (200, 60), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            keys = screen_lines(app)[-1]
            assert keys.rstrip().endswith("? help") and "q quit" in keys, (size, keys)


# vcpu0 suspends on vcpu1, whose flag nobody clears: progress is blocked by design.
STUCK = """
name: stuck
vcpus: 2
initial: {inhibit: [1]}
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
"""


async def test_a_long_verdict_is_read_whole_at_80_columns():
    """At 80x24 (a 44-column properties panel) the verdict of progress read
    `blocked-by-de…`: the names' column is as wide as the longest name, and the
    verdict was cut, never the padding before it."""
    async with opened(app_on(STUCK, recover=False), (80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        panel = pilot.app.query_one(PropertiesPanel).content_region
        line = screen_lines(pilot.app)[panel.y][panel.x : panel.right].rstrip()
        assert line.startswith("■ progress ") and line.endswith(" blocked-by-design"), line
        assert len(line) <= panel.width and "…" not in line

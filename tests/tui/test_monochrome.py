"""NO_COLOR: the workbench still draws, and the glyphs still tell the states apart."""

from workbench_support import demo, screen_lines, settle

from hvtui.tui.app import WorkbenchApp


async def test_the_workbench_steps_under_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = WorkbenchApp(demo())
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(7):  # up to the VMM's WRITE_ONCE: vcpu1 is inhibited
            await pilot.press("right_square_bracket")
        await settle(pilot)
        screen = "\n".join(screen_lines(app))
    assert "step 7/" in screen
    assert "WRITE_ONCE(tlb_flush_inhibit): vcpu 1 = 1" in screen
    assert "1 Iu" in screen  # vcpu1: inhibited, in userspace, without a colour to say so

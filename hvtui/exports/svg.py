"""The workbench at the run's last step, as an SVG screenshot.

The only export that needs Textual; it is imported here, when asked for, so
the other formats start fast. The app is driven headless (`run_test`) at a
fixed terminal size, and the workbench shows no clock or blinking cursor,
so the same scenario gives the same bytes.
"""

from __future__ import annotations

import asyncio

from hvtui.scenario.load import Scenario


def render(scenario: Scenario, size: tuple[int, int] = (120, 40)) -> str:
    """The workbench opened on `scenario` and run to its end, `size` = (columns, rows).

    The app replays the scenario itself, the same deterministic run as `hvtui run`.
    """
    from hvtui.tui.app import WorkbenchApp

    async def shoot() -> str:
        app = WorkbenchApp(scenario, at_end=True, recover=False)  # a picture of the run alone
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return app.export_screenshot(title=f"hvtui: {scenario.name}")

    return asyncio.run(shoot())

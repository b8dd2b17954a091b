"""A vCPU cell read as text alone: what a monochrome terminal shows.

No Textual here: the cell's glyphs and slots come from hvtui.view.glyphs.
"""

from itertools import product

from hypothesis import given
from hypothesis import strategies as st

from hvtui.model.state import BLOCKED, GUEST, KERNEL, MODES, USER
from hvtui.view.glyphs import (
    LEGEND,
    NONE,
    ROLE_CSS,
    SELECTED,
    TARGET,
    WAITER,
    CellView,
    cell_runs,
    cell_width,
    component_css,
    id_width,
)

IDLE = CellView(inhibit=False, mode=GUEST, suspended=False, waiting_on=-1, pending_flush=False)


def text(vcpu, view, vcpus=8, rel=NONE, marked=False):
    return "".join(t for t, _ in cell_runs(vcpu, view, id_width(vcpus), rel, marked))


def test_an_idle_guest_vcpu_shows_its_id_and_clear_slots():
    assert text(5, IDLE) == "  5 ·g·· ·  "


def test_each_field_has_its_own_glyph_in_its_own_slot():
    assert text(2, IDLE._replace(inhibit=True)) == "  2 Ig·· ·  "
    assert text(3, IDLE._replace(pending_flush=True)) == "  3 ·gF· ·  "
    assert text(1, IDLE._replace(mode=KERNEL)) == "  1 ·K·· ·  "
    assert text(1, IDLE._replace(mode=USER)) == "  1 ·u·· ·  "
    suspended = IDLE._replace(mode=BLOCKED, suspended=True, waiting_on=2)
    assert text(0, suspended) == "  0 ·b·· S→2"


def test_waiting_on_without_suspended_is_the_gap_between_two_writes():
    # posted's suspend path writes waiting_on (s1) before suspended (s2)
    mid_suspend = IDLE._replace(mode=KERNEL, waiting_on=2)
    assert text(6, mid_suspend) == "  6 ·K·· ·→2"


def test_suspended_on_nobody_is_a_lost_wakeup_and_says_so():
    lost = IDLE._replace(mode=BLOCKED, suspended=True, waiting_on=-1)
    assert text(0, lost) == "  0 ·b·· S→?"
    roles = dict((t.strip(), role) for t, role in cell_runs(0, lost, 1, NONE, False))
    assert roles["S→?"] == "lost"


def test_the_selection_its_target_and_its_waiters_have_distinct_glyphs():
    assert text(0, IDLE, rel=SELECTED)[0] == "▶"
    assert text(0, IDLE, rel=TARGET)[0] == "◆"
    assert text(0, IDLE, rel=WAITER)[0] == "◇"
    assert text(0, IDLE, marked=True)[1] == "*"


def test_ids_are_right_aligned_to_the_widest_id():
    assert text(7, IDLE, vcpus=4096) == "     7 ·g·· ·     "
    view = IDLE._replace(suspended=True, mode=BLOCKED, waiting_on=4095)
    assert text(4000, view, vcpus=4096) == "  4000 ·b·· S→4095"


views = st.builds(
    CellView,
    inhibit=st.booleans(),
    mode=st.sampled_from(MODES),
    suspended=st.booleans(),
    waiting_on=st.integers(-1, 4095),
    pending_flush=st.booleans(),
)


@given(view=views, vcpu=st.integers(0, 4095), rel=st.sampled_from((NONE, SELECTED, TARGET, WAITER)))
def test_every_cell_has_the_same_width_so_columns_line_up(view, vcpu, rel):
    # the grid adds one gap column after each cell
    assert len(text(vcpu, view, vcpus=4096, rel=rel, marked=True)) == cell_width(4096) - 1


def test_text_alone_tells_every_state_apart():
    """Without colour (NO_COLOR), two different states never draw the same cell."""
    seen = {}
    for inhibit, mode, flush, (suspended, waiting_on), rel, marked in product(
        (False, True),
        MODES,
        (False, True),
        ((False, -1), (False, 3), (True, 3), (True, 1), (True, -1)),
        (NONE, SELECTED, TARGET, WAITER),
        (False, True),
    ):
        view = CellView(inhibit, mode, suspended, waiting_on, flush)
        key = (view, rel, marked)
        seen.setdefault(text(2, view, rel=rel, marked=marked), key)
        assert seen[text(2, view, rel=rel, marked=marked)] == key


def test_the_legend_explains_every_role_a_cell_can_take():
    cell_roles = {
        role
        for view, rel in product(
            (
                IDLE,
                IDLE._replace(inhibit=True, pending_flush=True, mode=KERNEL, waiting_on=3),
                IDLE._replace(mode=BLOCKED, suspended=True, waiting_on=3),
                IDLE._replace(mode=USER, suspended=True),
            ),
            (NONE, SELECTED, TARGET, WAITER),
        )
        for _, role in cell_runs(1, view, 1, rel, True)
    }
    assert cell_roles - {"id"} <= {entry.role for entry in LEGEND}
    assert cell_roles <= set(ROLE_CSS)


def test_one_colour_table_styles_grid_and_legend_alike():
    css = component_css("VcpuGrid", "vcpugrid")
    assert "VcpuGrid > .vcpugrid--inhibit { color: $warning; text-style: bold; }" in css
    assert css.count("\n") == len(ROLE_CSS) - 1

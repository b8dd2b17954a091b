"""The workbench's dialogs: help, jump to a step, save as, confirm an overwrite,
pick a variant, and the checker's verdict table.

Each is a ModalScreen that dismisses with its answer (None when cancelled),
so the app's key bindings are out of reach while one is open.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from hvtui.model.variants import VARIANTS
from hvtui.scenario.value import Scenario
from hvtui.tui.bindings import BINDINGS, shown_keys
from hvtui.view.words import n_steps

DIALOG_CSS = """
Dialog { align: center middle; }
Dialog > Vertical {
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}
Dialog Label { width: 100%; }  /* a long question wraps: its end is the question */
Dialog Label.error { color: $error; }
Dialog Horizontal { height: auto; align-horizontal: right; }
Dialog Button { margin-left: 1; }
"""


class Dialog(ModalScreen):
    """A centred box; escape cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(Dialog):
    """Every key of the workbench (from the one bindings table) and of the grid."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "cancel", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen > Vertical { width: 100; height: 90%; }
    HelpScreen VerticalScroll { scrollbar-gutter: stable; }
    """

    def __init__(self, grid_bindings: list[Binding], scenario: Scenario):
        super().__init__()
        self._grid = grid_bindings
        self._scenario = scenario

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("keys", no_wrap=True)
        table.add_column("palette name", no_wrap=True)
        table.add_column("what it does", ratio=1)
        for b in BINDINGS:
            name = (b.id or "").replace(".", ": ", 1).replace("-", " ")
            table.add_row(shown_keys(b), name, b.tooltip)
        for b in self._grid:
            table.add_row(shown_keys(b), "grid", f"Select: {b.description.lower()}")
        table.add_row("click", "grid", "Select the vCPU under the mouse")
        table.add_row("click", "actors", "Choose that actor for the next step")
        table.add_row("ctrl+p", "palette", "Every action valid now, and every scenario to open")
        sc = self._scenario
        about = Text.assemble((sc.name, "bold"), f" · {Path(sc.file).name} · {sc.variant}\n")
        for paragraph in reflowed(sc.description):
            about.append(f"{paragraph}\n")
        with Vertical():
            yield Label(Text("hvtui workbench: the scenario and every key (escape to close)"))
            with VerticalScroll():
                yield Static(about, id="about")
                yield Static(table)


def reflowed(description: str) -> list[str]:
    """The description's lines as the dialog wraps them: a paragraph's lines (as
    an editor broke them) joined, a line that starts a list item or is indented
    kept on its own."""
    out: list[str] = []
    joining = False
    for line in description.strip().splitlines():
        if not line.strip():
            out.append("")
            joining = False
        elif joining and not line.startswith((" ", "-", "*")):
            out[-1] += " " + line.strip()
        else:
            out.append(line.rstrip())
            joining = True
    return out


class NumberScreen(Dialog):
    """Ask for a number: a step to jump to, a vCPU to go to."""

    def __init__(self, prompt: str, hint: str, maximum: int | None = None):
        super().__init__()
        self._prompt = prompt
        self._hint = hint
        self._maximum = maximum

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._prompt)
            yield Input(placeholder="a number", type="integer", id="number")
            yield Label(self._hint)
            yield Label("", classes="error", id="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        problem = self.query_one("#problem", Label)
        try:
            value = int(event.value)
        except ValueError:  # empty, or a lone "-"
            problem.update("type a number (escape closes)")
            return
        if value < 0:
            problem.update("at least 0")
        elif self._maximum is not None and value > self._maximum:
            problem.update(f"at most {self._maximum}")
        else:
            self.dismiss(value)


def jump_screen(pos: int, recorded: int) -> NumberScreen:
    """Steps past the recorded ones are taken round robin."""
    recorded_ones = f"steps 0..{recorded} are" if recorded else "step 0 is"
    hint = f"{recorded_ones} recorded (now at {pos}); further ones are stepped"
    return NumberScreen("Jump to step", hint)


def vcpu_screen(vcpus: int) -> NumberScreen:
    return NumberScreen("Go to vCPU", f"0..{vcpus - 1}", vcpus - 1)


class ChoiceScreen(Dialog):
    """A question with a few answers, one key each; escape is the last (safe) answer."""

    def __init__(self, question: str, answers: list[tuple[str, str, str]]):
        """`answers`: (key, button label, answer id); the first button has the focus."""
        super().__init__()
        self._question = question
        self._answers = answers
        self._keys = {key: answer for key, _, answer in answers}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question)
            with Horizontal():
                for i, (key, label, answer) in enumerate(self._answers):
                    yield Button(
                        f"{label} ({key})", id=answer, variant="primary" if i == 0 else "default"
                    )

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_key(self, event) -> None:
        answer = self._keys.get(event.key)
        if answer is not None:
            event.stop()
            self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_cancel(self) -> None:
        self.dismiss(self._answers[-1][2])


UNSAVED_ANSWERS = [
    ("s", "Save", "save"),
    ("d", "Discard", "discard"),
    ("escape", "Cancel", "cancel"),
]


def unsaved_screen(what: list[str], doing: str) -> ChoiceScreen:
    """Save / discard / cancel, before `doing` ("quit", "open FILE", ...) drops `what`."""
    verb = "is" if len(what) == 1 else "are"
    question = f"{' and '.join(what).capitalize()} {verb} not saved. Save before you {doing}?"
    return ChoiceScreen(question, UNSAVED_ANSWERS)


def reload_screen(added: int) -> ChoiceScreen:
    """Save / discard / cancel, before a reload drops the ops added in the session."""
    ops = f"{added} op{'s' * (added != 1)}"
    question = f"Reloading drops the {ops} added here, which no file holds. Save them first?"
    return ChoiceScreen(question, UNSAVED_ANSWERS)


def recover_screen(path: str, steps: int) -> ChoiceScreen:
    question = (
        f"A session of this scenario ended without a save ({n_steps(steps)} recorded); "
        f"it was kept in {path}. Recover it?"
    )
    return ChoiceScreen(
        question,
        [
            ("r", "Recover", "recover"),
            ("d", "Discard it", "discard"),
            ("escape", "Not now", "later"),
        ],
    )


class BranchScreen(Dialog):
    """The branches: enter switches to one, `c` compares it with the current line."""

    BINDINGS = [
        Binding("escape", "cancel", "Close", id="branches.close"),
        Binding("c", "compare", "Compare", id="branches.compare"),
    ]
    DEFAULT_CSS = "BranchScreen > Vertical { width: 100; }"

    def __init__(self, rows: list[tuple[str, str]]):
        """`rows`: (branch name, what it is)."""
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        options = [
            Option(Text.assemble((name, "bold"), f"  {what}"), id=name) for name, what in self._rows
        ]
        with Vertical():
            yield Label(
                "Branches: enter switches to one (the current line becomes a branch), "
                "c compares it with the current line side by side"
            )
            if options:
                yield OptionList(*options, id="branches")
            else:
                yield Label(
                    "No branches yet: stepping another actor than the recorded one "
                    "(a, then ]) keeps the recorded future as one."
                )

    def on_mount(self) -> None:
        for options in self.query(OptionList):
            options.highlighted = 0
            options.focus()

    def _highlighted(self) -> str | None:
        for options in self.query(OptionList):
            if options.highlighted is not None:
                return options.get_option_at_index(options.highlighted).id
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(("switch", event.option.id))

    def action_compare(self) -> None:
        name = self._highlighted()
        if name is not None:
            self.dismiss(("compare", name))


class SaveAsScreen(Dialog):
    """Ask for the file to save the session to."""

    def __init__(self, suggestion: str, steps: int):
        super().__init__()
        self._suggestion = suggestion
        self._steps = steps

    def compose(self) -> ComposeResult:
        with Vertical():
            # the schedule is what the file records; its name may count the whole run
            yield Label(
                f"Save the session as a scenario file: a schedule of {n_steps(self._steps)}, "
                "then round robin to the end, as `hvtui run` replays it"
            )
            yield Input(value=self._suggestion, id="path")
            yield Label("", classes="error", id="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.query_one("#problem", Label).update("a file name is needed")
            return
        self.dismiss(path)


class ConfirmScreen(Dialog):
    """Yes or no; the safe answer (no) is the default and escape means no."""

    BINDINGS = [
        Binding("escape,n", "cancel", "No", id="confirm.no"),
        Binding("y", "confirm", "Yes", id="confirm.yes"),
    ]

    def __init__(self, question: str, yes: str):
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question)
            with Horizontal():
                yield Button("Cancel", id="no", variant="primary")
                yield Button(self._yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)


class VariantScreen(Dialog):
    """Pick the variant to replay the same choices under."""

    def __init__(self, current: str):
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(Text.assemble((name, "bold"), f"  {v.source}"), id=name)
            for name, v in VARIANTS.items()
        ]
        with Vertical():
            yield Label(f"Variant (now {self._current}); the same actors are replayed")
            yield OptionList(*options, id="variants")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = list(VARIANTS).index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class VerdictScreen(Dialog):
    """The checker's verdicts; enter on a counterexample loads it into the session."""

    DEFAULT_CSS = "VerdictScreen > Vertical { width: 100; }"

    def __init__(self, summary: str, rows: list[tuple[str, str, int | None]]):
        super().__init__()
        self._summary = summary
        self._rows = rows

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable(cursor_type="row", zebra_stripes=True, id="verdicts")
        table.add_columns("property", "verdict", "counterexample")
        for prop, verdict, steps in self._rows:
            example = f"{n_steps(steps)}: enter to load" if steps is not None else ""
            table.add_row(prop, verdict, example, key=prop)
        with Vertical():
            yield Label(self._summary)
            yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.focus()
        # On the first counterexample, so enter loads it: a holding row loads nothing.
        found = [i for i, (_, _, steps) in enumerate(self._rows) if steps is not None]
        if found:
            table.move_cursor(row=found[0], animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        prop = event.row_key.value
        if any(p == prop and steps is not None for p, _, steps in self._rows):
            self.dismiss(prop)

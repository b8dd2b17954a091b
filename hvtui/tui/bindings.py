"""The workbench's keys: the one table the footer, the help screen and the palette read.

Rebind a key here and all three follow. A binding's id is its palette
name: `step.to-end` is offered as "step: to end". `description` is the
footer's short word; `tooltip` says what the key does, for the help screen
and the palette.
"""

from __future__ import annotations

from textual.binding import Binding

TOGGLE_INHIBIT_HELP = (
    "Toggle the selected vCPU's inhibit: appends set_inhibit(vcpu, not flag) to the `vmm` "
    "thread, wrapped in exit + run when the vCPU is in KVM_RUN (the ioctl needs its "
    "vcpu->mutex); the ops then step like any other"
)

# keys, action, footer word, id (= palette name), in the footer?, what it does
_TABLE = (
    ("right_square_bracket,space", "step", "Step", "step.forward", True,
     "Take the next step: the chosen actor, the recorded one, or round robin"),
    ("left_square_bracket,backspace", "back", "Back", "step.back", True,
     "Step back: the exact state before the last step"),
    ("right_curly_bracket", "to_interest", "Next event", "step.to-next-event", True,
     "Run to the next suspend, wake-up or property violation"),
    ("left_curly_bracket", "back_to_interest", "Prev event", "step.to-previous-event", False,
     "Back to the previous suspend, wake-up or property violation"),
    ("e", "to_end", "End", "step.to-end", True,
     "Run until nothing can step: the recorded steps, then round robin"),
    ("g", "jump", "Jump", "step.jump", False,
     "Jump to step N (past the recorded steps, step round robin)"),
    ("a", "choose_actor", "Actor", "step.choose-actor", True,
     "Choose who takes the next step: cycles through the actors that can step"),
    ("escape", "stop", "Stop", "step.stop", False,
     "Stop a running run-to-end or run-to-event"),
    ("i", "toggle_inhibit", "Inhibit", "edit.toggle-inhibit", True, TOGGLE_INHIBIT_HELP),
    ("f", "fire_flush", "Flush", "edit.fire-flush", True,
     "Append a flush hypercall to the selected vCPU's program, targeting the marked vCPUs "
     "(all when none is marked)"),
    ("m", "mark", "Mark", "edit.mark-target", True,
     "Mark or unmark the selected vCPU as a flush target"),
    ("u", "clear_marks", "Unmark all", "edit.clear-marks", False, "Unmark every flush target"),
    ("v", "switch_variant", "Variant", "session.switch-variant", True,
     "Switch the variant and replay the same choices as far as they still step"),
    ("r", "reload", "Reload", "session.reload", False,
     "Read the file again, keeping the position where the replay still works"),
    ("s", "save", "Save", "session.save", True,
     "Save the session as a scenario file that replays exactly what was done"),
    ("c", "check", "Check", "check.run", True,
     "Check every interleaving of the open scenario in the background (again to cancel)"),
    ("t", "verdicts", "Verdicts", "check.verdicts", False,
     "The last check's verdict table; load a counterexample from it"),
    ("L", "toggle_legend", "Legend", "view.legend", False, "Show or hide the grid's legend"),
    ("f8", "screenshot", "Screenshot", "view.screenshot", False,
     "Save an SVG screenshot named after the scenario and the step"),
    ("question_mark,f1", "help", "Help", "app.help", True, "Every key and what it does"),
    ("q", "quit", "Quit", "app.quit", True, "Quit the workbench"),
)  # fmt: skip

KEY_NAMES = {
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "right_curly_bracket": "}",
    "left_curly_bracket": "{",
    "question_mark": "?",
}


def shown_keys(binding: Binding) -> str:
    """The keys as a person types them: "] space", "? f1"."""
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


BINDINGS: tuple[Binding, ...] = tuple(
    Binding(keys, action, word, show=show, key_display=KEY_NAMES.get(keys.split(",")[0]),
            id=id_, tooltip=tooltip)
    for keys, action, word, id_, show, tooltip in _TABLE
)  # fmt: skip


def palette_name(binding: Binding) -> str:
    """`step.to-end` -> "step: to end"."""
    category, _, name = (binding.id or binding.action).partition(".")
    return f"{category}: {name.replace('-', ' ')}"

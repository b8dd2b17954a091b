"""The workbench's keys: the one table the footer, the help screen and the palette read.

Rebind a key here and all three follow. A binding's id is its palette
name: `step.to-end` is offered as "step: to end". `description` is the
footer's short word; `tooltip` says what the key does, for the help screen
and the palette. The footer shows the keys with a rank, in table order;
when the terminal is too narrow it drops the highest ranks first, and
`? help` (rank 0) always stays.
"""

from __future__ import annotations

from textual.binding import Binding

TOGGLE_INHIBIT_HELP = (
    "Toggle the selected vCPU's inhibit: appends set_inhibit(vcpu, not flag) to the `vmm` "
    "thread, wrapped in exit + run when the vCPU is in KVM_RUN (the ioctl needs its "
    "vcpu->mutex); the ops then step like any other"
)

# keys, action, footer word, id (= palette name), footer rank (None: not in the footer), help
_TABLE = (
    ("right_square_bracket,space", "step", "step", "step.forward", 1,
     "Take the next step: the chosen actor, the recorded one, or round robin"),
    ("left_square_bracket,backspace", "back", "back", "step.back", 2,
     "Step back: the exact state before the last step"),
    ("right_curly_bracket", "to_interest", "event", "step.to-next-event", 9,
     "Run to the next suspend, wake-up or property violation"),
    ("left_curly_bracket", "back_to_interest", "prev event", "step.to-previous-event", None,
     "Back to the previous suspend, wake-up or property violation"),
    ("e", "to_end", "end", "step.to-end", 8,
     "Run until nothing can step: the recorded steps, then round robin"),
    ("g", "jump", "jump", "step.jump", None,
     "Jump to step N (past the recorded steps, step round robin)"),
    ("a", "choose_actor", "actor", "step.choose-actor", 7,
     "Choose who takes the next step: cycles through the actors that can step; stepping "
     "another actor than the recorded one keeps the recorded future as a branch"),
    ("escape", "stop", "stop", "step.stop", None,
     "Stop a running run-to-end or run-to-event"),
    ("i", "toggle_inhibit", "inhibit", "edit.toggle-inhibit", 10, TOGGLE_INHIBIT_HELP),
    ("f", "fire_flush", "flush", "edit.fire-flush", 11,
     "Append a flush hypercall to the selected vCPU's program, targeting the marked vCPUs "
     "(all when none is marked); the message writes them as the event log does: a processor "
     "mask (0xa) when all are below 64, else ranges (1-63,100)"),
    ("H", "hyperv_init", "hv init", "edit.hyperv-init", None,
     "Append hyperv_init(vcpu) to the `vmm` thread: KVM_SET_CPUID2 creates the selected "
     "vCPU's Hyper-V context (kvm_hv_vcpu_init()), wrapped in exit + run when it is in KVM_RUN"),
    ("w", "kernel_work", "work", "edit.kernel-work", None,
     "Append kernel work to the selected vCPU's program: a VM exit handled in the kernel "
     "that holds kvm->srcu (vmexit, then vmentry)"),
    ("m", "mark", "mark", "edit.mark-target", 14,
     "Mark or unmark the selected vCPU as a flush target; the message shows every one marked"),
    ("u", "clear_marks", "unmark all", "edit.clear-marks", None, "Unmark every flush target"),
    ("z", "zoom", "zoom", "view.zoom", 13,
     "Zoom the grid: full cells, one character per vCPU, half a character per vCPU"),
    ("slash", "goto_vcpu", "vCPU", "view.go-to-vcpu", 15, "Go to vCPU N: select it and show it"),
    ("equals_sign", "cycle_filter", "filter", "view.filter", 16,
     "Show only the vCPUs in one state (inhibited, suspended, blocked, ...): press again "
     "for the next state, and after the last for every state"),
    ("b", "branches", "branches", "session.branches", 12,
     "The branches: every future that another choice replaced; switch to one, or compare "
     "two side by side"),
    ("v", "switch_variant", "variant", "session.switch-variant", 6,
     "Switch the variant and replay the same choices as far as they still step"),
    ("r", "reload", "reload", "session.reload", None,
     "Read the file again, keeping the position where the replay still works (asks first "
     "when that drops ops added here)"),
    ("s", "save", "save", "session.save", 4,
     "Save the session as a scenario file that replays exactly what was done"),
    ("c", "check", "check", "check.run", 5,
     "Check every interleaving of the open scenario in the background (again to cancel)"),
    ("t", "verdicts", "verdicts", "check.verdicts", None,
     "The last check's verdict table; load a counterexample from it"),
    ("L", "toggle_legend", "legend", "view.legend", None, "Show or hide the grid's legend"),
    ("f8", "screenshot", "screenshot", "view.screenshot", None,
     "Save an SVG screenshot of the screen; the message says where"),
    ("question_mark,f1", "help", "help", "app.help", 0, "Every key and what it does"),
    ("q", "quit", "quit", "app.quit", 3,
     "Quit the workbench (asks first when there is unsaved work)"),
)  # fmt: skip

KEY_NAMES = {
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "right_curly_bracket": "}",
    "left_curly_bracket": "{",
    "question_mark": "?",
    "slash": "/",
    "equals_sign": "=",
}


def shown_keys(binding: Binding) -> str:
    """The keys as a person types them: "] space", "? f1"."""
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def first_key(binding: Binding) -> str:
    """The key the footer shows: "]", "?"."""
    key = binding.key.split(",")[0].strip()
    return KEY_NAMES.get(key, key)


BINDINGS: tuple[Binding, ...] = tuple(
    Binding(keys, action, word, show=False, key_display=KEY_NAMES.get(keys.split(",")[0]),
            id=id_, tooltip=tooltip)
    for keys, action, word, id_, _, tooltip in _TABLE
)  # fmt: skip

# The footer's keys, in table order, each with its rank (lower stays longer).
FOOTER: tuple[tuple[Binding, int], ...] = tuple(
    (binding, row[4]) for binding, row in zip(BINDINGS, _TABLE, strict=True) if row[4] is not None
)


def palette_name(binding: Binding) -> str:
    """`step.to-end` -> "step: to end"."""
    category, _, name = (binding.id or binding.action).partition(".")
    return f"{category}: {name.replace('-', ' ')}"

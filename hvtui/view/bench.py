"""What the workbench has open: a scenario, the ops added to it, and the trace.

No Textual here. Every key of the workbench is a method of `Bench`, so the
tests (and the random-keys test) can hold the session against a fresh
replay of its recorded actors after every key. A change to the program or
the variant builds a fresh Engine and Session and replays the recorded
actors, by name, as far as they can still step: exact, and simple.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

from hvtui.model.engine import Engine, Event, Status
from hvtui.model.session import Session
from hvtui.model.session import replay as replay_schedule
from hvtui.model.state import (
    USER,
    Exit,
    Flush,
    HypervInit,
    KernelWork,
    Op,
    Program,
    Run,
    SetInhibit,
    actor_sort_key,
)
from hvtui.model.variants import VARIANTS
from hvtui.runs.describe import describe
from hvtui.scenario.load import Scenario, load, replay, with_schedule

VMM = "vmm"  # the thread the workbench's own ioctls go to

# The tracepoints of patch 6/7 that mark a suspend and a wake-up (docs/model.md,
# "Trace events"); whichever step emits them under a variant, the text is the same.
SUSPEND = "kvm_hv_vcpu_suspend_tlb_flush"
WAKE = "kvm_hv_vcpu_unsuspend_tlb_flush"


def interesting(event: Event) -> bool:
    """A step that traces a suspension or a wake-up (the `}` key stops at it)."""
    return SUSPEND in event.tracepoints or WAKE in event.tracepoints


class Refused(Exception):
    """An edit the model does not allow; the message says why."""


class Replayed(NamedTuple):
    """How a recorded trace fared on a new program or variant."""

    steps: int  # recorded steps that still replay
    total: int  # recorded steps offered
    why: str  # why the replay stopped early; "" when every step replayed
    first_diff: int | None  # first step whose event reads differently than before

    def describe(self) -> str:
        if self.why:
            text = f"replayed {self.steps} of {self.total} steps; diverged at {self.why}"
        else:
            text = f"replayed all {self.total} steps"
        if self.first_diff is not None:
            text += f"; the log reads differently from step {self.first_diff}"
        return text


class Branch(NamedTuple):
    """A line of work the session is not on: a future another choice replaced."""

    name: str
    program: Program
    variant: str
    trace: tuple[str, ...]  # every recorded actor, by name
    pos: int  # where it was left
    why: str  # how it became a branch
    chosen: tuple[str, ...] = ()  # the trace without its round-robin tail

    def fingerprint(self) -> tuple:
        return (self.program, self.variant, self.chosen)


def _chosen(trace: Sequence[str], default: Sequence[bool]) -> tuple[str, ...]:
    """The trace without its tail of round-robin steps: what a saved file must record.

    `hvtui run` takes the same round-robin steps after a file's schedule, so two
    traces that differ only there are the same work.
    """
    k = len(trace)
    while k and k <= len(default) and default[k - 1]:
        k -= 1
    return tuple(trace[:k])


class Bench:
    """The open scenario, what the user added to it, and the session stepping it."""

    def __init__(self, scenario: Scenario, session: Session, default: list[bool] | None = None):
        self.origin = scenario  # as loaded: its file, prose, schedule and expect
        # Opened from a file reload can read again (not a trace's scenario, say): a file
        # deleted since still reloads, and says it is gone.
        self.from_file = os.path.isfile(scenario.file)
        self.program = scenario.program
        self.variant = scenario.variant
        self.session = session
        self.chosen: int | None = None  # the actor picked for the next step, if any
        self.marked: frozenset[int] = frozenset()  # targets for the next flush
        # Per recorded step: was it the round-robin choice? (see _chosen)
        self.default: list[bool] = default if default is not None else _defaults(session)
        self.branches: list[Branch] = []
        self._made = 0  # branches made so far: names are b1, b2, ...
        self._saved = {self.fingerprint()}  # what a file on disk holds
        self._statuses: tuple[object, object, list[Status]] = (None, None, [])
        self._described: tuple[tuple, Scenario] | None = None  # to_scenario's last answer

    @classmethod
    def open(cls, scenario: Scenario, *, at_end: bool = False) -> Bench:
        """At step 0 with the schedule as the recorded future; or run to the end.

        Raises InputError when the schedule cannot be replayed.
        """
        session = replay(scenario)
        default = _defaults(session)
        if at_end:
            default += [True] * session.run()
        else:
            session.goto(0)
        return cls(scenario, session, default)

    # -- views -------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self.session.engine

    def statuses(self) -> list[Status]:
        """Every actor's next step in the current state.

        The actors panel, the enabled count and the actor choice all read it:
        at 4096 vCPUs one pass over the actors is most of a key's work, so it
        is made once per state.
        """
        state = self.session.state
        engine = self.engine
        known_state, known_engine, known = self._statuses
        if known_state is state and known_engine is engine:
            return known
        if known_engine is engine and known_state is not None:
            # A vCPU's status reads its own fields only: recompute the vCPUs
            # that changed, and the VMM threads (which read anyone's).
            touched = state.vcpus.touched(known_state.vcpus)
            if touched is None:
                touched = [c for c, _, _ in state.vcpus.diff(known_state.vcpus)]
            fresh = list(known)
            for c in touched:
                fresh[c] = engine.status(state, c)
            for a in range(engine.n, len(engine.names)):
                fresh[a] = engine.status(state, a)
        else:
            fresh = [engine.status(state, a) for a in range(len(engine.names))]
        self._statuses = (state, engine, fresh)
        return fresh

    def trace(self) -> list[str]:
        """Every recorded actor, by name, including a recorded future."""
        names = self.engine.names
        return [names[a] for a in self.session.actors]

    def next_actor(self) -> tuple[int | None, str]:
        """Who takes the next step, and why it is that one."""
        s = self.session
        if self.chosen is not None and self.engine.can_step(s.state, self.chosen):
            return self.chosen, "chosen"
        if s.pos < len(s.actors):
            return s.actors[s.pos], "recorded"
        actor = s.next_default()
        return actor, "round robin" if actor is not None else "nothing can step"

    def interesting(self, step: int) -> bool:
        """Step `step` (from 1) suspended or woke a vCPU, or violated a property."""
        s = self.session
        return bool(s.violations[step - 1]) or interesting(s.events[step - 1])

    def edited(self) -> bool:
        """Ops were added or the variant switched: the program is no longer the file's."""
        return (self.program, self.variant) != (self.origin.program, self.origin.variant)

    def fingerprint(self) -> tuple:
        """What saving would write: the program, the variant and the chosen steps."""
        return (self.program, self.variant, _chosen(self.trace(), self.default))

    def unsaved(self) -> list[str]:
        """The work no file holds: "this session", "branch b2", ...; empty when all is saved.

        Stepping along the file's schedule or on round robin is not work: `hvtui
        run` takes the same steps. An added op, another variant or another
        actor's step is.
        """
        out = ["this session"] if self.fingerprint() not in self._saved else []
        out += [f"branch {b.name}" for b in self.branches if b.fingerprint() not in self._saved]
        return out

    def added_ops(self) -> int:
        """How many ops were added here: the file does not hold them."""
        return count_ops(self.program) - count_ops(self.origin.program)

    def unsaved_ops(self) -> int:
        """How many ops added here a reload would drop with no saved file holding them."""
        return 0 if self.fingerprint() in self._saved else self.added_ops()

    def mark_saved(self) -> None:
        self._saved.add(self.fingerprint())

    def queued(self) -> frozenset[int]:
        """vCPUs a VMM op names that waits behind another op of its thread."""
        engine, state = self.engine, self.session.state
        out: set[int] = set()
        for i, th in enumerate(state.threads):
            for op in engine.ops[engine.n + i][th.op + 1 :]:
                vcpu = getattr(op, "vcpu", None)
                if vcpu is not None:
                    out.add(vcpu)
        return frozenset(out)

    def violators(self) -> frozenset[int]:
        """The vCPUs whose own step first violated a property, up to the current step."""
        s = self.session
        n = self.engine.n
        return frozenset(
            a for a in (s.actors[step - 1] for step in s.first_violations().values()) if a < n
        )

    def run_known(self) -> int | None:
        """The length of the whole run when it is known without stepping: at its end."""
        s = self.session
        if s.pos == len(s.actors) and self.next_actor()[0] is None:
            return len(s.actors)
        return None

    # -- moving --------------------------------------------------------------------

    def step(self) -> Event | None:
        """The next actor takes one step; None when nothing can step."""
        actor, _ = self.next_actor()
        if actor is None:
            return None
        self.chosen = None
        s = self.session
        if s.pos < len(s.actors):
            if s.actors[s.pos] == actor:
                return s.forward()
            self._keep_branch(f"another actor ({self.engine.names[actor]}) at step {s.pos + 1}")
            del self.default[s.pos :]
        default = s.next_default() == actor
        event = s.step(actor)
        self.default.append(default)
        return event

    # -- branches ------------------------------------------------------------------

    def _keep_branch(self, why: str) -> None:
        """The current line, recorded future included, becomes a branch (once)."""
        if not self.session.actors:
            return
        trace = tuple(self.trace())
        for b in self.branches:
            if (b.program, b.variant, b.trace) == (self.program, self.variant, trace):
                return
        self._made += 1
        chosen = _chosen(trace, self.default)
        self.branches.append(
            Branch(
                f"b{self._made}", self.program, self.variant, trace, self.session.pos, why, chosen
            )
        )

    def switch_branch(self, name: str) -> Replayed:
        """Go to branch `name`; the current line becomes a branch in its place."""
        branch = next(b for b in self.branches if b.name == name)
        self.branches.remove(branch)
        self._keep_branch(f"left for {name}")
        return self._rebuild(branch.program, branch.variant, branch.trace, branch.pos)

    def line(self, name: str | None = None) -> Branch:
        """The current line (name None) or a branch, as a Branch."""
        if name is None:
            trace = tuple(self.trace())
            pos = self.session.pos
            return Branch(
                "current", self.program, self.variant, trace, pos, "", self.fingerprint()[2]
            )
        return next(b for b in self.branches if b.name == name)

    def back(self) -> bool:
        if self.session.pos == 0:
            return False
        self.chosen = None
        self.session.back()
        return True

    def goto(self, pos: int) -> None:
        """Move within the recorded steps (clamped to them)."""
        self.chosen = None
        self.session.goto(pos)

    def advance(self, limit: int, *, interest: bool = False, to: int | None = None) -> str:
        """Up to `limit` steps; why it stopped: "end", "interest", "reached" or "" (limit).

        The workbench calls this in slices so a long run never freezes the UI.
        """
        s = self.session
        for _ in range(limit):
            if to is not None and s.pos >= to:
                return "reached"
            if self.step() is None:
                return "end"
            if interest and self.interesting(s.pos):
                return "interest"
        return "reached" if to is not None and s.pos >= to else ""

    def back_to_interest(self) -> int:
        """To the last step of interest before the current one (or step 0)."""
        pos = self.session.pos - 1
        while pos > 0 and not self.interesting(pos):
            pos -= 1
        self.goto(max(pos, 0))
        return self.session.pos

    def cycle_actor(self) -> int | None:
        """Pick the next enabled actor after the current choice, in actor order."""
        enabled = [a for a, st in enumerate(self.statuses()) if st.enabled]
        if not enabled:
            return None
        current, _ = self.next_actor()
        i = enabled.index(current) if current in enabled else -1
        self.chosen = enabled[(i + 1) % len(enabled)]
        return self.chosen

    # -- marks ---------------------------------------------------------------------

    def toggle_mark(self, c: int) -> None:
        self.marked = self.marked ^ {c}

    def clear_marks(self) -> None:
        self.marked = frozenset()

    # -- editing the program -------------------------------------------------------

    def toggle_inhibit(self, c: int) -> tuple[Op, ...]:
        """Append to `vmm`: set_inhibit(c, not flag), between exit and run if c is in KVM_RUN.

        The flag and KVM_RUN are taken as they will be once `vmm` has run the
        ops it still has, so pressing the key twice sets and then clears.
        """
        flag, in_run = self._planned(c)
        fresh = self._id_maker()
        ops: list[Op] = []
        if in_run:
            ops.append(Exit(fresh(f"kick{c}"), c))
        ops.append(SetInhibit(fresh(f"{'clr' if flag else 'inh'}{c}"), c, not flag))
        if in_run:
            ops.append(Run(fresh(f"run{c}"), c))
        self._append_vmm(ops)
        return tuple(ops)

    def fire_flush(self, c: int) -> Flush:
        """Append a flush hypercall to vcpu c's program: the marked targets, else all.

        Raises Refused for a vCPU created without a Hyper-V context: it cannot
        issue the hypercall (the loader refuses such a flush op too).
        """
        if c in self.program.initial_no_hyperv:
            raise Refused(
                f"vcpu{c} was created without a Hyper-V context (initial.no_hyperv): "
                "it cannot issue a flush hypercall"
            )
        if self.marked:
            targets = tuple(sorted(self.marked))
            spec: object = list(targets)
        else:
            targets, spec = tuple(range(self.program.vcpus)), "all"
        op = Flush(self._id_maker()(f"flush{c}"), targets, spec)
        vcpu_ops = list(self.program.vcpu_ops)
        vcpu_ops[c] += (op,)
        self._rebuild(replace(self.program, vcpu_ops=tuple(vcpu_ops)), self.variant, self.trace())
        return op

    def add_hyperv_init(self, c: int) -> tuple[Op, ...]:
        """Append to `vmm`: hyperv_init(c) (KVM_SET_CPUID2), between exit and run if c is
        in KVM_RUN (the ioctl takes its vcpu->mutex)."""
        _, in_run = self._planned(c)
        fresh = self._id_maker()
        ops: list[Op] = [HypervInit(fresh(f"hvinit{c}"), c)]
        if in_run:
            ops = [Exit(fresh(f"kick{c}"), c), *ops, Run(fresh(f"run{c}"), c)]
        self._append_vmm(ops)
        return tuple(ops)

    def add_kernel_work(self, c: int) -> KernelWork:
        """Append kernel work (vmexit, vmentry: an SRCU reader) to vcpu c's program."""
        op = KernelWork(self._id_maker()(f"work{c}"))
        vcpu_ops = list(self.program.vcpu_ops)
        vcpu_ops[c] += (op,)
        self._rebuild(replace(self.program, vcpu_ops=tuple(vcpu_ops)), self.variant, self.trace())
        return op

    def _append_vmm(self, ops: list[Op]) -> None:
        threads = dict(self.program.threads)
        threads[VMM] = threads.get(VMM, ()) + tuple(ops)
        ordered = tuple(sorted(threads.items(), key=lambda t: actor_sort_key(t[0])))
        self._rebuild(replace(self.program, threads=ordered), self.variant, self.trace())

    def _planned(self, c: int) -> tuple[bool, bool]:
        """vcpu c's flag, and whether it is in KVM_RUN, after `vmm`'s remaining ops."""
        v = self.session.state.vcpus[c]
        flag, in_run = v.inhibit, v.mode != USER and not v.exit_pending
        index = self.engine.index.get(VMM)
        if index is None:
            return flag, in_run
        done = self.session.state.threads[index - self.engine.n].op
        for op in self.engine.ops[index][done:]:
            if getattr(op, "vcpu", None) != c:
                continue
            if isinstance(op, SetInhibit):
                flag = op.value
            elif isinstance(op, (Exit, Run)):
                in_run = isinstance(op, Run)
        return flag, in_run

    def _id_maker(self):
        """A function giving op ids unused anywhere in the program: base, base-2, ..."""
        taken = {op.id for ops in self.program.vcpu_ops for op in ops}
        taken |= {op.id for _, ops in self.program.threads for op in ops}

        def fresh(base: str) -> str:
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}-{n}"
            taken.add(name)
            return name

        return fresh

    # -- other variants, other files, counterexamples ------------------------------

    def switch_variant(self, variant: str) -> Replayed:
        return self._rebuild(self.program, variant, self.trace())

    def load_trace(self, program: Program, variant: str, schedule: Sequence[str]) -> Replayed:
        """A given interleaving (a counterexample) as the recorded future, at step 0;
        the line it replaces is kept as a branch."""
        self._keep_branch("replaced by a counterexample")
        return self._rebuild(program, variant, schedule, pos=0)

    def reload(self) -> str:
        """Read the file again and replay the trace on it; what changed, in one line.

        The ops added here are dropped (the file is what is reloaded); a new
        `schedule` in the file replaces the trace. Raises InputError when the
        file is now invalid, and then nothing changes.
        """
        new = load(self.origin.file)
        changes = describe_changes(self.origin.program, new.program)
        dropped = self.added_ops()
        if dropped:
            changes.append(f"{dropped} op{'s' * (dropped != 1)} added here dropped")
        trace = self.trace()
        if new.schedule != self.origin.schedule:
            changes.append("the file's new schedule replaces the trace")
            trace = list(new.schedule)
        if new.variant != self.origin.variant:
            changes.append(f"the file now says variant {new.variant} (kept {self.variant})")
        pos = self.session.pos
        self.origin = new
        self.marked = frozenset(c for c in self.marked if c < new.vcpus)
        replayed = self._rebuild(new.program, self.variant, trace, pos)
        where = f"at step {self.session.pos}"
        if self.session.pos != pos:
            where = f"moved to step {self.session.pos} (was {pos})"
        return f"{'; '.join(changes) or 'the file is unchanged'}; {replayed.describe()}; {where}"

    def _rebuild(
        self, program: Program, variant: str, trace: Sequence[str], pos: int | None = None
    ) -> Replayed:
        """A fresh session of `program` under `variant`, replaying `trace` while it can."""
        pos = self.session.pos if pos is None else pos
        before = self.session.events
        session = Session(Engine(program, VARIANTS[variant]))
        why = ""
        default: list[bool] = []  # whether each step was the round robin's own choice

        def take(actor: int, status: Status):
            default.append(session.next_default() == actor)
            session.step(actor)
            return session.state

        stop = replay_schedule(session.engine, session.state, trace, take)[1]
        if stop is not None:
            st = stop.status
            if st is None:
                why = f"step {stop.index + 1}: {stop.name} is no longer an actor"
            else:
                what = f"waits at {st.step} ({st.why})" if st.step else "has finished its ops"
                why = f"step {stop.index + 1}: {stop.name} {what}"
        first_diff = next(
            (i + 1 for i, (a, b) in enumerate(zip(before, session.events, strict=False)) if a != b),
            None,
        )
        if why:  # the steps that no longer replay are not lost: they stay a branch
            self._keep_branch(f"did not replay ({why})")
        session.goto(min(pos, session.pos))
        self.session, self.program, self.variant, self.chosen = session, program, variant, None
        self.default = default
        return Replayed(len(session.actors), len(trace), why, first_diff)

    # -- saving --------------------------------------------------------------------

    def plain_scenario(self) -> Scenario:
        """Program, variant and trace, with the file's prose: for the checker and the
        recovery file, which need no description (and, on a signal, no delay)."""
        scenario = replace(self.origin, variant=self.variant, program=self.program)
        return with_schedule(scenario, tuple(self.trace()))

    def to_scenario(self, violations: Sequence[str] | None = None) -> Scenario:
        """The session as a scenario that replays it exactly: program + trace, described.

        hvtui.runs.describe names it after its first violation and step,
        adds what the run shows under the file's own description, and writes
        the `expect` block `hvtui run` verifies (how the replay ends) and, when
        `violations` (what `hvtui check` found for this program and variant)
        is given, the one `hvtui check` verifies. Cached: a save asks twice.
        """
        key = (
            self.fingerprint(),
            tuple(self.trace()),
            None if violations is None else tuple(violations),
        )
        if self._described is not None and self._described[0] == key:
            return self._described[1]
        base = replace(self.origin, program=self.program)
        scenario = describe(
            base,
            tuple(self.trace()),
            self.variant,
            violations,
            source="saved by the hvtui workbench",
        )
        self._described = (key, scenario)
        return scenario


def _defaults(session: Session) -> list[bool]:
    """For each recorded step of `session`, whether round robin would have taken it."""
    fresh = Session(session.engine)
    out = []
    for actor in session.actors:
        out.append(fresh.next_default() == actor)
        fresh.step(actor)
    return out


def run_length(
    program: Program, variant: str, trace: Sequence[str], limit: int, engine: Engine | None = None
) -> int | None:
    """Steps in the whole run: `trace`, then round robin until nothing steps (None past
    `limit` steps). For the title's counter; the workbench runs it in a thread.

    `engine`: one already made for this program and variant, used in its own thread
    (at 4096 vCPUs making one costs about as much as a step key)."""
    session = Session(engine or Engine(program, VARIANTS[variant]))
    index = session.engine.index
    for name in trace:
        session.step(index[name])
    taken = session.run(limit)
    return None if taken >= limit else len(session.actors)


def count_ops(program: Program) -> int:
    return sum(map(len, program.vcpu_ops)) + sum(len(ops) for _, ops in program.threads)


def describe_changes(old: Program, new: Program) -> list[str]:
    """What differs between two programs, one short phrase per difference."""
    out = []
    if old.vcpus != new.vcpus:
        out.append(f"vcpus {old.vcpus} -> {new.vcpus}")
    if old.initial_inhibit != new.initial_inhibit:
        out.append(
            f"initial.inhibit {sorted(old.initial_inhibit)} -> {sorted(new.initial_inhibit)}"
        )
    if old.initial_mode != new.initial_mode:
        out.append("initial.mode changed")
    before, after = _ops_by_actor(old), _ops_by_actor(new)
    for name in sorted(before.keys() | after.keys(), key=actor_sort_key):
        a, b = before.get(name, {}), after.get(name, {})
        if list(a.items()) == list(b.items()):
            continue
        parts = [f"+{i}" for i in b if i not in a] + [f"-{i}" for i in a if i not in b]
        parts += [f"~{i}" for i in a if i in b and a[i] != b[i]]
        out.append(f"{name}: {' '.join(parts) or 'ops reordered'}")
    return out


def _ops_by_actor(program: Program) -> dict[str, dict[str, Op]]:
    named = {f"vcpu{c}": ops for c, ops in enumerate(program.vcpu_ops) if ops}
    named.update(program.threads)
    return {name: {op.id: op for op in ops} for name, ops in named.items()}

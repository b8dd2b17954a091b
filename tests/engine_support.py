"""Small programs and a driver for the engine tests: no YAML, no Textual.

A test names actors the way a scenario's `schedule` does ("vcpu0", "vmm")
and reads back the state, the status and the events, so each test reads as
the interleaving it walks through.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.engine import Engine, Event, Status
from hvtui.model.session import Session
from hvtui.model.state import (
    Exit,
    Flush,
    HypervInit,
    KernelWork,
    Op,
    Program,
    Run,
    SetInhibit,
    Vcpu,
)
from hvtui.model.variants import VARIANTS


def flush(*targets: int, id: str = "f") -> Flush:
    return Flush(id, tuple(sorted(set(targets))))


def work(id: str = "w") -> KernelWork:
    """An MMIO or page-fault exit handled in the kernel: vmexit, vmentry."""
    return KernelWork(id)


def program(
    n: int,
    vcpus: dict[int, list[Flush | KernelWork]] | None = None,
    vmm: list[Op] | None = None,
    threads: dict[str, list[Op]] | None = None,
    inhibit: tuple[int, ...] = (),
    user: tuple[int, ...] = (),
    no_hyperv: tuple[int, ...] = (),
) -> Program:
    """N vCPUs; `vmm` is the thread called vmm, `threads` any others (vmm:<name>);
    `no_hyperv` vCPUs have no Hyper-V context yet (they start in user mode)."""
    named = dict(threads or {})
    if vmm is not None:
        named["vmm"] = vmm
    order = sorted(named, key=lambda name: (name != "vmm", name))
    return Program(
        n,
        tuple(tuple((vcpus or {}).get(c, ())) for c in range(n)),
        tuple((name, tuple(named[name])) for name in order),
        frozenset(inhibit),
        tuple((c, "user") for c in user),
        frozenset(no_hyperv),
    )


class Walk:
    """A session driven by actor names, with the views a reviewer asks for."""

    def __init__(self, prog: Program, variant: str = "posted"):
        self.engine = Engine(prog, VARIANTS[variant])
        self.session = Session(self.engine)

    def __call__(self, *actors: str) -> list[Event]:
        """Each named actor takes its next step; the events, in order."""
        return [self.session.step(self.engine.index[a]) for a in actors]

    def until(self, actor: str, step: str) -> list[Event]:
        """`actor` steps until its next step is `step` (which it does not take)."""
        events = []
        while self.status(actor).step != step:
            events += self(actor)
        return events

    def status(self, actor: str) -> Status:
        return self.engine.status(self.session.state, self.engine.index[actor])

    def next(self, actor: str) -> str:
        st = self.status(actor)
        assert st.enabled, f"{actor} waits at {st.step}: {st.why}"
        return st.step

    def vcpu(self, c: int) -> Vcpu:
        return self.session.state.vcpus[c]

    def suspended(self, c: int) -> bool:
        return self.engine.suspended(self.vcpu(c))

    def steps(self) -> list[str]:
        """`actor step` for every step so far, as the event log lists them."""
        return [f"{e.actor} {e.step}" for e in self.session.events[: self.session.pos]]

    def run(self) -> int:
        return self.session.run()


class Race(NamedTuple):
    """An interleaving that breaks a property: who steps, in order, under which variant."""

    program: Program
    variant: str
    actors: tuple[str, ...]
    breaks: str  # the property it violates, at its last step


def race_walk(race: Race) -> Walk:
    w = Walk(race.program, race.variant)
    w(*race.actors)
    return w


# docs/model.md "What we expect", one interleaving each.
RACES = {
    # 5/7's question: the flag flips between check and request; the sync makes
    # the request land before the ioctl returns, but vcpu1 services it after.
    "posted-flush-after-return": Race(
        program(
            3, {0: [flush(1, 2)]}, vmm=[Exit("kick", 1), SetInhibit("inh", 1, True), Run("run", 1)]
        ),
        "posted",
        (
            "vmm",
            "vcpu1",
            "vcpu0",
            "vcpu0",
            "vmm",
            "vmm",
            "vmm",
            "vcpu0",
            "vcpu0",
            "vcpu0",
            "vmm",
            "vcpu0",
            "vmm",
            "vmm",
            "vmm",
            "vcpu1",
        ),
        "no-flush-while-inhibited",
    ),
    # Without the sync the ioctl returns while vcpu0 is between check and request.
    "no-sync-completes-inhibited": Race(
        program(2, {0: [flush(1)]}, vmm=[SetInhibit("inh", 1, True)], user=(1,)),
        "no-sync",
        ("vcpu0", "vcpu0", "vmm", "vmm", "vmm", "vmm", "vcpu0", "vcpu0"),
        "inhibit-holds",
    ),
    # The reviewer's order raises the request before it looks at the flag.
    "request-first-requests-inhibited": Race(
        program(2, {0: [flush(1)]}, inhibit=(1,)),
        "request-first",
        ("vcpu0", "vcpu0"),
        "no-request-while-inhibited",
    ),
    # Without the sync the scan runs before vcpu0 has finished suspending:
    # s2 suspends it on a vCPU whose flag is already clear.
    "no-sync-lost-wakeup": Race(
        program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,)),
        "no-sync",
        ("vcpu0", "vcpu0", "vmm", "vmm", "vmm", "vmm", "vmm", "vmm", "vcpu0", "vcpu0"),
        "no-lost-wakeup",
    ),
    # suspended = false first: vcpu0 retries and suspends on vcpu2 before the
    # scan's second write resets its waiting_on.
    "swapped-lost-wakeup": Race(
        program(
            3, {0: [flush(1, 2)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1, 2), user=(1,)
        ),
        "unsuspend-swapped",
        # vcpu0 suspends on 1; the vmm clears 1 up to `unsuspend 0`, whose
        # first write lets vcpu0 resume and suspend on 2; then `wake 0`.
        ("vcpu0",) * 5 + ("vmm",) * 6 + ("vcpu0",) * 7 + ("vmm",) * 4,
        "no-lost-wakeup",
    ),
    # Without the sync the clear's scan wakes vcpu0 between s2 and s3: s3
    # falls through to the normal completion with -EBUSY as the status.
    "no-sync-bogus-status": Race(
        program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,)),
        "no-sync",
        ("vcpu0",) * 4 + ("vmm",) * 7 + ("vcpu0",),
        "no-bogus-status",
    ),
    # wake-all: clearing vcpu2 wakes vcpu0, which waits on vcpu1. It entered
    # after the sync began, so nothing kept the scan out of its s2..s3.
    "wake-all-bogus-status": Race(
        program(3, {0: [flush(1)]}, vmm=[SetInhibit("clr", 2, False)], inhibit=(1, 2), user=(2,)),
        "wake-all",
        ("vmm",) * 5 + ("vcpu0",) * 4 + ("vmm",) * 2 + ("vcpu0",),
        "no-bogus-status",
    ),
    # vCPU hot-plug: vcpu0 flushes every vCPU before vcpu2's KVM_SET_CPUID2.
    "hot-plug-null-check": Race(
        program(
            3, {0: [flush(0, 1, 2)]}, vmm=[HypervInit("init", 2), Run("run", 2)], no_hyperv=(2,)
        ),
        "posted",
        ("vcpu0",) * 4,
        "no-null-deref",
    ),
    # The ioctl on a vCPU that has no Hyper-V context reads through NULL.
    "ioctl-null-compare": Race(
        program(2, vmm=[SetInhibit("inh", 1, True)], no_hyperv=(1,)),
        "posted",
        ("vmm", "vmm"),
        "no-null-deref",
    ),
    # An MMIO exit holds kvm->srcu: the inhibit's synchronize_srcu waits for it.
    "kernel-work-stalls-sync": Race(
        program(2, {0: [work()]}, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)]),
        "posted",
        ("vcpu0", "vmm", "vcpu1", "vmm", "vmm", "vmm", "vmm"),
        "sync-waits-for-flushes-only",
    ),
}

"""Random scenario files the way an outside reviewer of the series would write them.

`scenario(rng)` draws one scenario document (a plain dict, written out as
YAML and read back through the loader by whoever uses it) from one of a
few families, each a shape the review thread or Model v2 talks about, with
its details drawn at random:

- `race`: the reviewer's question on 5/7 and its neighbours: flushers
  aim at a victim the VMM kicks, inhibits and runs again (and perhaps
  clears), in every target form (a list, a processor mask -- a zero one
  is every vCPU -- a sparse VP set, `all`), the caller among its targets
  or not, bits for VPs the VM does not have.
- `uninhibit`: victims start inhibited in user mode (`initial`), flushers
  suspend on them, one or several VMM threads clear them (the scans of
  2/7, wake-all's bogus status), bystanders do kernel work that holds
  `kvm->srcu`.
- `hotplug`: vCPUs without a Hyper-V context, `hyperv_init` before or
  after their first `run`, flushes of all processors and ioctls on them.
- `self`: an inhibited vCPU flushing itself, the VMM kicking it (or not)
  before it clears the flag.
- `twins`: vCPUs with the same ops up to renaming (flushing themselves,
  the victim, all; kernel work) that nothing else names: what the
  checker's symmetry and bank reductions fold.
- `random`: any op on any vCPU, within what the loader accepts.

2 to 6 vCPUs; the more vCPUs, the fewer ops, so that most state spaces
stay within an unreduced search's reach. The documents carry no schedule
and no expect block: the sweep decides them.
"""

from __future__ import annotations

import random

FAMILIES = ("race", "race", "uninhibit", "uninhibit", "hotplug", "self", "twins", "random")


def scenario(rng: random.Random, index: int = 0, family: str | None = None) -> dict:
    family = family or rng.choice(FAMILIES)
    n = rng.randint(2, 6)
    doc = Draft(rng, n)
    getattr(doc, family)()
    return doc.document(f"sweep-{index}-{family}")


class Draft:
    """One scenario being drawn: its vCPUs' and VMM threads' ops and `initial`."""

    def __init__(self, rng: random.Random, n: int):
        self.rng = rng
        self.n = n
        self.vcpu_ops: dict[int, list[dict]] = {}
        self.threads: dict[str, list[dict]] = {}
        self.inhibit: set[int] = set()
        self.user: set[int] = set()
        self.no_hyperv: set[int] = set()
        self.ids = 0
        # the fewer vCPUs, the more ops each scenario may have
        self.budget = {2: 6, 3: 5, 4: 4, 5: 3, 6: 3}[n]

    # -- ops ----------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids}"

    def flush(self, c: int, targets) -> None:
        op = {"id": self._id("f"), "op": "flush", "targets": targets}
        self.vcpu_ops.setdefault(c, []).append(op)

    def work(self, c: int) -> None:
        self.vcpu_ops.setdefault(c, []).append({"id": self._id("k"), "op": "kernel_work"})

    def vmm(self, thread: str, kind: str, x: int, value: bool | None = None) -> None:
        op = {"id": self._id(kind[0]), "op": kind, "vcpu": x}
        if kind == "set_inhibit":
            op["value"] = value
        self.threads.setdefault(thread, []).append(op)

    def ioctl(self, thread: str, x: int, value: bool) -> None:
        """A VMM's ioctl as VMMs make it: kick (unless x is outside KVM_RUN
        already), the ioctl, KVM_RUN again; sometimes a bare one."""
        rng = self.rng
        bare = x in self.user and not any(
            op.get("vcpu") == x for ops in self.threads.values() for op in ops
        )
        if not bare or rng.random() < 0.5:
            self.vmm(thread, "exit", x)
        self.vmm(thread, "set_inhibit", x, value)
        if rng.random() < 0.85:
            self.vmm(thread, "run", x)

    def targets(self, c: int, aim: list[int]):
        """`aim` (and perhaps c itself, a bystander) in one of the four forms."""
        rng = self.rng
        chosen = set(aim)
        if rng.random() < 0.3:
            chosen.add(c)
        if rng.random() < 0.3:
            chosen.add(rng.randrange(self.n))
        form = rng.choice(["list", "list", "mask", "sparse", "all"])
        if form == "all":
            return "all"
        if form == "list":
            ids = sorted(chosen)
            if rng.random() < 0.3:
                rng.shuffle(ids)  # the loader visits them in ascending order anyway
            return ids
        bits = sum(1 << t for t in chosen)
        if form == "mask":
            if rng.random() < 0.15:
                return {"mask": 0}  # HV_FLUSH_ALL_PROCESSORS by the WS2012 workaround
            if rng.random() < 0.2:
                bits |= 1 << rng.randint(self.n, 63)  # a VP the VM does not have
            return {"mask": bits}
        banks = {0: bits}
        if rng.random() < 0.2:
            banks[rng.randint(1, 63)] = 1 << rng.randrange(64)  # nobody there
        return {"sparse": banks}

    def flushers(self) -> list[int]:
        return [c for c in range(self.n) if c not in self.no_hyperv]

    # -- families -------------------------------------------------------------------

    def race(self) -> None:
        rng = self.rng
        victims = rng.sample(range(self.n), rng.choice([1, 1, 2]))
        others = [c for c in range(self.n) if c not in victims] or victims
        for _ in range(rng.randint(1, 2 if self.n > 2 else 3)):
            c = rng.choice(others if rng.random() < 0.8 else list(range(self.n)))
            self.flush(c, self.targets(c, victims))
        for j, x in enumerate(victims):
            thread = "vmm" if j == 0 or rng.random() < 0.5 else "vmm:b"
            self.ioctl(thread, x, True)
            if rng.random() < 0.5:
                self.ioctl(thread, x, False)
        if rng.random() < 0.3:
            self.work(rng.choice(others))

    def uninhibit(self) -> None:
        rng = self.rng
        victims = rng.sample(range(self.n), rng.choice([1, 2, 2]))
        self.inhibit |= set(victims)
        for x in victims:
            if rng.random() < 0.8:
                self.user.add(x)
        others = [c for c in range(self.n) if c not in victims] or victims
        for _ in range(rng.randint(1, 2 if self.n > 2 else 3)):
            c = rng.choice(others)
            aim = rng.sample(victims, rng.randint(1, len(victims)))
            self.flush(c, self.targets(c, aim))
        threads = ["vmm", "vmm:b", "vmm:c"][: rng.randint(1, min(3, len(victims) + 1))]
        for j, x in enumerate(victims):
            self.ioctl(threads[j % len(threads)], x, False)
        if len(threads) > len(victims):
            self.vmm(threads[-1], "exit", rng.choice(victims))
        for _ in range(rng.randint(0, 2 if self.n < 4 else 1)):
            self.work(rng.choice(others))

    def hotplug(self) -> None:
        rng = self.rng
        plugged = rng.sample(range(1, self.n), rng.randint(1, min(2, self.n - 1)))
        self.no_hyperv |= set(plugged)
        flushers = self.flushers()
        for _ in range(rng.randint(1, 2)):
            c = rng.choice(flushers)
            self.flush(c, self.targets(c, plugged))
        for j, x in enumerate(plugged):
            thread = "vmm" if j == 0 else rng.choice(["vmm", "vmm:b"])
            shape = rng.choice(
                [
                    ["hyperv_init", "run"],
                    ["run", "exit", "hyperv_init"],
                    ["set_inhibit", "hyperv_init", "run"],
                    ["hyperv_init", "set_inhibit", "run"],
                    ["hyperv_init", "set_inhibit", "run", "exit", "clear", "run"],
                    ["run", "exit", "hyperv_init", "set_inhibit"],
                ]
            )
            for kind in shape:
                if kind == "clear":
                    self.vmm(thread, "set_inhibit", x, False)
                else:
                    self.vmm(thread, kind, x, True if kind == "set_inhibit" else None)
        if rng.random() < 0.5:
            self.work(rng.choice(plugged))

    def self(self) -> None:
        rng = self.rng
        x = rng.randrange(self.n)
        if rng.random() < 0.5:
            self.inhibit.add(x)
        else:
            self.ioctl("vmm", x, True)
        self.flush(x, self.targets(x, [x]))
        if rng.random() < 0.7:
            self.vmm("vmm", "exit", x)
        self.vmm("vmm", "set_inhibit", x, False)
        self.vmm("vmm", "run", x)
        if rng.random() < 0.5:
            c = rng.choice([c for c in range(self.n) if c != x])
            self.flush(c, self.targets(c, [x]))

    def twins(self) -> None:
        rng = self.rng
        x = rng.randrange(self.n)
        twins = rng.sample([c for c in range(self.n) if c != x], min(self.n - 1, rng.randint(2, 3)))
        shape = [rng.choice(["self", "victim", "self+victim", "all", "work"]) for _ in range(2)]
        for c in twins:
            for kind in shape[: 1 if len(twins) > 2 else 2]:
                if kind == "work":
                    self.work(c)
                elif kind == "all":
                    self.flush(c, "all")
                else:
                    aim = {"self": [c], "victim": [x], "self+victim": sorted({c, x})}[kind]
                    self.flush(c, aim)
        if rng.random() < 0.5:
            self.inhibit.add(x)
            self.user.add(x)
            self.ioctl("vmm", x, False)
        else:
            self.ioctl("vmm", x, True)
            if rng.random() < 0.5:
                self.ioctl("vmm", x, False)

    def random(self) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            self.no_hyperv |= set(rng.sample(range(self.n), rng.randint(1, 2)))
        for c in range(self.n):
            if c not in self.no_hyperv and rng.random() < 0.25:
                self.inhibit.add(c)
            if c not in self.no_hyperv and rng.random() < 0.25:
                self.user.add(c)
        for _ in range(rng.randint(1, self.budget)):
            if rng.random() < 0.45:
                c = rng.randrange(self.n)
                if c in self.no_hyperv or rng.random() < 0.25:
                    self.work(c)
                else:
                    self.flush(c, self.targets(c, rng.sample(range(self.n), rng.randint(1, 2))))
            else:
                thread = rng.choice(["vmm", "vmm", "vmm:b", "vmm:c"])
                kind = rng.choice(["set_inhibit", "set_inhibit", "run", "exit", "hyperv_init"])
                value = rng.random() < 0.5 if kind == "set_inhibit" else None
                x = rng.randrange(self.n)
                if kind in ("set_inhibit", "hyperv_init") and rng.random() < 0.7:
                    self.vmm(thread, "exit", x)  # mostly kicked first, or the ioctl waits
                self.vmm(thread, kind, x, value)

    # -- the file ---------------------------------------------------------------------

    def document(self, name: str) -> dict:
        rng = self.rng
        doc: dict = {"name": name, "vcpus": self.n, "variant": "posted"}
        initial: dict = {}
        if self.inhibit:
            initial["inhibit"] = sorted(self.inhibit)
        modes = {c: "user" for c in sorted(self.user | self.no_hyperv)}
        for c in range(self.n):
            if c not in modes and rng.random() < 0.05:
                modes[c] = "guest"  # said, though it is the default
        if modes:
            initial["mode"] = dict(sorted(modes.items()))
        if self.no_hyperv:
            initial["no_hyperv"] = sorted(self.no_hyperv)
        if initial:
            doc["initial"] = initial
        actors = {f"vcpu{c}": ops for c, ops in sorted(self.vcpu_ops.items())}
        actors.update(sorted(self.threads.items()))
        doc["actors"] = actors
        return doc

"""The protocol's state and programs, as immutable values.

Everything here is a value: a `State` can be hashed, compared and kept in a
history for free, which is what exact step-back and the checker stand on.
No Textual, no YAML: this module is the bottom layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from weakref import ref as _weakref

MAX_VCPUS = 4096  # KVM_MAX_VCPUS on x86; also 64 sparse banks x 64 bits

# vcpu modes (docs/model.md "State")
USER = "user"  # thread outside KVM_RUN, in the VMM
GUEST = "guest"  # running guest code
KERNEL = "kernel"  # inside the flush hypercall, an SRCU reader
BLOCKED = "blocked"  # inside KVM_RUN but kvm_vcpu_running() is false
MODES = (USER, GUEST, KERNEL, BLOCKED)

KVM_RUN = "KVM_RUN"  # mutex holder: the vCPU's own KVM_RUN ioctl


# -- programs ---------------------------------------------------------------


class _once:
    """functools.cached_property without the lock Python 3.11's takes at every
    first access (3.12 dropped it): a replay asks each flush's mask once, and
    at 4096 vCPUs that is thousands of first accesses."""

    def __init__(self, fn):
        self.fn = fn

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)  # read from there from now on
        return value


@dataclass(frozen=True)
class Flush:
    """A guest's HvCallFlushVirtualAddressSpace{,List}{,Ex} hypercall."""

    id: str
    targets: tuple[int, ...]  # resolved, ascending: the order kvm_hv_flush_tlb() visits
    spec: object = field(default="all", compare=False)  # as written, for saving
    op: str = "flush"

    @_once
    def mask(self) -> int:
        return sum(1 << t for t in self.targets)


@dataclass(frozen=True)
class SetInhibit:
    """KVM_HYPERV_SET_TLB_FLUSH_INHIBIT on vcpu `vcpu` from a VMM thread."""

    id: str
    vcpu: int
    value: bool
    op: str = "set_inhibit"


@dataclass(frozen=True)
class Run:
    """KVM_RUN on vcpu `vcpu` from a VMM thread."""

    id: str
    vcpu: int
    op: str = "run"


@dataclass(frozen=True)
class Exit:
    """The VMM kicks vcpu `vcpu` out of KVM_RUN (a signal / immediate_exit)."""

    id: str
    vcpu: int
    op: str = "exit"


@dataclass(frozen=True)
class KernelWork:
    """Other work inside KVM_RUN that holds kvm->srcu (an MMIO or page-fault
    exit handled in the kernel): `vmexit`, then `vmentry`."""

    id: str
    op: str = "kernel_work"


@dataclass(frozen=True)
class HypervInit:
    """KVM_SET_CPUID2 with the Hyper-V leaves on vcpu `vcpu`: kvm_hv_vcpu_init()
    creates its Hyper-V context (a hot-plugged vCPU has none until then)."""

    id: str
    vcpu: int
    op: str = "hyperv_init"


Op = Flush | KernelWork | SetInhibit | Run | Exit | HypervInit
VCPU_OPS = (Flush, KernelWork)
VMM_OPS = (SetInhibit, Run, Exit, HypervInit)


@dataclass(frozen=True)
class Program:
    """What every actor will do: the scenario minus its prose and expectations.

    `vcpu_ops[c]` is vcpu c's own list (flushes and kernel work); `threads`
    are the VMM threads by name, in actor order. `initial_no_hyperv` are the
    vCPUs created without a Hyper-V context (they start in `user` mode).
    """

    vcpus: int
    vcpu_ops: tuple[tuple[Flush | KernelWork, ...], ...]
    threads: tuple[tuple[str, tuple[Op, ...]], ...]
    initial_inhibit: frozenset[int] = frozenset()
    initial_mode: tuple[tuple[int, str], ...] = ()
    initial_no_hyperv: frozenset[int] = frozenset()

    def actor_names(self) -> list[str]:
        return [f"vcpu{c}" for c in range(self.vcpus)] + [name for name, _ in self.threads]

    def ops_of(self, actor: int) -> tuple[Op, ...]:
        if actor < self.vcpus:
            return self.vcpu_ops[actor]
        return self.threads[actor - self.vcpus][1]


def vmm_sort_key(name: str) -> tuple[int, str]:
    """`vmm` first, then `vmm:<name>` alphabetically."""
    return (0, "") if name == "vmm" else (1, name)


def actor_sort_key(name: str) -> tuple[int, int, str]:
    """vCPUs by id, then VMM threads: the documented round-robin order."""
    if name.startswith("vcpu"):
        return (0, int(name[4:]), "")
    return (1, *vmm_sort_key(name))


# -- state ------------------------------------------------------------------


class Vcpu(NamedTuple):
    """One vCPU: struct kvm_vcpu_hv's fields plus its thread's position."""

    inhibit: bool = False
    suspended: bool = False
    waiting_on: int = -1
    mode: str = GUEST
    pending_flush: bool = False
    flushes: int = 0
    mutex: str = KVM_RUN  # who holds vcpu->mutex: KVM_RUN, a VMM thread's name, or ""
    exit_pending: bool = False
    srcu_reader: bool = False  # inside srcu_read_lock(&kvm->srcu)
    srcu_gen: int = 0  # read-side entries so far; synchronize_srcu tells old readers from new
    hyperv: bool = True  # has a Hyper-V context (to_hv_vcpu(vcpu) != NULL)
    # own-srcu only: the flush path's own SRCU domain, like srcu_reader/srcu_gen
    flush_srcu_reader: bool = False
    flush_srcu_gen: int = 0
    # Has been in KVM_RUN since the start: KVM_SET_CPUID2 no longer reaches
    # kvm_hv_vcpu_init() after that. History, not shown in the event log.
    ran: bool = True
    op: int = 0  # index of the current op in this vCPU's own program
    pc: str = "enter"  # the current op's next step
    k: int = 0  # index into the current flush's targets


_SETTERS: dict[tuple, object] = {}


def setter(*names: str):
    """`f(v, a, b)`: v with the fields `names` set to a, b -- by name, built in one go.

    Generated once per field list from Vcpu's fields: a step's hot path
    rebuilds a vCPU with one tuple and no keyword parsing (NamedTuple._replace
    costs ~10x), and nobody writes the 13 fields out by position.
    """
    return setter_of(Vcpu, *names)


def setter_of(cls: type, *names: str):
    """`setter` for any NamedTuple class (Thread's too)."""
    fn = _SETTERS.get((cls, names))
    if fn is None:
        fields = cls._fields
        unknown = set(names) - set(fields)
        if unknown:
            raise ValueError(f"no such {cls.__name__} field: {sorted(unknown)}")
        old = ", ".join(f"_{f}" for f in fields)
        new = ", ".join(f if f in names else f"_{f}" for f in fields)
        params = ", ".join(("v", *names))
        source = f"def set_({params}):\n    {old}, = v\n    return _new(cls, ({new},))\n"
        namespace = {"_new": tuple.__new__, "cls": cls}
        exec(source, namespace)  # the source is built from the class's own field names
        fn = _SETTERS[cls, names] = namespace["set_"]
    return fn


class Thread(NamedTuple):
    """A VMM thread's position in its program."""

    op: int = 0
    pc: str = ""  # next step of the current op ("" = first step)
    w: int = 0  # the unsuspend scan's cursor
    readers: tuple[tuple[int, int], ...] = ()  # (vcpu, srcu_gen) synchronize_srcu waits for


_CHUNK = 64


class Vec:
    """A persistent vector of `Vcpu`: one update copies 2 x 64 slots, not N.

    4096 vCPUs as one flat tuple would make every step copy 4096 pointers;
    chunking keeps a step cheap while the whole stays a hashable value.

    A Vec made by `set` remembers (weakly) the Vec it came from and which
    slots it replaced, so `diff` against that parent -- a step's before and
    after, which the event log and the property monitor both ask for --
    looks at those slots only instead of every chunk. The weak reference
    keeps history from being chained alive; equality and hashing ignore it.
    """

    __slots__ = ("_chunks", "_len", "_parent", "_touched", "__weakref__")

    def __init__(
        self,
        chunks: tuple[tuple[Vcpu, ...], ...],
        length: int,
        parent: Vec | None = None,
        touched: tuple[int, ...] = (),
    ):
        self._chunks = chunks
        self._len = length
        self._parent = None if parent is None else _weakref(parent)
        self._touched = touched  # ascending slot ids replaced relative to parent

    @classmethod
    def of(cls, items: list[Vcpu]) -> Vec:
        chunks = tuple(tuple(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK))
        return cls(chunks, len(items))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> Vcpu:
        return self._chunks[i >> 6][i & 63]

    def __iter__(self) -> Iterator[Vcpu]:
        for chunk in self._chunks:
            yield from chunk

    def set(self, i: int, v: Vcpu) -> Vec:
        chunks = self._chunks
        hi, lo = i >> 6, i & 63
        chunk = chunks[hi]
        chunk = chunk[:lo] + (v,) + chunk[lo + 1 :]
        return Vec(chunks[:hi] + (chunk,) + chunks[hi + 1 :], self._len, self, (i,))

    def set_both(self, i: int, vi: Vcpu, j: int, vj: Vcpu) -> Vec:
        """Two slots (i != j) in one new Vec: a step that writes two vCPUs."""
        if i > j:
            i, vi, j, vj = j, vj, i, vi
        chunks = list(self._chunks)
        for k, v in ((i, vi), (j, vj)):
            chunk = list(chunks[k >> 6])
            chunk[k & 63] = v
            chunks[k >> 6] = tuple(chunk)
        return Vec(tuple(chunks), self._len, self, (i, j))

    def write(self, writes: tuple) -> Vec:
        """A step's writes, as its effect returns them (hvtui.model.steps): (),
        (i, vi) or (i, vi, j, vj)."""
        if not writes:
            return self
        if len(writes) == 2:
            return self.set(writes[0], writes[1])
        return self.set_both(*writes)

    def with_list(self, items: list[Vcpu], dirty: bytearray) -> Vec:
        """A Vec of `items`, which differ from this Vec only in the 64-slot
        chunks whose byte in `dirty` is 1 (slot i's chunk is i >> 6): the
        others are shared, not copied."""
        chunks = list(self._chunks)
        hi = dirty.find(1)
        while hi >= 0:
            chunks[hi] = tuple(items[hi << 6 : (hi + 1) << 6])
            hi = dirty.find(1, hi + 1)
        return Vec(tuple(chunks), self._len)

    def touched(self, other: Vec) -> tuple[int, ...] | None:
        """Slots that may differ from `other` when one was `set` from the other, else None."""
        if self is other:
            return ()
        parent = self._parent
        if parent is not None and parent() is other:
            return self._touched
        parent = other._parent
        if parent is not None and parent() is self:
            return other._touched
        return None

    def diff(self, other: Vec) -> Iterator[tuple[int, Vcpu, Vcpu]]:
        """(id, mine, theirs) for each slot that differs; shared chunks are skipped."""
        near = self.touched(other)
        if near is not None:
            for i in near:
                va, vb = self[i], other[i]
                if va is not vb and va != vb:
                    yield i, va, vb
            return
        for hi, (a, b) in enumerate(zip(self._chunks, other._chunks, strict=False)):
            if a is not b:
                for lo, (va, vb) in enumerate(zip(a, b, strict=False)):
                    if va is not vb and va != vb:
                        yield (hi << 6) | lo, va, vb

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vec) and self._chunks == other._chunks

    def __hash__(self) -> int:
        return hash(self._chunks)

    def __repr__(self) -> str:
        return f"Vec({list(self)!r})"


class State(NamedTuple):
    """The whole simulated machine at one instant."""

    vcpus: Vec
    threads: tuple[Thread, ...]
    # A history variable for the properties, not kernel state: bit x is set
    # while x's inhibit window is open (docs/model.md "Properties").
    windows: int = 0

"""How `hvtui trace` scales with the length of a trace: time and peak memory.

    python benchmarks/bench_trace.py [LINES]

Writes a tracefs-style trace of 4 vCPUs in which most lines are the noise a
real guest makes (kvm_exit / kvm_entry pairs, kvm_pio) and one line in 100
belongs to a flush hypercall, suspension or unsuspension; then runs the
whole check (parse, build, search, verdicts) on 10k, 100k and LINES lines
(default 1,000,000), and with --kernel-work on the smaller two. Prints CPU
seconds and the peak of Python's heap (tracemalloc) for reading alone and for
the whole check: the reader streams, so its memory follows the events the
model decides, not the lines read; the search's follows the steps of the run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc

from hvtui.trace.build import scan
from hvtui.trace.check import check

HEADER = "# tracer: nop\n# local global counter uptime perf [mono] mono_raw boot\n"


def line(vcpu: int, us: int, name: str, body: str) -> str:
    return (
        f"       CPU {vcpu}/KVM-{5000 + vcpu:<7} [{vcpu:03d}] ..... "
        f"{us // 1_000_000:5d}.{us % 1_000_000:06d}: {name}: {body}\n"
    )


def write_trace(path: str, lines: int) -> int:
    """A trace of about `lines` lines; returns how many the model decides."""
    decided = 0
    us = 1_000_000
    with open(path, "w") as f:
        f.write(HEADER)
        written = 2
        cycle = 0
        while written < lines:
            # 95 lines of noise per vCPU thread...
            for _ in range(19):
                for v in range(4):
                    us += 1
                    f.write(line(v, us, "kvm_exit", f"vcpu {v} reason EPT_MISCONFIG rip 0x0"))
                    f.write(line(v, us, "kvm_pio", "pio_read at 0x5658 size 4 count 1 val 0x4"))
                    f.write(line(v, us, "kvm_entry", f"vcpu {v}, rip 0x0"))
                written += 12
            # ...then vcpu0 flushes vcpu1 (every other time vcpu1 is inhibited: a
            # suspension, vcpu1's userspace exit, the clear's unsuspension, the retry)
            mask = "processor_mask 0x2 address_space 0x0 flags 0x0 "
            suspend = "suspending vcpu 0 waiting on 1"
            if cycle % 2:  # QEMU stops vcpu1 to run the inhibit ioctl on its thread
                us += 1
                f.write(line(1, us, "kvm_userspace_exit", "reason restart (4)"))
                decided += 1
                written += 1
            us += 1
            f.write(line(0, us, "kvm_hv_flush_tlb", mask))
            if cycle % 2:
                f.write(line(0, us + 1, "kvm_hv_vcpu_suspend_tlb_flush", suspend))
                f.write(line(1, us + 2, "kvm_userspace_exit", "reason restart (4)"))
                f.write(line(1, us + 3, "kvm_hv_vcpu_unsuspend_tlb_flush", "unsuspending vcpu 0"))
                f.write(line(0, us + 4, "kvm_hv_flush_tlb", mask))
                decided += 4
                written += 4
                us += 4
            f.write(line(0, us + 1, "kvm_hv_hypercall_done", "result 0x0"))
            us += 2
            decided += 2
            written += 2
            cycle += 1
    return decided


def timed(fn) -> tuple[float, float, object]:
    """(CPU seconds, peak heap MB, result): timed without tracemalloc, which slows
    every allocation several times over, then run again under it for the peak."""
    start = time.process_time()
    fn()
    seconds = time.process_time() - start
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1e6, result


def measure(lines: int, kernel_work: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.trace")
        write_trace(path, lines)
        size = os.path.getsize(path)
        seconds, peak, found = timed(lambda: scan(path, {}, kernel_work))
        print(
            f"{found.lines:>9,} lines ({size / 1e6:5.1f} MB) read: {seconds:6.2f} s CPU, "
            f"{seconds / found.lines * 1e6:4.1f} us a line, peak heap {peak:6.1f} MB, "
            f"{len(found.events):,} events kept"
        )
        seconds, peak, report = timed(lambda: check(path, None, None, 0, None, kernel_work))
        assert report.result.consistent, report.text()
        print(
            f"{'':>9}   checked: {seconds:6.2f} s CPU, peak heap {peak:6.1f} MB "
            f"({report.result.total:,} events the model decides, "
            f"{len(report.result.schedule):,} steps)"
        )


def main() -> None:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print("kvm_exit/kvm_entry pairs as noise (the default):")
    for lines in (10_000, 100_000, top):
        measure(lines, False)
    print("with --kernel-work (every in-kernel exit pair is an op of the run):")
    for lines in (10_000, 100_000):
        measure(lines, True)


if __name__ == "__main__":
    main()

"""Two wake-all scans store into the same vCPU: the second store changes
nothing, and the kernel-prose exports still print it as the store it is."""

from pathlib import Path

import pytest

from hvtui.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
# vmm's scan clears vcpu0's waiting_on and suspended, then vmm:b's scan
# (wake-all matches every suspended vCPU) stores the same values again
SCHEDULE = ["vcpu0"] * 5 + ["vmm"] * 6 + ["vmm:b"] * 6


def _scenario(tmp_path: Path, variant: str) -> Path:
    text = (ROOT / "scenarios" / "wake-all-bogus-status.yaml").read_text()
    head = text[: text.index("schedule:")]
    tail = text[text.index("expect:") :]
    path = tmp_path / "double-scan.yaml"
    path.write_text(
        f"{head}schedule: [{', '.join(SCHEDULE)}]\n{tail}".replace(
            "variant: posted", f"variant: {variant}"
        )
    )
    return path


@pytest.mark.parametrize("variant", ["wake-all", "wake-all-retry"])
@pytest.mark.parametrize("fmt", ["diagram", "markdown", "mermaid", "perfetto"])
def test_a_second_scan_store_into_one_vcpu_is_printed(tmp_path, variant, fmt):
    out = tmp_path / f"out.{fmt}"
    assert main(["export", str(_scenario(tmp_path, variant)), "--format", fmt, "-o", str(out)]) == 0
    if fmt == "perfetto":
        return  # no kernel prose; it must only not fail
    text = "".join(out.read_text().split())  # the columns wrap long lines
    # both scans' stores of waiting_on and suspended into vcpu0
    assert text.count("WRITE_ONCE(vcpu0->arch.hyperv->waiting_on,-1)") == 2
    assert text.count("WRITE_ONCE(vcpu0->arch.hyperv->suspended,false)") == 2

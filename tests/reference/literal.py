"""The reference model with each vCPU step's guard read literally.

The model's tables give every step its own guard and say nothing of which
step a vCPU takes when several hold at once: `service` (guest mode, a
request pending) says nothing of a pending exit, `resume` (blocked, not
suspended) nothing of one either, and a hypercall's `enter` (guest mode,
no exit pending) nothing of a pending request. hvtui, like
reference.model, gives each actor one next step (a schedule names actors):
`leave`, then `service`, then the next op, as vcpu_run() does
(docs/model.md, "One actor, one next step"). This model lets the vCPU take
any step whose guard holds, which is every interleaving a reader of the
tables alone could allow. Its verdicts are compared with hvtui's in
tests/test_reference_literal.py: they must agree; its shortest schedules
may be shorter (a step hvtui forces first can be left for later), and are
not schedules of actor names, so they are not compared.
"""

from __future__ import annotations

from hvtui.model.state import Flush
from reference.model import BLOCKED, GUEST, KERNEL, Model, is_suspended


class Literal(Model):
    def choices(self, s, a: int) -> list:
        if a >= self.n:
            return super().choices(s, a)
        v = s.vcpus[a]
        if v.mode == KERNEL:  # inside a hypercall or kernel work: the next line
            return [getattr(self, v.pc)]
        out = []
        if v.exit_pending and v.mode in (GUEST, BLOCKED):
            out.append(self.leave)
        if v.mode == GUEST and v.pending:
            out.append(self.service)
        if v.mode == BLOCKED and not is_suspended(self.tg, v):
            out.append(self.resume)
        ops = self.p.vcpu_ops[a]
        if v.mode == GUEST and not v.exit_pending and v.op < len(ops):
            out.append(self.enter if isinstance(ops[v.op], Flush) else self.vmexit)
        return out

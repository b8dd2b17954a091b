"""The wide POR's kept conflict rows (_Here._rows): who must join a persistent
set with x, read off rows kept per (x, status, binding) and per op of each
candidate, is what comparing x's access with every candidate's future from
scratch gives, in every reachable state (and so is whether x is alone)."""

from dataclasses import replace

import pytest
from test_checker_reductions import DATA, ROOT, reachable

from hvtui.check import por
from hvtui.scenario import load as scenarios

FILES = [DATA / "bystanders.yaml", DATA / "wake-all-resuspend.yaml"]
FILES += [ROOT / "scenarios" / "reviewer-race.yaml", ROOT / "scenarios" / "two-waiters.yaml"]


@pytest.mark.parametrize("variant", ["posted", "merged-state", "request-first"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_kept_rows_give_the_needs_the_futures_give(path, variant):
    engine = replace(scenarios.load(str(path)), variant=variant).engine()
    po = por.PartialOrder(engine, list(range(len(engine.names))))
    kept = 0
    for s in reachable(engine):
        statuses = [engine.status(s, a) for a in range(len(engine.names))]
        here, fresh = (por._Here(po, s, statuses, {}, ()) for _ in range(2))
        for x, st in enumerate(statuses):
            access = po.access(s, x, st)
            ys = po.candidates(x, st.enabled, access)
            want = list(por.dependents(st.enabled, access, ys, fresh.future))
            kept += (x, st, po._where(s, x)) in po.company
            assert here.alone(x) == (not want)
            assert here.needs(x) == want
    assert kept > 0

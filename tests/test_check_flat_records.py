"""synchronize_srcu's records in flat states: what lets Flat.child prune them
by the slots a step wrote alone (Flat._pruned).

With generations forgotten, every record a reachable canonical state holds
is (c, 1) and names a vCPU that is a reader of the synchronized domain at
generation 1 there; so a step can make pruning drop a record only by moving
the reader it names on, and child() asks pruning only then.
"""

import pytest
from test_check_flat import OPTIONS, SCENARIOS, scenario, walk

from hvtui.model.variants import VARIANTS


def reading(variant: str):
    """The (reader, generation) fields of the domain `variant`'s ioctl synchronizes."""
    prefix = "flush_" if VARIANTS[variant].own_srcu else ""
    return f"{prefix}srcu_reader", f"{prefix}srcu_gen"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_record_of_a_reachable_state_names_a_reader_at_generation_1(name, variant):
    reader, generation = reading(variant)
    records = 0
    for flat, _, _, _, _, out in walk(scenario(name), variant, OPTIONS["all"]):
        s = flat.decode(out[2])
        for th in s.threads:
            for c, gen in th.readers:
                v = s.vcpus[c]
                assert (gen, getattr(v, reader), getattr(v, generation)) == (1, True, 1)
                records += 1
    if VARIANTS[variant].sync and name == "reviewer-race.yaml":
        assert records > 0  # the walk reached synchronize_srcu with readers inside

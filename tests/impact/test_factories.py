"""The impact factories of tests/factories.py build what the pages and the demo need."""

from __future__ import annotations

from impact.models import Holding
from tests.factories import impact_batch_make, impact_claim_make, impact_curator_make


def test_the_factories_build_a_curator_a_claim_and_tokens(city, staff, resident):
    curator = impact_curator_make(city=city, by=staff)
    assert curator.curator_roles.get().is_active
    assert impact_claim_make(claimant=resident, submit=False).state == "draft"
    batch = impact_batch_make(claimant=resident, curator=curator)
    assert batch.quantity == 193
    assert Holding.objects.get(batch=batch).portfolio.user == resident.user

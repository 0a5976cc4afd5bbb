"""Derived data: a dataset made from data received under agreements records which agreements
fed it (signed by its publisher), and gets its own offer; an agreement that forbids deriving,
or one revoked, cannot feed it."""

from __future__ import annotations

import pytest

from marketplace.data.errors import NotAllowed, WrongState
from marketplace.data.models import Provenance
from marketplace.data.services.contracts import agreement_revoke, provenance_record
from tests.factories import dataset_make, hosted_csv

from .helpers import agree, offer_make


@pytest.fixture
def derived(city, consumer, provider):
    """A cleaned dataset the consumer's organisation publishes."""
    return dataset_make(
        city=city,
        by=consumer,
        publisher_kind="provider",
        provider=provider,
        title="Qualité de l'air, moyennes journalières",
        files=[hosted_csv(b"station,day,pm10\nCOMEDIE,2026-01-01,19\n")],
    )


def test_a_derived_dataset_records_its_sources_and_has_its_own_offer(
    open_offer, consumer, derived, provider
):
    agreement = agree(open_offer, consumer)
    rows = provenance_record(dataset=derived, agreements=[agreement], by=consumer)
    assert [(p.dataset, p.agreement) for p in rows] == [(derived, agreement)]
    entry = rows[0].entry
    assert entry.kind == "marketplace.data.provenance.record"
    assert entry.actor == provider.identity.did
    assert entry.payload == {"dataset": derived.public_id, "agreements": [agreement.public_id]}
    again = provenance_record(dataset=derived, agreements=[agreement], by=consumer)
    assert len(again) == 1
    offer = offer_make(
        dataset=derived, by=consumer, pricing_model="per_request", unit_price_cents=2
    )
    assert offer.producer_identity == provider.identity


def test_an_agreement_that_does_not_permit_deriving_cannot_feed_it(
    open_dataset, staff, consumer, derived
):
    offer = offer_make(
        dataset=open_dataset,
        by=staff,
        policy={"permission": [{"action": "read"}], "prohibition": [{"action": "derive"}]},
    )
    agreement = agree(offer, consumer)
    with pytest.raises(NotAllowed):
        provenance_record(dataset=derived, agreements=[agreement], by=consumer)
    assert not Provenance.objects.exists()


def test_only_its_publisher_cites_only_its_own_agreements(
    open_offer, consumer, derived, residents, staff
):
    agreement = agree(open_offer, consumer)
    with pytest.raises(NotAllowed):
        provenance_record(dataset=derived, agreements=[agreement], by=residents[0].user)
    agreement_revoke(agreement=agreement, by=staff)
    with pytest.raises(WrongState):
        provenance_record(dataset=derived, agreements=[agreement], by=consumer)

"""Offers: an ODRL policy on a dataset and its price, signed by the publisher on the city's
chain with the digest of the offer's JSON-LD; only the publisher offers; a malformed policy
or price is refused and writes nothing."""

from __future__ import annotations

import pytest

from ledger.models import Transaction
from marketplace.data.errors import InvalidInput, NotAllowed
from marketplace.data.models import Offer
from marketplace.data.odrl import InvalidPolicy
from marketplace.data.services.contracts import offer_withdraw
from marketplace.services._common import sha256_json

from .helpers import OPEN_POLICY, PERSONAL_POLICY, offer_make, policy


def test_an_offer_is_signed_by_the_publisher_with_its_policy_digest(open_dataset, staff):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_record", unit_price_cents=3
    )
    entry = offer.entry
    assert entry.kind == "marketplace.data.offer.create"
    assert entry.actor == staff.primary_identity.did
    assert entry.payload["policy_digest"] == offer.policy_digest == sha256_json(offer.policy)
    assert offer.policy["@type"] == "Offer"
    assert offer.policy["assigner"] == open_dataset.publisher_identity.did
    assert offer.policy["uid"] == f"urn:smartb:offer:{offer.public_id}"
    assert offer.max_requests == 100
    duty = offer.policy["permission"][0]["duty"][-1]
    assert duty["action"] == "compensate"


def test_the_limits_and_purposes_come_from_the_policy(personal_dataset, staff):
    offer = offer_make(dataset=personal_dataset, by=staff, policy=PERSONAL_POLICY)
    assert offer.duration_days == 90
    assert offer.purposes == ["water-leak-detection", "research"]
    assert offer.max_requests is None


def test_only_the_publisher_makes_an_offer(open_dataset, consumer):
    before = Transaction.objects.count()
    with pytest.raises(NotAllowed):
        offer_make(dataset=open_dataset, by=consumer)
    assert Transaction.objects.count() == before
    assert not Offer.objects.exists()


def test_a_malformed_policy_gets_a_clear_error_and_writes_nothing(open_dataset, staff):
    before = Transaction.objects.count()
    with pytest.raises(InvalidPolicy) as refused:
        offer_make(dataset=open_dataset, by=staff, policy=policy(count="dix"))
    assert "rightOperand" in str(refused.value.message)
    assert Transaction.objects.count() == before
    assert not Offer.objects.exists()


@pytest.mark.parametrize(
    ("pricing", "fields"),
    [
        ("free", {"unit_price_cents": 5}),
        ("per_request", {"unit_price_cents": 0}),
        ("per_request", {"unit_price_cents": 1.5}),
        ("per_request", {"unit_price_cents": -1}),
        ("subscription", {"unit_price_cents": 900}),
        ("barter", {}),
        ("free", {"transformation_fee_cents": 10}),
    ],
)
def test_a_bad_price_is_refused(open_dataset, staff, pricing, fields):
    with pytest.raises(InvalidInput):
        offer_make(dataset=open_dataset, by=staff, pricing_model=pricing, **fields)
    assert not Offer.objects.exists()


def test_a_withdrawn_offer_is_recorded_by_the_publisher(open_offer, staff):
    offer = offer_withdraw(offer=open_offer, by=staff)
    assert offer.status == "withdrawn"
    assert Transaction.objects.filter(
        kind="marketplace.data.offer.withdraw", payload__offer=offer.public_id
    ).exists()


def test_the_offer_document_has_the_odrl_context(open_dataset, staff):
    offer = offer_make(dataset=open_dataset, by=staff, policy=OPEN_POLICY)
    assert offer.policy["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    assert offer.policy["prohibition"] == [
        {
            "target": f"urn:smartb:dataset:{open_dataset.public_id}",
            "assigner": open_dataset.publisher_identity.did,
            "action": "sell",
        }
    ]

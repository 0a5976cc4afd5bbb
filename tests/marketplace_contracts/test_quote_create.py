"""Quotes before signing, in integer cents: by volume, source and transformation service,
with the rounding rule written in `contracts` (per MB: half up to the cent; metered usage
telescopes so deliveries add up to the price of their total volume)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from marketplace.data.errors import InvalidInput
from marketplace.data.models import Offer
from marketplace.data.services.contracts import (
    QuoteExpired,
    agreement_accept,
    metered_amount,
    per_mb_cents,
    quote_create,
)
from tests.factories import audited_version_make, service_make

from .helpers import offer_make


@pytest.mark.parametrize(
    ("byte_count", "price", "cents"),
    [
        (0, 100, 0),
        (1_000_000, 100, 100),
        (5_000, 100, 1),  # 0.5 cent → 1 (half up)
        (4_999, 100, 0),  # 0.4999 cent → 0
        (15_000, 100, 2),  # 1.5 → 2
        (2_500_000, 7, 18),  # 17.5 → 18
        (2_499_999, 7, 17),
    ],
)
def test_per_mb_is_rounded_half_up_to_the_cent(byte_count, price, cents):
    assert per_mb_cents(byte_count, price) == cents


@given(
    price=st.integers(1, 10_000),
    pieces=st.lists(st.integers(0, 5_000_000), min_size=1, max_size=30),
)
def test_metered_deliveries_add_up_to_the_price_of_their_total(price, pieces):
    offer = Offer(pricing_model="per_mb", unit_price_cents=price)
    used, billed = 0, 0
    for added in pieces:
        billed += metered_amount(offer=offer, kind="bytes", before=used, added=added)
        used += added
    assert billed == per_mb_cents(used, price)


def test_a_quote_per_record_defaults_to_the_whole_source(open_dataset, staff, consumer):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_record", unit_price_cents=25
    )
    source = open_dataset.versions.get().distributions.get()
    quote = quote_create(offer=offer, consumer=consumer, records=40)
    assert quote.lines == [
        {"kind": "records", "quantity": 40, "unit_price_cents": 25, "amount_cents": 1000}
    ]
    assert quote.total_cents == 1000
    assert quote.inputs["source"] == source.public_id
    assert quote.inputs["bytes"] == source.byte_size


def test_a_quote_per_mb_depends_on_the_volume(open_dataset, staff, consumer):
    offer = offer_make(dataset=open_dataset, by=staff, pricing_model="per_mb", unit_price_cents=80)
    quote = quote_create(offer=offer, consumer=consumer, byte_count=2_345_678)
    assert quote.total_cents == 188  # 187.65424 → 188


def test_a_transformation_service_adds_its_fee_per_request(open_dataset, staff, consumer):
    version = audited_version_make(service=service_make())
    offer = offer_make(
        dataset=open_dataset,
        by=staff,
        pricing_model="per_request",
        unit_price_cents=10,
        transformation=version,
        transformation_fee_cents=4,
    )
    quote = quote_create(offer=offer, consumer=consumer, requests=12)
    assert [line["amount_cents"] for line in quote.lines] == [120, 48]
    assert quote.total_cents == 168
    assert quote.inputs["transformation"] == version.public_id


def test_a_subscription_counts_its_periods_rounded_up(open_dataset, staff, consumer):
    policy = {
        "permission": [
            {
                "action": "read",
                "constraint": [
                    {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P45D"}
                ],
            }
        ]
    }
    offer = offer_make(
        dataset=open_dataset,
        by=staff,
        policy=policy,
        pricing_model="subscription",
        unit_price_cents=900,
        subscription_days=30,
    )
    quote = quote_create(offer=offer, consumer=consumer)
    assert quote.lines[0]["quantity"] == 2
    assert quote.total_cents == 1800


def test_a_free_offer_quotes_nothing(open_offer, consumer):
    quote = quote_create(offer=open_offer, consumer=consumer, requests=50)
    assert quote.total_cents == 0 and quote.lines == []


def test_a_quote_beyond_the_offer_s_requests_is_refused(open_offer, consumer):
    with pytest.raises(InvalidInput):
        quote_create(offer=open_offer, consumer=consumer, requests=101)


def test_the_quote_is_kept_with_the_agreement(open_offer, consumer):
    quote = quote_create(offer=open_offer, consumer=consumer)
    agreement = agreement_accept(quote=quote, consumer=consumer)
    assert agreement.quote == quote
    assert agreement.consumer_entry.payload["quote_digest"] == quote.digest


def test_an_expired_quote_cannot_be_accepted(open_offer, consumer):
    quote = quote_create(
        offer=open_offer, consumer=consumer, now=timezone.now() - timedelta(days=2)
    )
    with pytest.raises(QuoteExpired):
        agreement_accept(quote=quote, consumer=consumer)

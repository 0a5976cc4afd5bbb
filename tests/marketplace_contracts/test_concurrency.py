"""Simultaneous requests on PostgreSQL: many data requests at an agreement's limit never
over-deliver (the agreement's row lock serialises them), first deliveries of one selection
under several agreements keep its figures once, two payments from one prepaid balance never
overdraw it, and the city's ledger stays one gap-free log that verifies."""

from __future__ import annotations

import hashlib

import pytest

from marketplace.data.models import Delivery, DeliveryFigures, PrepaidBalance, UsageRecord
from marketplace.data.services.access import OverLimit
from marketplace.data.services.billing import (
    InsufficientBalance,
    balance_top_up,
    invoice_issue,
    invoice_pay_prepaid,
)
from tests.conftest import require_postgres
from tests.governance.helpers import city_transactions, ledger_verifies
from tests.governance.test_concurrency import run_together

from .helpers import agree, answer, download, offer_make, policy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def test_requests_at_the_limit_never_over_deliver(open_dataset, staff, consumer, city):
    offer = offer_make(
        dataset=open_dataset,
        by=staff,
        policy=policy(count=3),
        pricing_model="per_request",
        unit_price_cents=10,
    )
    agreement = agree(offer, consumer)
    failures = run_together(lambda n: download(agreement, consumer))
    assert len(failures) == 5 and all(isinstance(f, OverLimit) for f in failures)
    agreement.refresh_from_db()
    assert agreement.requests_used == 3
    assert Delivery.objects.filter(agreement=agreement).count() == 3
    assert sum(UsageRecord.objects.values_list("amount_cents", flat=True)) == 30
    assert city_transactions(city, "marketplace.data.delivery").count() == 3
    indexes = list(city_transactions(city).values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def test_records_at_the_limit_never_over_deliver(open_dataset, staff, consumer):
    offer = offer_make(dataset=open_dataset, by=staff, policy=policy(**{"smartb:records": 5}))
    agreement = agree(offer, consumer)
    failures = run_together(lambda n: download(agreement, consumer, start=0, end=1))
    assert len(failures) == 3 and all(isinstance(f, OverLimit) for f in failures)
    agreement.refresh_from_db()
    assert agreement.records_used == 5


def test_first_deliveries_of_one_selection_at_once_keep_its_figures_once(
    personal_offer, consumer, residents, settings
):
    settings.SMARTB_DATA_DELIVERY_MEMORY_BYTES = 0  # no file is held in memory: figures kept
    agreements = []
    for _ in range(4):
        agreement = agree(personal_offer, consumer)
        for member in residents:
            answer(agreement, member)
        agreements.append(agreement)
    bodies: dict[int, bytes] = {}

    def deliver(number: int) -> None:
        bodies[number], _stream = download(agreements[number], consumer)

    assert run_together(deliver, count=4) == []
    figures = DeliveryFigures.objects.get()
    assert len(set(bodies.values())) == 1
    body = bodies[0]
    assert figures.sha256 == hashlib.sha256(body).hexdigest() and figures.records == 6
    receipts = Delivery.objects.filter(agreement__in=agreements)
    assert set(receipts.values_list("sha256", flat=True)) == {figures.sha256}


def test_two_payments_from_one_balance_never_overdraw_it(open_dataset, staff, consumer, city):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_request", unit_price_cents=600
    )
    invoices = []
    for _ in range(2):
        agreement = agree(offer, consumer)
        download(agreement, consumer)
        invoices.append(invoice_issue(agreement=agreement))
    balance_top_up(city=city, consumer=consumer, amount_cents=1_000, by=staff)
    failures = run_together(
        lambda n: invoice_pay_prepaid(invoice=invoices[n], by=consumer), count=2
    )
    assert len(failures) == 1 and isinstance(failures[0], InsufficientBalance)
    assert PrepaidBalance.objects.get(consumer=consumer).cents == 400

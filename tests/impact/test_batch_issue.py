"""Issuing: one batch per approved claim, serial ranges that follow each other per (city,
class, vintage), and no unit ever issued twice — the service refuses, and so does the
database when someone tries behind its back."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from impact.errors import AlreadyIssued
from impact.models import Batch, Claim, Holding
from impact.services import batch_issue
from tests.conftest import require_postgres

from .helpers import issued, portfolio, submitted_claim


def test_serial_ranges_follow_each_other(resident, neighbour, curator_member):
    first = issued(resident, curator_member, "1000")
    second = issued(neighbour, curator_member, "500")
    assert (first.number, first.first_serial, first.last_serial) == (1, 1, 193)
    assert (second.number, second.first_serial, second.last_serial) == (2, 194, 289)


def test_each_vintage_and_city_counts_from_one(resident, curator_member):
    from datetime import date

    this_year = issued(resident, curator_member, "100")
    last_year = issued(
        resident, curator_member, "100", period_start=date(2025, 5, 1), period_end=date(2025, 5, 31)
    )
    assert (this_year.vintage, this_year.first_serial) == (2026, 1)
    assert (last_year.vintage, last_year.number, last_year.first_serial) == (2025, 1, 1)


def test_a_claim_is_never_issued_twice(resident, curator_member):
    batch = issued(resident, curator_member)
    claim = Claim.objects.get(pk=batch.claim_id)
    with pytest.raises(AlreadyIssued), transaction.atomic():
        batch_issue(claim=claim, credential=batch.credential)
    assert Batch.objects.filter(claim=claim).count() == 1
    assert Holding.objects.filter(batch__claim=claim).count() == 1


def _copy(batch, **changes):
    fields = {
        "city_id": batch.city_id,
        "token_class_id": batch.token_class_id,
        "vintage": batch.vintage,
        "number": batch.number + 10,
        "first_serial": batch.first_serial,
        "last_serial": batch.last_serial,
        "quantity": batch.quantity,
        "claim_id": batch.claim_id,
        "portfolio_id": batch.portfolio_id,
        "credential_id": batch.credential_id,
        "entry_id": batch.entry_id,
    }
    fields.update(changes)
    return Batch(**fields)


def test_the_database_refuses_the_same_serials_twice(resident, neighbour, curator_member):
    batch = issued(resident, curator_member)
    fresh = submitted_claim(neighbour, "10")
    # Same claim again, same range again, same number again: each refused by a constraint.
    attempts = [
        _copy(batch),  # the claim already has its batch
        _copy(batch, claim_id=fresh.pk),  # serials 1..193 again
        _copy(batch, claim_id=fresh.pk, number=batch.number, first_serial=9000, last_serial=9192),
        _copy(batch, claim_id=fresh.pk, first_serial=1, last_serial=5000, quantity=5000),
        _copy(batch, claim_id=fresh.pk, first_serial=10, last_serial=9, quantity=0),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt.save()
    assert list(Batch.objects.values_list("pk", flat=True)) == [batch.pk]


def test_postgresql_refuses_overlapping_ranges(resident, curator_member, neighbour):
    """Overlaps that touch neither end of another range: only the exclusion constraint."""
    require_postgres()
    batch = issued(resident, curator_member, "1000")  # 1..193
    fresh = submitted_claim(neighbour, "10")
    inside = _copy(batch, claim_id=fresh.pk, first_serial=50, last_serial=59, quantity=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        inside.save()
    holding = Holding.objects.get(batch=batch)
    overlapping = Holding(
        portfolio=portfolio(neighbour),
        batch=batch,
        token_class_id=batch.token_class_id,
        first_serial=60,
        last_serial=69,
        quantity=10,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        overlapping.save()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Holding.objects.filter(batch=batch).count() == 1 and holding.quantity == 193

"""Simultaneous share movements on PostgreSQL: holdings are locked while they are read and
written, so concurrent withdrawals and crossed transfers never take a holding below zero,
never deadlock, and the register still adds up."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from cooperative.errors import InsufficientShares, NoSuchMember, NotAMember
from cooperative.models import Holding, ShareMovement
from cooperative.services import cooperative_setup, share_transfer, share_withdraw, total_shares
from ledger.models import Transaction
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.governance.test_concurrency import run_together

from .helpers import admitted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_withdrawals_and_crossed_transfers_keep_every_holding_positive():
    require_postgres()
    operator = UserFactory(is_staff=True)
    body = cooperative_setup(operator=operator)
    members = [
        admitted(body, UserFactory(), "investors", shares=10, horizon=5, by=operator)
        for _ in range(2)
    ]

    def work(number: int) -> None:
        me, other = members[number % 2], members[(number + 1) % 2]
        if number < 4:
            share_withdraw(user=me.user, shares=4, horizon_years=5)
        else:
            share_transfer(user=me.user, to_did=other.identity.did, shares=3, horizon_years=5)

    failures = run_together(work)
    refusals = (InsufficientShares, NotAMember, NoSuchMember)  # a member who left is gone
    assert all(isinstance(error, refusals) for error in failures), failures
    assert not Holding.objects.filter(shares__lt=0).exists()
    withdrawn = ShareMovement.objects.filter(kind="withdraw").aggregate(n=Sum("shares"))["n"] or 0
    assert sum(total_shares(m) for m in members) == 20 - withdrawn
    assert Transaction.objects.filter(kind="cooperative.share.withdraw").count() * 4 == withdrawn

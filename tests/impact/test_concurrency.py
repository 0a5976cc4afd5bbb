"""Many simultaneous spends on PostgreSQL: the portfolio row lock makes them queue, so no
portfolio ever goes below zero, no serial is spent twice, nothing moves after its
retirement, a claim is issued once and concurrent issues never share a serial."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from impact.errors import InsufficientTokens, WrongState
from impact.models import Batch, Claim, Holding, SellOffer
from impact.services import (
    claim_verify,
    curator_grant,
    offer_buy,
    offer_create,
    token_retire,
    token_transfer,
)
from tests.conftest import require_postgres
from tests.governance.helpers import join

from .helpers import balance, issued, portfolio, serials_of, submitted_claim, tco2e

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_together(work, count: int = THREADS) -> list[BaseException]:
    """Run `work(number)` in `count` threads released at once; return their errors."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def body(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    return failures


@pytest.fixture
def members(city, staff):
    require_postgres()
    return [join(city, "residents", by=staff) for _ in range(THREADS)]


def test_concurrent_transfers_never_overspend(resident, curator_member, members):
    batch = issued(resident, curator_member, "1000")  # 193 units
    sender = portfolio(resident)
    recipients = [portfolio(m) for m in members]

    def spend(n: int) -> None:
        token_transfer(
            sender=sender,
            recipient=recipients[n],
            by=resident.user,
            token_class=tco2e(),
            quantity=30,
        )

    failures = run_together(spend)
    assert all(isinstance(f, InsufficientTokens) for f in failures), failures
    assert len(failures) == THREADS - 6  # 6 × 30 = 180 ≤ 193 < 7 × 30
    assert balance(sender) == 193 - 180
    held = [serials_of(p) for p in [sender, *recipients]]
    assert sum(len(s) for s in held) == 193
    assert set().union(*held) == {(batch.pk, n) for n in range(1, 194)}
    assert not Holding.objects.filter(quantity__lt=1).exists()


def test_nothing_moves_after_its_retirement_even_in_a_race(resident, curator_member, members):
    issued(resident, curator_member, "1000")
    sender = portfolio(resident)

    def work(n: int) -> None:
        if n % 2:
            token_retire(
                portfolio=sender,
                by=resident.user,
                token_class=tco2e(),
                quantity=193,
                reason_code="offset",
            )
        else:
            token_transfer(
                sender=sender,
                recipient=portfolio(members[n]),
                by=resident.user,
                token_class=tco2e(),
                quantity=193,
            )

    failures = run_together(work)
    assert len(failures) == THREADS - 1
    assert all(isinstance(f, InsufficientTokens) for f in failures), failures
    retired = balance(sender, "retired")
    moved = sum(balance(portfolio(m)) for m in members)
    assert (retired, moved) in ((193, 0), (0, 193))
    assert balance(sender) == 0


def test_two_curators_approving_at_once_issue_one_batch(city, staff, resident, curator_member):
    require_postgres()
    second = join(city, "residents", by=staff)
    curator_grant(city=city, membership=second, by=staff)
    claim = submitted_claim(resident)
    curators = [curator_member, second]

    def decide(n: int) -> None:
        claim_verify(
            claim=Claim.objects.get(pk=claim.pk),
            by=curators[n].user,
            decision="approve",
            recomputed_quantity=193,
        )

    failures = run_together(decide, count=2)
    assert len(failures) == 1 and isinstance(failures[0], WrongState), failures
    assert Batch.objects.filter(claim=claim).count() == 1


def test_concurrent_issues_never_share_a_serial(city, staff, curator_member, members):
    claims = [submitted_claim(m, str(100 * (n + 1))) for n, m in enumerate(members)]

    def decide(n: int) -> None:
        claim = Claim.objects.get(pk=claims[n].pk)
        claim_verify(
            claim=claim,
            by=curator_member.user,
            decision="approve",
            recomputed_quantity=claim.quantity,
        )

    assert run_together(decide) == []
    batches = list(Batch.objects.order_by("first_serial"))
    assert len(batches) == THREADS and batches[0].first_serial == 1
    for before, after in zip(batches, batches[1:], strict=False):
        assert after.first_serial == before.last_serial + 1
    assert sorted(b.number for b in batches) == list(range(1, THREADS + 1))


def test_an_offer_is_never_oversold(resident, curator_member, members):
    issued(resident, curator_member, "1000")
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=100,
        unit_price_cents=8,
    )
    buyers = [portfolio(m) for m in members]

    def buy(n: int) -> None:
        offer_buy(offer=offer, buyer=buyers[n], by=members[n].user, quantity=30)

    failures = run_together(buy)
    assert len(failures) == THREADS - 3 and all(isinstance(f, WrongState) for f in failures)
    offer.refresh_from_db()
    assert offer.remaining == 10 and offer.status == "open"
    assert sum(balance(b) for b in buyers) == 90
    assert balance(portfolio(resident), "escrow") == 10
    assert SellOffer.objects.count() == 1


def test_members_sending_to_each_other_at_once_never_deadlock(resident, curator_member, members):
    """A→B and B→A at the same moment: each locks its own portfolio, and the rows it inserts
    point at the other's. With FOR UPDATE on the sender this deadlocked (PostgreSQL killed one
    of the two with an error a client saw as a 500)."""
    pair = members[:2]
    for member in pair:
        issued(member, curator_member, "1000")  # 193 units each
    wallets = [portfolio(m) for m in pair]

    def send(n: int) -> None:
        me, other = n % 2, 1 - n % 2
        token_transfer(
            sender=wallets[me],
            recipient=wallets[other],
            by=pair[me].user,
            token_class=tco2e(),
            quantity=5,
        )

    assert run_together(send) == []
    assert sum(balance(w) for w in wallets) == 2 * 193
    assert balance(wallets[0]) == balance(wallets[1]) == 193  # as many sent as received

"""Transfers: signed by the sender, on the ledger, never below zero, oldest serials first, a
partial transfer splits a range; retired, redeemed and escrowed tokens never move."""

from __future__ import annotations

import pytest

from impact.errors import InsufficientTokens, InvalidInput, NotAllowed
from impact.models import Holding, Transfer
from impact.services import offer_create, token_retire, token_transfer
from ledger.models import Transaction

from .helpers import balance, issued, portfolio, serials_of, tco2e, writes_nothing


@pytest.fixture
def batch(resident, curator_member):
    return issued(resident, curator_member, "1000")  # 193 kg, serials 1..193


def send(sender, recipient, quantity, **kwargs):
    return token_transfer(
        sender=portfolio(sender),
        recipient=portfolio(recipient),
        by=sender.user,
        token_class=tco2e(),
        quantity=quantity,
        **kwargs,
    )


def test_a_partial_transfer_splits_the_range_and_signs_it(batch, resident, neighbour):
    transfer = send(resident, neighbour, 50)

    assert transfer.serials == [[batch.public_id, 1, 50]]
    assert balance(portfolio(resident)) == 143 and balance(portfolio(neighbour)) == 50
    theirs = Holding.objects.get(portfolio=portfolio(neighbour))
    mine = Holding.objects.get(portfolio=portfolio(resident))
    assert (theirs.first_serial, theirs.last_serial) == (1, 50)
    assert (mine.first_serial, mine.last_serial) == (51, 193)
    entry = transfer.entry
    assert entry.kind == "impact.token.transfer" and entry.actor == resident.identity.did
    assert entry.payload["serials"] == [[batch.public_id, 1, 50]]
    assert entry.payload["quantity"] == 50


def test_the_serials_of_a_batch_stay_a_partition(batch, resident, neighbour, provider_member):
    send(resident, neighbour, 10)
    send(neighbour, provider_member, 3)
    send(resident, provider_member, 100)
    send(provider_member, resident, 50)
    everyone = [portfolio(m) for m in (resident, neighbour, provider_member)]
    held = [serials_of(p) for p in everyone]
    assert sum(len(s) for s in held) == 193
    assert set().union(*held) == {(batch.pk, n) for n in range(1, 194)}


def test_a_transfer_spans_batches_oldest_first(resident, neighbour, curator_member):
    first = issued(resident, curator_member, "100")  # 19 kg
    second = issued(resident, curator_member, "100")
    transfer = send(resident, neighbour, 25)
    assert transfer.serials == [[first.public_id, 1, 19], [second.public_id, 20, 25]]


def test_no_one_spends_more_than_they_hold(batch, resident, neighbour):
    with writes_nothing(), pytest.raises(InsufficientTokens):
        send(resident, neighbour, 194)
    assert balance(portfolio(resident)) == 193


def test_no_transfer_after_retirement(batch, resident, neighbour):
    token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=193,
        reason_code="offset",
    )
    with writes_nothing(), pytest.raises(InsufficientTokens):
        send(resident, neighbour, 1)
    assert balance(portfolio(resident), "retired") == 193


def test_escrowed_tokens_do_not_move(batch, resident, neighbour):
    offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=190,
        unit_price_cents=8,
    )
    with writes_nothing(), pytest.raises(InsufficientTokens):
        send(resident, neighbour, 4)
    send(resident, neighbour, 3)


def test_only_the_holder_sends(batch, resident, neighbour):
    with writes_nothing(), pytest.raises(NotAllowed):
        token_transfer(
            sender=portfolio(resident),
            recipient=portfolio(neighbour),
            by=neighbour.user,
            token_class=tco2e(),
            quantity=1,
        )


def test_zero_or_negative_quantities_are_refused(batch, resident, neighbour):
    for quantity in (0, -5, 1.5, "3"):
        with writes_nothing(), pytest.raises(InvalidInput):
            send(resident, neighbour, quantity)


def test_tokens_stay_in_their_city(batch, resident, other_city, operator):
    from tests.governance.helpers import appoint, join

    mayor = appoint(other_city, operator)
    stranger = join(other_city, "residents", by=mayor.user)
    with writes_nothing(), pytest.raises(InvalidInput):
        send(resident, stranger, 1)


def test_a_transfer_from_a_specific_batch(resident, neighbour, curator_member):
    issued(resident, curator_member, "100")
    second = issued(resident, curator_member, "100")
    transfer = send(resident, neighbour, 5, batch=second)
    assert transfer.serials == [[second.public_id, 20, 24]]
    assert Transfer.objects.count() == 1
    assert Transaction.objects.filter(kind="impact.token.transfer").count() == 1

"""Sell offers with escrow, purchases paid into the treasury (the seller is owed the price),
and forward orders paid in at once and filled as batches are issued."""

from __future__ import annotations

import pytest

from governance.models import Movement
from impact.errors import InsufficientTokens, InvalidInput, NotAllowed, WrongState
from impact.models import ForwardFill, Payable
from impact.services import (
    forward_order_cancel,
    forward_order_create,
    offer_buy,
    offer_create,
    offer_withdraw,
    portfolio_forward_consent,
)
from tests.governance.helpers import balance as account

from .helpers import balance, issued, portfolio, tco2e, writes_nothing


@pytest.fixture
def offer(resident, curator_member):
    issued(resident, curator_member, "1000")  # 193
    return offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=100,
        unit_price_cents=8,
    )


def test_an_offer_puts_its_tokens_in_escrow(offer, resident):
    assert balance(portfolio(resident)) == 93 and balance(portfolio(resident), "escrow") == 100
    assert offer.entry.payload["serials"][0][1:] == [1, 100]


def test_buying_pays_the_treasury_and_owes_the_seller(offer, resident, neighbour, city):
    purchase = offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=30)

    assert purchase.amount_cents == 240
    assert balance(portfolio(neighbour)) == 30
    assert balance(portfolio(resident), "escrow") == 70
    assert account(city, "bank") == 240 and account(city, "impact-funds") == -240
    payable = purchase.payable
    assert (payable.kind, payable.amount_cents, payable.status) == ("sale", 240, "owed")
    assert payable.payee_did == resident.identity.did
    assert purchase.transfer.serials[0][1:] == [1, 30]
    offer.refresh_from_db()
    assert offer.remaining == 70 and offer.status == "open"


def test_selling_out_closes_the_offer(offer, neighbour):
    offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=100)
    offer.refresh_from_db()
    assert offer.status == "sold" and offer.remaining == 0
    with writes_nothing(), pytest.raises(WrongState):
        offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=1)


def test_no_one_buys_more_than_is_offered_nor_their_own_offer(offer, resident, neighbour):
    with writes_nothing(), pytest.raises(WrongState):
        offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=101)
    with writes_nothing(), pytest.raises(InvalidInput):
        offer_buy(offer=offer, buyer=portfolio(resident), by=resident.user, quantity=1)
    with writes_nothing(), pytest.raises(NotAllowed):
        offer_buy(offer=offer, buyer=portfolio(neighbour), by=resident.user, quantity=1)


def test_withdrawing_releases_what_is_left(offer, resident, neighbour):
    offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=10)
    offer_withdraw(offer=offer, by=resident.user)
    assert balance(portfolio(resident)) == 183 and balance(portfolio(resident), "escrow") == 0
    with writes_nothing(), pytest.raises(WrongState):
        offer_withdraw(offer=offer, by=resident.user)


def test_only_the_seller_withdraws(offer, neighbour):
    with writes_nothing(), pytest.raises(NotAllowed):
        offer_withdraw(offer=offer, by=neighbour.user)


def test_an_offer_needs_the_tokens(resident, curator_member):
    issued(resident, curator_member, "100")  # 19
    with writes_nothing(), pytest.raises(InsufficientTokens):
        offer_create(
            seller=portfolio(resident),
            by=resident.user,
            token_class=tco2e(),
            quantity=20,
            unit_price_cents=8,
        )


# --- forward orders -----------------------------------------------------------------------


def test_a_forward_order_is_paid_in_and_filled_by_consenting_holders(
    city, resident, neighbour, curator_member, provider_member
):
    order = forward_order_create(
        city=city, by=provider_member.user, token_class=tco2e(), quantity=250, unit_price_cents=9
    )
    assert account(city, "bank") == 2250 and order.movement.public_id
    # A holder who did not consent keeps their batch.
    issued(neighbour, curator_member, "1000")
    assert balance(portfolio(neighbour)) == 193
    portfolio_forward_consent(portfolio=portfolio(resident), by=resident.user, accepts=True)
    batch = issued(resident, curator_member, "1000")  # 193, all to the order
    order.refresh_from_db()
    assert order.filled == 193 and order.status == "open"
    assert balance(portfolio(resident)) == 0 and balance(portfolio(provider_member)) == 193
    fill = ForwardFill.objects.get(order=order)
    assert fill.batch == batch and fill.payable.amount_cents == 193 * 9
    assert fill.payable.payee_did == resident.identity.did
    assert fill.transfer.entry.actor == city.identity.did
    issued(resident, curator_member, "1000")
    order.refresh_from_db()
    assert order.filled == 250 and order.status == "filled"
    assert balance(portfolio(resident)) == 193 - 57


def test_cancelling_owes_the_unfilled_part(city, provider_member):
    order = forward_order_create(
        city=city, by=provider_member.user, token_class=tco2e(), quantity=100, unit_price_cents=5
    )
    forward_order_cancel(order=order, by=provider_member.user)
    refund = Payable.objects.get(kind="refund")
    assert refund.amount_cents == 500 and refund.payee_did == provider_member.identity.did
    with writes_nothing(), pytest.raises(WrongState):
        forward_order_cancel(order=order, by=provider_member.user)
    assert Movement.objects.count() == 1

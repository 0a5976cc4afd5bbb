"""Merchants' offers for tokens, projects collecting tokens or money, and the
municipality's participation calls rewarded from the city's portfolio."""

from __future__ import annotations

import pytest

from impact.errors import InsufficientTokens, InvalidInput, NotAllowed, WrongState
from impact.services import (
    city_portfolio,
    merchant_offer_close,
    merchant_offer_create,
    merchant_offer_redeem,
    participation_call_close,
    participation_call_create,
    participation_register,
    participation_reward,
    project_contribute,
    project_create,
)
from tests.governance.helpers import balance as account

from .helpers import balance, issued, portfolio, tco2e, writes_nothing


@pytest.fixture
def tokens(resident, curator_member):
    return issued(resident, curator_member, "1000")  # 193


def offer(merchant, settlement="transfer", **kwargs):
    return merchant_offer_create(
        city=merchant.city,
        by=merchant.user,
        title="Café offert",
        description="Un café au comptoir, place du marché.",
        token_class=tco2e(),
        price_quantity=kwargs.pop("price_quantity", 20),
        settlement=settlement,
        **kwargs,
    )


def test_spending_at_a_merchant_transfers_the_tokens(tokens, resident, provider_member):
    coffee = offer(provider_member, stock=2)
    assert "Café" not in str(coffee.entry.payload)
    redemption = merchant_offer_redeem(
        offer=coffee, buyer=portfolio(resident), by=resident.user, items=2
    )
    assert redemption.quantity == 40 and redemption.transfer.purpose == "merchant"
    assert balance(portfolio(provider_member)) == 40 and balance(portfolio(resident)) == 153
    coffee.refresh_from_db()
    assert coffee.stock == 0
    with writes_nothing(), pytest.raises(WrongState):
        merchant_offer_redeem(offer=coffee, buyer=portfolio(resident), by=resident.user)


def test_a_retiring_merchant_retires_in_the_buyers_name(tokens, resident, provider_member):
    ride = offer(provider_member, settlement="retire", price_quantity=50)
    redemption = merchant_offer_redeem(offer=ride, buyer=portfolio(resident), by=resident.user)
    assert redemption.retirement.reason_code == "merchant"
    assert balance(portfolio(resident), "retired") == 50
    assert balance(portfolio(provider_member)) == 0


def test_a_closed_offer_or_too_few_tokens_spend_nothing(tokens, resident, provider_member):
    big = offer(provider_member, price_quantity=194)
    with writes_nothing(), pytest.raises(InsufficientTokens):
        merchant_offer_redeem(offer=big, buyer=portfolio(resident), by=resident.user)
    merchant_offer_close(offer=big, by=provider_member.user)
    with writes_nothing(), pytest.raises(WrongState):
        merchant_offer_redeem(offer=big, buyer=portfolio(resident), by=resident.user)


def test_a_project_collects_tokens_and_money(tokens, resident, neighbour, city):
    project = project_create(
        city=city,
        by=neighbour.user,
        title="Jardin partagé",
        description="",
        token_class=tco2e(),
        goal_quantity=100,
        goal_cents=50_000,
    )
    contribution = project_contribute(
        project=project,
        contributor=portfolio(resident),
        by=resident.user,
        quantity=30,
        amount_cents=1500,
    )
    project.refresh_from_db()
    assert (project.collected_quantity, project.collected_cents) == (30, 1500)
    assert balance(portfolio(neighbour)) == 30
    assert account(city, "bank") == 1500
    assert contribution.payable.payee_did == neighbour.identity.did
    with writes_nothing(), pytest.raises(InvalidInput):
        project_contribute(project=project, contributor=portfolio(resident), by=resident.user)


def test_participation_is_rewarded_from_the_city_portfolio(
    city, mayor, staff, resident, curator_member
):
    # The municipality's own claims feed the city's portfolio.
    issued(mayor, curator_member, "1000")
    assert balance(city_portfolio(city)) == 193
    call = participation_call_create(
        city=city,
        by=staff,
        title="Nettoyage des berges",
        description="Samedi matin.",
        token_class=tco2e(),
        reward_quantity=25,
        places=1,
    )
    participation = participation_register(call=call, by=resident.user)
    from tests.governance.helpers import join

    late = join(city, "residents", by=staff)
    with writes_nothing(), pytest.raises(WrongState):
        participation_register(call=call, by=late.user)
    with writes_nothing(), pytest.raises(NotAllowed):
        participation_reward(participation=participation, by=resident.user)
    participation = participation_reward(participation=participation, by=staff)
    assert participation.status == "rewarded"
    assert balance(portfolio(resident)) == 25 and balance(city_portfolio(city)) == 168
    with writes_nothing(), pytest.raises(WrongState):
        participation_reward(participation=participation, by=staff)
    participation_call_close(call=call, by=staff)

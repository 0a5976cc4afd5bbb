"""Redemption for money (providers college only, at the city's rate) and the payables the
city settles only through an executed fund_project decision."""

from __future__ import annotations

import pytest

from governance.services import proposal_execute, vote_cast
from impact.errors import InsufficientTokens, NotAllowed, WrongState
from impact.models import Payable
from impact.services import (
    offer_buy,
    offer_create,
    payable_settle,
    redemption_rate_set,
    token_redeem,
)
from impact.services.money import redemption_amount
from tests.governance.helpers import close, draft, fund, open_vote

from .helpers import balance, issued, portfolio, tco2e, writes_nothing


@pytest.fixture
def rate(city, staff):
    return redemption_rate_set(city=city, by=staff, token_class=tco2e(), cents_per_unit=6000)


def test_a_provider_member_redeems_at_the_city_rate(rate, provider_member, curator_member):
    issued(provider_member, curator_member, "1000")  # 193 kg
    redemption = token_redeem(
        portfolio=portfolio(provider_member),
        by=provider_member.user,
        token_class=tco2e(),
        quantity=150,
    )
    assert redemption.amount_cents == 900  # 0.150 t × 60.00 €/t
    assert balance(portfolio(provider_member)) == 43
    assert balance(portfolio(provider_member), "redeemed") == 150
    assert redemption.payable.kind == "redemption" and redemption.payable.status == "owed"
    assert redemption.entry.payload["amount_cents"] == 900
    with writes_nothing(), pytest.raises(InsufficientTokens):
        token_redeem(
            portfolio=portfolio(provider_member),
            by=provider_member.user,
            token_class=tco2e(),
            quantity=44,
        )


def test_only_providers_redeem(rate, resident, curator_member):
    issued(resident, curator_member, "1000")
    with writes_nothing(), pytest.raises(NotAllowed):
        token_redeem(
            portfolio=portfolio(resident), by=resident.user, token_class=tco2e(), quantity=10
        )


def test_no_rate_no_redemption(provider_member, curator_member):
    issued(provider_member, curator_member, "1000")
    with writes_nothing(), pytest.raises(WrongState):
        token_redeem(
            portfolio=portfolio(provider_member),
            by=provider_member.user,
            token_class=tco2e(),
            quantity=10,
        )


def test_only_staff_set_the_rate(city, resident):
    with writes_nothing(), pytest.raises(NotAllowed):
        redemption_rate_set(city=city, by=resident.user, token_class=tco2e(), cents_per_unit=1)


def test_amounts_round_down_to_the_cent():
    assert redemption_amount(quantity=1, cents_per_unit=6000, precision=3) == 6
    assert redemption_amount(quantity=1, cents_per_unit=999, precision=3) == 0


def _pay(city, mayor, payee_did: str, amount: int):
    fund(city, amount)
    proposal = draft(mayor, "fund_project", amount_cents=amount, recipient=payee_did)
    proposal = open_vote(proposal, by=mayor)
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    proposal = proposal_execute(proposal=close(proposal))
    assert proposal.status == "executed", proposal.failure_reason
    return proposal


def test_a_payable_is_settled_by_the_decision_that_paid_it(
    city, mayor, staff, resident, neighbour, curator_member
):
    issued(resident, curator_member, "1000")
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=50,
        unit_price_cents=10,
    )
    payable = offer_buy(
        offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=50
    ).payable
    wrong = _pay(city, mayor, resident.identity.did, 499)
    with writes_nothing(), pytest.raises(WrongState):
        payable_settle(payable=payable, proposal=wrong, by=staff)
    right = _pay(city, mayor, resident.identity.did, 500)
    with writes_nothing(), pytest.raises(NotAllowed):
        payable_settle(payable=payable, proposal=right, by=resident.user)
    payable = payable_settle(payable=payable, proposal=right, by=staff)
    assert payable.status == "paid" and payable.proposal == right
    with writes_nothing(), pytest.raises(WrongState):
        payable_settle(payable=payable, proposal=right, by=staff)
    other = offer_buy(
        offer=offer_create(
            seller=portfolio(resident),
            by=resident.user,
            token_class=tco2e(),
            quantity=50,
            unit_price_cents=10,
        ),
        buyer=portfolio(neighbour),
        by=neighbour.user,
        quantity=50,
    ).payable
    with writes_nothing(), pytest.raises(WrongState):
        payable_settle(payable=other, proposal=right, by=staff)
    assert Payable.objects.filter(status="owed").count() == 1

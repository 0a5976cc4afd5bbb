"""List pages ask a fixed number of queries, with one row or many."""

from __future__ import annotations

from impact.services import merchant_offer_create, offer_create
from tests.impact.helpers import issued, portfolio, submitted_claim, tco2e

from .conftest import logged_in, queries, url


def measure(client, target: str) -> int:
    client.get(target)  # the session's first request writes its login time
    return queries(client, target)


def test_my_claims_and_my_portfolio(client, city, resident, curator_member):
    issued(resident, curator_member, "100")
    submitted_claim(resident, "10")
    logged_in(client, resident)
    claims, wallet = measure(client, url("claims", city)), measure(client, url("portfolio", city))
    for km in ("20", "30", "40"):
        issued(resident, curator_member, km)
        submitted_claim(resident, km)
    offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=5,
        unit_price_cents=2,
    )
    assert measure(client, url("claims", city)) == claims
    assert measure(client, url("portfolio", city)) == wallet


def test_the_curators_queue(client, city, resident, neighbour, curator_member):
    submitted_claim(resident, "10")
    logged_in(client, curator_member)
    one = measure(client, url("queue", city))
    for km in ("20", "30"):
        submitted_claim(resident, km)
        submitted_claim(neighbour, km)
    assert measure(client, url("queue", city)) == one


def merchant_offer(city, provider_member, title: str):
    return merchant_offer_create(
        city=city,
        by=provider_member.user,
        title=title,
        description="",
        token_class=tco2e(),
        price_quantity=5,
        settlement="retire",
    )


def test_the_market(client, city, resident, neighbour, provider_member, curator_member):
    issued(resident, curator_member, "1000")
    seller = portfolio(resident)
    offer_create(
        seller=seller, by=resident.user, token_class=tco2e(), quantity=5, unit_price_cents=2
    )
    merchant_offer(city, provider_member, "Café")
    logged_in(client, neighbour)
    one = measure(client, url("market", city))
    for quantity in (7, 9, 11):
        offer_create(
            seller=seller,
            by=resident.user,
            token_class=tco2e(),
            quantity=quantity,
            unit_price_cents=3,
        )
    for title in ("Vélo", "Pain"):
        merchant_offer(city, provider_member, title)
    assert measure(client, url("market", city)) == one

"""Offers, purchases, forward orders and redemptions through the API."""

from __future__ import annotations

from tests.impact.helpers import issued

from .support import assert_error


def test_offer_buy_and_withdraw(as_, anonymous, resident, neighbour, curator_member):
    issued(resident, curator_member, "1000")
    seller = as_(resident)
    response = seller.post(
        "cities/bourg/offers",
        {"token_class": "tco2e-avoided", "quantity": 100, "unit_price_cents": 8},
    )
    assert response.status_code == 201, response.content
    offer = response.json()["public_id"]
    listed = anonymous.get("cities/bourg/offers", {"token_class": "tco2e-avoided"}).json()
    assert [o["public_id"] for o in listed["results"]] == [offer]
    buyer = as_(neighbour)
    response = buyer.post(f"cities/bourg/offers/{offer}/buy", {"quantity": 40})
    assert response.status_code == 201, response.content
    assert response.json()["amount_cents"] == 320
    assert_error(buyer.post(f"cities/bourg/offers/{offer}/buy", {"quantity": 61}), 409)
    assert_error(buyer.post(f"cities/bourg/offers/{offer}/withdraw"), 403)
    assert seller.post(f"cities/bourg/offers/{offer}/withdraw").json()["status"] == "withdrawn"
    assert_error(buyer.post("cities/bourg/offers/nope/buy", {"quantity": 1}), 404)
    assert_error(anonymous.post("cities/bourg/offers", {}), 401)


def test_forward_orders(as_, provider_member):
    response = as_(provider_member).post(
        "cities/bourg/forward-orders",
        {"token_class": "tco2e-avoided", "quantity": 1000, "unit_price_cents": 9},
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "open" and response.json()["filled"] == 0


def test_only_providers_redeem(as_, city, staff, resident, provider_member, curator_member):
    from impact.services import redemption_rate_set
    from tests.impact.helpers import tco2e

    redemption_rate_set(city=city, by=staff, token_class=tco2e(), cents_per_unit=6000)
    issued(resident, curator_member, "1000")
    issued(provider_member, curator_member, "1000")
    body = {"token_class": "tco2e-avoided", "quantity": 100}
    assert_error(as_(resident).post("cities/bourg/redemptions", body), 403)
    response = as_(provider_member).post("cities/bourg/redemptions", body)
    assert response.status_code == 201, response.content
    assert response.json()["amount_cents"] == 600 and response.json()["payable_status"] == "owed"


def test_merchant_offers(as_, anonymous, resident, provider_member, curator_member):
    issued(resident, curator_member, "1000")
    response = as_(provider_member).post(
        "cities/bourg/merchant-offers",
        {
            "title": "Café offert",
            "token_class": "tco2e-avoided",
            "price_quantity": 20,
            "settlement": "retire",
            "stock": 1,
        },
    )
    assert response.status_code == 201, response.content
    offer = response.json()["public_id"]
    assert anonymous.get("cities/bourg/merchant-offers").json()["count"] == 1
    response = as_(resident).post(f"cities/bourg/merchant-offers/{offer}/redeem", {"items": 1})
    assert response.status_code == 201, response.content
    assert response.json()["retirement"] and response.json()["quantity"] == 20
    assert_error(as_(resident).post(f"cities/bourg/merchant-offers/{offer}/redeem"), 409)
    assert_error(as_(resident).post("cities/bourg/merchant-offers/nope/redeem"), 404)


def test_staff_grant_the_curator_role(as_, staff, resident, neighbour):
    assert_error(
        as_(neighbour).post("cities/bourg/curators", {"membership": resident.public_id}), 403
    )
    response = as_(staff).post("cities/bourg/curators", {"membership": resident.public_id})
    assert response.status_code == 201, response.content
    assert response.json()["member"] == resident.identity.did
    assert_error(as_(staff).post("cities/bourg/curators", {"membership": resident.public_id}), 409)
    assert_error(as_(staff).post("cities/bourg/curators", {"membership": "nope"}), 400)

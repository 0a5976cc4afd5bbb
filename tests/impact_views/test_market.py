"""The market through the pages: sell offers held in escrow and bought, an investor's
forward order, a merchant's offer spent, a project's gift, a call for participation."""

from __future__ import annotations

from impact.models import (
    Contribution,
    ForwardOrder,
    MerchantOffer,
    MerchantRedemption,
    Participation,
    Project,
    Purchase,
    SellOffer,
)
from impact.services import (
    merchant_offer_create,
    offer_create,
    participation_call_create,
    project_create,
)
from tests.impact.helpers import balance, issued, portfolio, tco2e, writes_nothing

from .conftest import HX, logged_in, url


def test_anonymous_visitors_read_the_market_without_its_forms(
    client, city, resident, curator_member
):
    issued(resident, curator_member)
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=50,
        unit_price_cents=3,
    )
    page = client.get(url("market", city)).content.decode()
    assert f'id="offer-{offer.public_id}"' in page
    assert "Members of the city can buy" in page
    assert url("offer_buy", city, offer.public_id) not in page


def test_a_sell_offer_is_escrowed_then_bought(client, city, resident, neighbour, curator_member):
    issued(resident, curator_member, "1000")
    logged_in(client, resident)
    response = client.post(
        url("offer_create", city),
        {"token_class": "tco2e-avoided", "quantity": "50", "unit_price": "0.03"},
    )
    assert response.status_code == 302
    offer = SellOffer.objects.get()
    assert (offer.unit_price_cents, balance(portfolio(resident), "escrow")) == (3, 50)

    logged_in(client, neighbour)
    response = client.post(url("offer_buy", city, offer.public_id), {"quantity": "20"})
    assert response.status_code == 302
    purchase = Purchase.objects.get()
    assert purchase.amount_cents == 60 and balance(portfolio(neighbour)) == 20
    with writes_nothing():
        response = client.post(url("offer_buy", city, offer.public_id), {"quantity": "31"})
    assert response.status_code == 409


def test_the_offer_list_filters_by_class_in_a_fragment(client, city, resident, curator_member):
    issued(resident, curator_member)
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=5,
        unit_price_cents=3,
    )
    fragment = client.get(url("market", city) + "?token_class=kwh-saved", **HX).content.decode()
    assert 'id="offer-list"' in fragment and "<html" not in fragment
    assert offer.public_id not in fragment
    fragment = client.get(url("market", city) + "?token_class=tco2e-avoided", **HX).content.decode()
    assert offer.public_id in fragment


def test_an_investor_places_and_cancels_a_forward_order(client, city, neighbour):
    logged_in(client, neighbour)
    response = client.post(
        url("forward_create", city),
        {"token_class": "tco2e-avoided", "quantity": "100", "unit_price": "0.05"},
    )
    assert response.status_code == 302
    order = ForwardOrder.objects.get()
    assert (order.quantity, order.unit_price_cents, order.movement.postings.count()) == (100, 5, 2)
    response = client.post(url("forward_cancel", city, order.public_id))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_a_member_spends_tokens_at_a_merchant(
    client, city, resident, provider_member, curator_member
):
    issued(resident, curator_member, "1000")
    offer = merchant_offer_create(
        city=city,
        by=provider_member.user,
        title="Révision de vélo",
        description="",
        token_class=tco2e(),
        price_quantity=50,
        settlement="transfer",
        stock=3,
    )
    logged_in(client, resident)
    assert "Révision de vélo" in client.get(url("market", city)).content.decode()
    response = client.post(url("merchant_redeem", city, offer.public_id), {"items": "2"})
    assert response.status_code == 302
    assert MerchantRedemption.objects.get().quantity == 100
    assert balance(portfolio(provider_member)) == 100
    assert MerchantOffer.objects.get().stock == 1
    with writes_nothing():
        response = client.post(url("merchant_redeem", city, offer.public_id), {"items": "2"})
    assert response.status_code == 409  # not enough left in stock


def test_a_merchant_publishes_an_offer(client, city, provider_member):
    response = logged_in(client, provider_member).post(
        url("merchant_create", city),
        {
            "title": "Café offert",
            "description": "Au comptoir.",
            "token_class": "tco2e-avoided",
            "price_quantity": "10",
            "settlement": "retire",
            "stock": "",
        },
    )
    assert response.status_code == 302
    offer = MerchantOffer.objects.get()
    assert (offer.settlement, offer.stock) == ("retire", None)


def test_a_project_collects_tokens_and_money(client, city, resident, neighbour, curator_member):
    issued(resident, curator_member)
    project = project_create(
        city=city,
        by=neighbour.user,
        title="Composteurs",
        description="",
        token_class=tco2e(),
        goal_quantity=100,
        goal_cents=10_000,
    )
    response = logged_in(client, resident).post(
        url("project_contribute", city, project.public_id), {"quantity": "10", "amount": "5.50"}
    )
    assert response.status_code == 302
    contribution = Contribution.objects.get()
    assert (contribution.quantity, contribution.amount_cents) == (10, 550)
    assert Project.objects.get().collected_cents == 550


def test_a_member_signs_up_to_a_call_and_staff_reward_them(
    client, city, resident, staff, mayor, curator_member
):
    issued(mayor, curator_member, "1000")  # the municipality's claim: tokens of the city
    call = participation_call_create(
        city=city,
        by=staff,
        title="Berges du Lez",
        description="",
        token_class=tco2e(),
        reward_quantity=10,
        places=2,
    )
    response = logged_in(client, resident).post(url("call_register", city, call.public_id))
    assert response.status_code == 302
    participation = Participation.objects.get()
    logged_in(client, staff)
    response = client.post(url("participation_reward", city, call.public_id, resident.public_id))
    assert response.status_code == 302
    participation.refresh_from_db()
    assert participation.status == "rewarded" and balance(portfolio(resident)) == 10


def test_non_members_cannot_use_the_market_forms(client, city, foreign_member):
    logged_in(client, foreign_member)
    with writes_nothing():
        response = client.post(
            url("forward_create", city),
            {"token_class": "tco2e-avoided", "quantity": "100", "unit_price": "0.05"},
        )
    assert response.status_code == 403

"""The publisher's offer page: the ODRL policy built from the form, validated, signed, shown
as JSON-LD; euros become integer cents; only the publisher makes offers on its dataset."""

from __future__ import annotations

from marketplace.data.models import Offer
from marketplace.data.services.contracts import KIND_OFFER_CREATE

from .conftest import login_redirect, url

FORM = {
    "title": "Relevés pour la recherche",
    "pricing_model": "per_request",
    "price": "0.25",
    "actions": ["read", "aggregate"],
    "prohibited": ["sell"],
    "purposes": "research, urban-planning",
    "duration_days": "90",
    "max_requests": "10",
    "delete_after_days": "30",
}


def test_the_publisher_makes_an_offer_from_the_form(client, staff, city, open_dataset):
    client.force_login(staff)
    response = client.post(url("offer_create", city.slug, open_dataset.public_id), FORM)
    offer = Offer.objects.get(dataset=open_dataset)
    assert response.status_code == 302
    assert response["Location"] == url("offer_detail", city.slug, offer.public_id)
    assert offer.unit_price_cents == 25
    assert offer.pricing_model == "per_request"
    assert offer.purposes == ["research", "urban-planning"]
    assert (offer.max_requests, offer.duration_days) == (10, 90)
    assert [rule["action"] for rule in offer.policy["permission"]] == ["read", "aggregate"]
    assert offer.policy["prohibition"][0]["action"] == "sell"
    assert city.chain.entries.filter(kind=KIND_OFFER_CREATE).exists()

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert offer.policy["uid"] in body
    assert "http://www.w3.org/ns/odrl.jsonld" in body


def test_a_free_offer_with_a_price_is_refused_with_a_clear_error(client, staff, city, open_dataset):
    client.force_login(staff)
    response = client.post(
        url("offer_create", city.slug, open_dataset.public_id),
        {**FORM, "pricing_model": "free", "price": "1.00"},
    )
    assert response.status_code == 400
    assert "A free offer has a price of 0." in response.content.decode()
    assert not Offer.objects.exists()


def test_no_permitted_action_is_refused(client, staff, city, open_dataset):
    client.force_login(staff)
    response = client.post(
        url("offer_create", city.slug, open_dataset.public_id), {**FORM, "actions": []}
    )
    assert response.status_code == 400
    assert not Offer.objects.exists()


def test_only_the_publisher_makes_an_offer_on_its_dataset(client, consumer, city, open_dataset):
    client.force_login(consumer)
    target = url("offer_create", city.slug, open_dataset.public_id)
    assert client.get(target).status_code == 403
    assert client.post(target, FORM).status_code == 403
    assert not Offer.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, city, open_dataset):
    response = client.get(url("offer_create", city.slug, open_dataset.public_id))
    assert login_redirect(response)


def test_a_dataset_of_another_city_is_not_found(client, staff, open_dataset, foreign_member):
    client.force_login(staff)
    response = client.get(url("offer_create", "annecy", open_dataset.public_id))
    assert response.status_code == 404

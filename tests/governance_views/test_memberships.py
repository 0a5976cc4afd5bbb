"""Joining a city and the municipality's decisions through the pages."""

from __future__ import annotations

import pytest

from governance.models import Membership

from .conftest import VALID_SIRET, logged_in, url

pytestmark = pytest.mark.django_db


def college(city, slug):
    return city.colleges.get(slug=slug).pk


def test_a_resident_asks_to_join_with_an_address_in_the_city(client, city, outsider):
    logged_in(client, outsider)
    response = client.post(
        url("join", city),
        {
            "college": college(city, "residents"),
            "postal_address": "3 rue Vive",
            "postal_code": "01000",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=outsider)
    assert (membership.status, membership.postal_code) == ("pending", "01000")
    page = client.get(url("city_home", city)).content.decode()
    assert "waiting for the municipality" in page


def test_an_address_outside_the_city_is_refused_on_the_postal_code(client, city, outsider):
    logged_in(client, outsider)
    response = client.post(
        url("join", city),
        {"college": college(city, "residents"), "postal_address": "1 quai", "postal_code": "75001"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["postal_code"] == [
        "The postal code is not one of this city's."
    ]
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_resident_must_give_an_address(client, city, outsider):
    logged_in(client, outsider)
    response = client.post(url("join", city), {"college": college(city, "residents")})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"postal_address", "postal_code"}


def test_a_provider_gives_a_valid_siret(client, city, outsider):
    logged_in(client, outsider)
    bad = client.post(url("join", city), {"college": college(city, "providers"), "siret": "123"})
    assert bad.status_code == 400
    assert bad.context["form"].errors["siret"]
    good = client.post(
        url("join", city), {"college": college(city, "providers"), "siret": VALID_SIRET}
    )
    assert good.status_code == 302
    assert Membership.objects.get(user=outsider).siret == VALID_SIRET


def test_nobody_asks_to_join_the_municipality(client, city, outsider):
    logged_in(client, outsider)
    response = client.post(url("join", city), {"college": college(city, "municipality")})
    assert response.status_code == 400
    assert response.context["form"].errors["college"]


def test_a_member_does_not_join_twice(client, city, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("join", city),
        {"college": college(city, "residents"), "postal_address": "x", "postal_code": "01000"},
    )
    assert response.status_code == 409
    assert Membership.objects.filter(user=resident.user).count() == 1


@pytest.fixture
def pending(client, city, outsider):
    logged_in(client, outsider)
    client.post(
        url("join", city),
        {"college": college(city, "residents"), "postal_address": "3 rue", "postal_code": "01000"},
    )
    client.logout()
    return Membership.objects.get(user=outsider)


def test_staff_approve_a_request(client, city, staff, pending):
    logged_in(client, staff.user)
    response = client.post(url("membership_approve", city, pending.public_id))
    assert response.status_code == 302
    assert response["Location"] == url("admin", city)
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.credential is not None


def test_staff_refuse_with_a_reason_and_not_without(client, city, staff, pending):
    logged_in(client, staff.user)
    client.post(url("membership_refuse", city, pending.public_id), {"reason": ""})
    pending.refresh_from_db()
    assert pending.status == "pending"
    client.post(url("membership_refuse", city, pending.public_id), {"reason": "Address unknown"})
    pending.refresh_from_db()
    assert (pending.status, pending.reason) == ("refused", "Address unknown")


def test_deciding_twice_is_a_message_not_an_error_page(client, city, staff, pending):
    logged_in(client, staff.user)
    client.post(url("membership_approve", city, pending.public_id))
    response = client.post(url("membership_approve", city, pending.public_id), follow=True)
    assert response.status_code == 200
    assert "This cannot be done in the current state." in response.content.decode()


def test_staff_revoke_a_member_but_not_themselves(client, city, staff, resident):
    logged_in(client, staff.user)
    assert client.post(url("membership_revoke", city, staff.public_id)).status_code == 403
    assert client.post(url("membership_revoke", city, resident.public_id)).status_code == 302
    resident.refresh_from_db()
    assert resident.status == "revoked"
    assert resident.credential.revoked_at is not None

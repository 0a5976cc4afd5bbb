"""Asking to join a college: residents prove residency, providers give a valid SIRET, and
nothing reaches the ledger before a decision (the request holds personal data)."""

from __future__ import annotations

import pytest

from governance.errors import (
    AlreadyMember,
    InvalidInput,
    InvalidSiret,
    NotAllowed,
    ResidencyNotProven,
)
from governance.models import Membership
from governance.services import membership_refuse, membership_request, membership_revoke
from tests.factories import UserFactory

from .helpers import (
    INVALID_SIRET,
    POSTAL_CODES,
    VALID_SIRET,
    college,
    join,
    request,
    snapshot,
    writes_nothing,
)

pytestmark = pytest.mark.django_db


def test_a_resident_with_an_address_in_the_city_asks_to_join(city):
    user = UserFactory()
    before = snapshot()
    membership = membership_request(
        user=user,
        city=city,
        college=college(city, "residents"),
        postal_address="  3 rue des Lilas ",
        postal_code=f" {POSTAL_CODES[1]} ",
    )
    assert membership.status == "pending"
    assert (membership.postal_address, membership.postal_code) == ("3 rue des Lilas", "01440")
    assert membership.identity == user.primary_identity
    assert membership.credential is None
    # The request holds personal data: nothing reaches any ledger before a decision.
    assert snapshot()["transactions"] == before["transactions"]


def test_a_request_writes_nothing_on_the_city_chain(city):
    size = city.chain.size
    request(city, "residents")
    request(city, "providers")
    city.chain.refresh_from_db()
    assert city.chain.size == size


@pytest.mark.parametrize("postal_code", ["75001", "", "01 000", "1000"])
def test_a_postal_code_outside_the_city_does_not_prove_residency(city, postal_code):
    user = UserFactory()
    with writes_nothing(), pytest.raises(ResidencyNotProven) as raised:
        membership_request(
            user=user,
            city=city,
            college=college(city, "residents"),
            postal_address="1 place Bellecour",
            postal_code=postal_code,
        )
    assert raised.value.code == "residency_not_proven"


def test_a_provider_gives_a_valid_siret_stored_compact(city):
    membership = membership_request(
        user=UserFactory(),
        city=city,
        college=college(city, "providers"),
        siret="732 829 320 00074",
    )
    assert (membership.status, membership.siret) == ("pending", VALID_SIRET)


@pytest.mark.parametrize("siret", [INVALID_SIRET, "", "7328293200007", "ABCDEFGHIJKLMN"])
def test_a_provider_with_an_invalid_siret_is_refused(city, siret):
    user = UserFactory()
    with writes_nothing(), pytest.raises(InvalidSiret):
        membership_request(user=user, city=city, college=college(city, "providers"), siret=siret)


def test_a_provider_does_not_need_a_postal_code_nor_a_resident_a_siret(city):
    provider = membership_request(
        user=UserFactory(), city=city, college=college(city, "providers"), siret=VALID_SIRET
    )
    resident = membership_request(
        user=UserFactory(),
        city=city,
        college=college(city, "residents"),
        postal_code="01000",
        postal_address="1 rue de la Paix",
    )
    assert provider.postal_code == resident.siret == ""


def test_a_resident_gives_a_postal_address(city):
    user = UserFactory()
    with writes_nothing(), pytest.raises(InvalidInput):
        membership_request(
            user=user, city=city, college=college(city, "residents"), postal_code="01000"
        )


def test_nobody_asks_to_join_the_municipality(city):
    user = UserFactory()
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_request(
            user=user, city=city, college=college(city, "municipality"), postal_code="01000"
        )


def test_a_college_of_another_city_is_refused(city, other_city):
    user = UserFactory()
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_request(
            user=user, city=city, college=college(other_city, "residents"), postal_code="01000"
        )


def test_one_live_membership_per_city(city):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(AlreadyMember):
        request(city, "providers", user=pending.user)
    assert Membership.objects.filter(user=pending.user).count() == 1


def test_an_approved_member_cannot_ask_again(city, resident):
    with writes_nothing(), pytest.raises(AlreadyMember):
        request(city, "residents", user=resident.user)


def test_a_refused_or_revoked_person_may_ask_again(city, staff):
    refused = request(city, "residents")
    membership_refuse(membership=refused, by=staff, reason="adresse introuvable")
    again = request(city, "residents", user=refused.user)
    assert again.status == "pending"

    revoked = join(city, "providers", by=staff)
    membership_revoke(membership=revoked, by=staff)
    assert request(city, "providers", user=revoked.user).status == "pending"


def test_a_person_may_belong_to_two_cities(city, other_city):
    user = UserFactory()
    request(city, "residents", user=user)
    elsewhere = membership_request(
        user=user,
        city=other_city,
        college=college(other_city, "residents"),
        postal_code="74000",
        postal_address="2 quai de la Tournette",
    )
    assert elsewhere.city == other_city

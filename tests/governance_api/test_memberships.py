"""Joining a city and the municipality's decisions:

POST cities/{slug}/memberships, GET cities/{slug}/memberships/me, and for the city's staff
GET cities/{slug}/memberships?status=, POST memberships/{id}/approve|refuse|revoke.
"""

from __future__ import annotations

import pytest

from governance.models import Membership, MembershipStatus
from identity.models import Credential
from ledger.models import Transaction
from tests.factories import UserFactory

from .support import (
    ADDRESS,
    INVALID_SIRET,
    VALID_SIRET,
    appoint,
    ask,
    assert_error,
    world,
)

pytestmark = pytest.mark.django_db

RESIDENT_REQUEST = {"college": "residents", "postal_address": ADDRESS, "postal_code": "01000"}


# --- asking to join ----------------------------------------------------------------------


def test_a_person_asks_to_join_the_residents(city, outsider, as_):
    before = Transaction.objects.filter(chain=city.chain).count()

    response = as_(outsider).post("cities/bourg/memberships", RESIDENT_REQUEST)

    assert response.status_code == 201, response.content
    body = response.json()
    membership = Membership.objects.get(user=outsider, city=city)
    assert body["public_id"] == membership.public_id
    assert body["status"] == "pending"
    assert body["college"]["slug"] == "residents"
    assert body["did"] == outsider.primary_identity.did
    # Their own evidence comes back to them; nothing reaches the ledger before approval.
    assert (body["postal_address"], body["postal_code"]) == (ADDRESS, "01000")
    assert body["credential"] is None
    assert Transaction.objects.filter(chain=city.chain).count() == before


def test_a_provider_asks_to_join_with_a_siret(city, outsider, as_):
    response = as_(outsider).post(
        "cities/bourg/memberships/", {"college": "providers", "siret": "732 829 320 00074"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["siret"] == VALID_SIRET


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"college": "providers", "siret": INVALID_SIRET}, "invalid_siret", None),
        ({**RESIDENT_REQUEST, "postal_code": "75001"}, "residency_not_proven", None),
        ({"college": "residents", "postal_code": "01000"}, "invalid", "postal_address"),
        ({"college": "residents", "postal_address": ADDRESS}, "invalid", "postal_code"),
        ({"college": "providers"}, "invalid", "siret"),
        ({"college": "pirates"}, "invalid", "college"),
        ({}, "invalid", "college"),
        ({**RESIDENT_REQUEST, "postal_address": "x" * 301}, "invalid", "postal_address"),
    ],
)
def test_a_request_with_bad_evidence_is_400(city, outsider, as_, data, code, field):
    before = world()

    error = assert_error(as_(outsider).post("cities/bourg/memberships", data), 400, code)

    if field:
        assert field in error["details"]
    assert world() == before


def test_a_body_that_is_not_json_is_400(city, outsider, as_):
    assert_error(as_(outsider).post("cities/bourg/memberships", raw="{nope"), 400)


def test_nobody_asks_to_join_the_municipality(city, outsider, as_):
    response = as_(outsider).post("cities/bourg/memberships", {"college": "municipality"})

    assert_error(response, 403, "not_allowed")
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_second_request_in_the_same_city_is_409(city, applicant, resident, as_):
    for member in (applicant, resident):
        response = as_(member).post("cities/bourg/memberships", RESIDENT_REQUEST)
        assert_error(response, 409, "already_member")


def test_a_member_of_another_city_may_ask_to_join_this_one(city, foreigner, as_):
    response = as_(foreigner).post("cities/bourg/memberships", RESIDENT_REQUEST)

    assert response.status_code == 201, response.content


def test_an_anonymous_request_is_401(city, anonymous):
    response = anonymous.post("cities/bourg/memberships", RESIDENT_REQUEST)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_request_to_an_unknown_city_is_404(city, outsider, as_):
    assert_error(as_(outsider).post("cities/nowhere/memberships", RESIDENT_REQUEST), 404)


# --- my membership -----------------------------------------------------------------------


def test_i_see_my_pending_request(applicant, as_):
    response = as_(applicant).get("cities/bourg/memberships/me")

    assert response.status_code == 200, response.content
    assert response.json()["public_id"] == applicant.public_id
    assert response.json()["status"] == "pending"


def test_once_approved_i_hold_my_credential(resident, as_, anonymous):
    body = as_(resident).get("cities/bourg/memberships/me").json()

    assert body["status"] == "approved"
    credential = body["credential"]
    assert credential == Credential.objects.get(pk=resident.credential_id).document
    assert credential["credentialSubject"]["id"] == resident.identity.did
    check = anonymous.post("/api/v1/identity/credentials/verify", {"credential": credential})
    assert check.json()["verified"] is True, check.json()


def test_a_refused_applicant_reads_why(applicant, staff, as_):
    as_(staff).post(
        f"cities/bourg/memberships/{applicant.public_id}/refuse", {"reason": "Adresse hors ville"}
    )

    body = as_(applicant).get("cities/bourg/memberships/me").json()

    assert (body["status"], body["reason"]) == ("refused", "Adresse hors ville")


def test_without_a_membership_mine_is_404(city, outsider, foreigner, as_):
    assert_error(as_(outsider).get("cities/bourg/memberships/me"), 404)
    assert_error(as_(foreigner).get("cities/bourg/memberships/me"), 404)


def test_mine_needs_an_account(city, anonymous):
    assert_error(anonymous.get("cities/bourg/memberships/me"), 401)


# --- the municipality's list -------------------------------------------------------------


def test_staff_list_the_pending_requests_with_their_evidence(city, staff, applicant, resident, as_):
    provider_request = ask(city, "providers")

    response = as_(staff).get("cities/bourg/memberships", {"status": "pending"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    rows = {row["public_id"]: row for row in body["results"]}
    assert set(rows) == {applicant.public_id, provider_request.public_id}
    row = rows[applicant.public_id]
    assert (row["postal_address"], row["postal_code"]) == (ADDRESS, "01000")
    assert row["postal_code_in_city"] is True
    assert row["person"]["email"] == applicant.user.email
    assert row["did"] == applicant.identity.did
    assert rows[provider_request.public_id]["siret"] == VALID_SIRET


def test_pending_is_the_default_and_approved_lists_the_members(
    city, mayor, staff, applicant, resident, provider, as_
):
    pending = as_(staff).get("cities/bourg/memberships").json()
    members = as_(staff).get("cities/bourg/memberships", {"status": "approved"}).json()

    assert [row["public_id"] for row in pending["results"]] == [applicant.public_id]
    assert {row["public_id"] for row in members["results"]} == {
        mayor.public_id,
        resident.public_id,
        provider.public_id,
    }


def test_the_list_is_paginated(city, staff, as_):
    for _ in range(3):
        ask(city, "residents")

    body = as_(staff).get("cities/bourg/memberships", {"limit": 2}).json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_an_unknown_status_filter_is_400(city, staff, as_):
    assert_error(as_(staff).get("cities/bourg/memberships", {"status": "refused"}), 400)


@pytest.mark.parametrize("who", ["resident", "provider", "applicant", "outsider", "other_mayor"])
def test_only_this_citys_staff_list_requests(request, city, applicant, as_, who):
    response = as_(request.getfixturevalue(who)).get("cities/bourg/memberships")

    assert_error(response, 403, "not_allowed")
    assert ADDRESS not in response.content.decode()


def test_the_list_needs_an_account(city, applicant, anonymous):
    assert_error(anonymous.get("cities/bourg/memberships"), 401)


# --- approve, refuse, revoke ---------------------------------------------------------------


def test_staff_approve_a_request_and_the_city_issues_the_credential(
    city, mayor, staff, applicant, as_
):
    response = as_(staff).post(f"cities/bourg/memberships/{applicant.public_id}/approve")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    applicant.refresh_from_db()
    assert applicant.status == MembershipStatus.APPROVED
    assert applicant.credential.issuer == city.identity
    entry = Transaction.objects.get(chain=city.chain, kind="governance.membership.approve")
    assert entry.actor == mayor.identity.did
    assert entry.payload["membership"] == applicant.public_id
    assert ADDRESS not in str(entry.payload)


def test_approving_twice_is_409(city, staff, resident, as_):
    response = as_(staff).post(f"cities/bourg/memberships/{resident.public_id}/approve")

    assert_error(response, 409, "wrong_state")


@pytest.mark.parametrize("action", ["approve", "refuse", "revoke"])
@pytest.mark.parametrize("who", ["resident", "applicant", "outsider", "other_mayor", "foreigner"])
def test_only_this_citys_staff_decide(request, city, applicant, resident, as_, action, who):
    target = resident if action == "revoke" else applicant
    client = as_(request.getfixturevalue(who))
    before = world()

    response = client.post(
        f"cities/bourg/memberships/{target.public_id}/{action}", {"reason": "non"}
    )

    assert_error(response, 403, "not_allowed")
    assert world() == before


@pytest.mark.parametrize("action", ["approve", "refuse", "revoke"])
def test_decisions_need_an_account(city, applicant, anonymous, action):
    path = f"cities/bourg/memberships/{applicant.public_id}/{action}"
    assert_error(anonymous.post(path, {"reason": "non"}), 401)


def test_staff_cannot_decide_on_another_citys_request_through_their_city(
    city, other_city, staff, other_mayor, as_
):
    elsewhere = ask(other_city, "residents")

    # Through their own city's address the request does not exist...
    response = as_(staff).post(f"cities/bourg/memberships/{elsewhere.public_id}/approve")
    assert_error(response, 404)
    # ...and through the other city's they are not its staff.
    response = as_(staff).post(f"cities/annecy/memberships/{elsewhere.public_id}/approve")
    assert_error(response, 403, "not_allowed")
    elsewhere.refresh_from_db()
    assert elsewhere.status == MembershipStatus.PENDING


def test_an_unknown_membership_is_404(city, staff, as_):
    assert_error(as_(staff).post("cities/bourg/memberships/nope/approve"), 404)


def test_staff_refuse_a_request_saying_why(city, staff, applicant, as_):
    response = as_(staff).post(
        f"cities/bourg/memberships/{applicant.public_id}/refuse",
        {"reason": "Adresse introuvable"},
    )

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == (
        "refused",
        "Adresse introuvable",
    )
    entry = Transaction.objects.get(chain=city.chain, kind="governance.membership.refuse")
    assert "Adresse introuvable" not in str(entry.payload)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 301}])
def test_a_refusal_without_a_reason_is_400(city, staff, applicant, as_, body):
    before = world()

    response = as_(staff).post(f"cities/bourg/memberships/{applicant.public_id}/refuse", body)

    assert_error(response, 400, "invalid")
    assert world() == before


def test_refusing_a_decided_request_is_409(city, staff, resident, as_):
    response = as_(staff).post(
        f"cities/bourg/memberships/{resident.public_id}/refuse", {"reason": "trop tard"}
    )

    assert_error(response, 409, "wrong_state")


def test_staff_revoke_a_member_and_their_credential(city, staff, resident, as_):
    response = as_(staff).post(f"cities/bourg/memberships/{resident.public_id}/revoke")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    resident.refresh_from_db()
    assert resident.credential.is_revoked


def test_revoking_a_pending_request_is_409_and_staff_keep_their_own_seat(
    city, mayor, staff, applicant, as_
):
    response = as_(staff).post(f"cities/bourg/memberships/{applicant.public_id}/revoke")
    assert_error(response, 409, "wrong_state")

    response = as_(staff).post(f"cities/bourg/memberships/{mayor.public_id}/revoke")
    assert_error(response, 403, "not_allowed")


def test_a_second_staff_member_may_decide_too(city, operator, staff, applicant, as_):
    colleague = appoint(city, operator, UserFactory())

    response = as_(colleague).post(f"cities/bourg/memberships/{applicant.public_id}/approve")

    assert response.status_code == 200, response.content

"""Municipality staff decide on requests; approval issues a membership credential signed by the
city's DID, whose digest (never the address) goes on the city chain. Also: the operator
appoints municipality staff, and staff revoke a membership (and its credential)."""

from __future__ import annotations

import json

import pytest

from governance.errors import AlreadyMember, InvalidInput, NotAllowed, WrongState
from governance.services import (
    membership_appoint,
    membership_approve,
    membership_refuse,
    membership_revoke,
    sha256_text,
)
from identity import vc
from tests.factories import UserFactory

from .helpers import VALID_SIRET, appoint, city_transactions, join, request, writes_nothing

pytestmark = pytest.mark.django_db


def test_staff_approve_and_the_city_issues_a_membership_credential(city, staff):
    pending = request(city, "residents")
    member = membership_approve(membership=pending, by=staff)
    assert (member.status, member.decided_by) == ("approved", staff)
    assert member.decided_at is not None
    credential = member.credential
    document = credential.document
    assert document["type"] == ["VerifiableCredential", "CityMembershipCredential"]
    assert document["issuer"] == city.identity.did
    assert document["credentialSubject"] == {
        "id": member.identity.did,
        "city": "bourg",
        "college": "residents",
        "membership": member.public_id,
    }
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    result = vc.proof_verify(document)
    assert (result.verified, result.issuer) == (True, city.identity.did), result.reason


def test_a_credential_altered_after_signing_does_not_verify(city, staff):
    member = join(city, "residents", by=staff)
    document = json.loads(json.dumps(member.credential.document))
    document["credentialSubject"]["college"] = "municipality"
    assert vc.proof_verify(document).verified is False


def test_the_city_chain_holds_the_credential_digest_never_the_address(city, staff):
    member = join(city, "residents", by=staff)
    (issued,) = city_transactions(city, "identity.credential.issue").filter(
        payload__subject=member.identity.did
    )
    (approved,) = city_transactions(city, "governance.membership.approve")
    assert issued.actor == city.identity.did
    assert issued.payload["digest"] == member.credential.digest
    assert issued.payload["subject"] == member.identity.did
    assert approved.actor == staff.primary_identity.did
    assert approved.payload == {
        "city": "bourg",
        "membership": member.public_id,
        "member": member.identity.did,
        "college": "residents",
        "credential": member.credential.digest,
    }
    assert approved.index == issued.index + 1
    assert vc.credential_digest(member.credential.document) == member.credential.digest
    for tx in city_transactions(city):
        text = json.dumps(tx.payload, ensure_ascii=False)
        assert "Lilas" not in text and member.postal_code not in text.split('"')


def test_a_provider_approval_keeps_the_siret_off_the_ledger(city, staff):
    join(city, "providers", by=staff)
    for tx in city_transactions(city):
        assert VALID_SIRET not in json.dumps(tx.payload)


def test_a_resident_cannot_approve(city, resident):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_approve(membership=pending, by=resident.user)


def test_the_operator_is_not_municipality_staff(city, operator):
    pending = request(city, "providers")
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_approve(membership=pending, by=operator)


def test_staff_of_another_city_cannot_approve(city, other_city, operator):
    foreign_staff = appoint(other_city, operator).user
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_approve(membership=pending, by=foreign_staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_refuse(membership=pending, by=foreign_staff, reason="non")


def test_revoked_staff_cannot_approve(city, operator, mayor, staff):
    other = appoint(city, operator)
    membership_revoke(membership=mayor, by=other.user)
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_approve(membership=pending, by=staff)


def test_a_request_is_decided_once(city, staff):
    member = join(city, "residents", by=staff)
    with writes_nothing(), pytest.raises(WrongState):
        membership_approve(membership=member, by=staff)
    with writes_nothing(), pytest.raises(WrongState):
        membership_refuse(membership=member, by=staff, reason="trop tard")


def test_a_refusal_says_why_and_the_ledger_holds_only_the_digest_of_the_reason(city, staff):
    pending = request(city, "residents")
    refused = membership_refuse(
        membership=pending, by=staff, reason="  Justificatif de domicile illisible "
    )
    assert (refused.status, refused.reason) == ("refused", "Justificatif de domicile illisible")
    assert refused.credential is None
    (entry,) = city_transactions(city, "governance.membership.refuse")
    assert entry.actor == staff.primary_identity.did
    assert entry.payload == {
        "membership": pending.public_id,
        "reason": sha256_text("Justificatif de domicile illisible"),
    }
    assert not city_transactions(city, "identity.credential.issue").filter(
        payload__subject=pending.identity.did
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refusal_without_a_reason_is_refused(city, staff, reason):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(InvalidInput):
        membership_refuse(membership=pending, by=staff, reason=reason)


def test_a_resident_cannot_refuse(city, resident):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_refuse(membership=pending, by=resident.user, reason="non")


def test_the_operator_appoints_municipality_staff(city, operator):
    user = UserFactory()
    staff = membership_appoint(operator=operator, user=user, city=city)
    assert (staff.status, staff.college.slug, staff.decided_by) == (
        "approved",
        "municipality",
        operator,
    )
    assert vc.proof_verify(staff.credential.document).verified
    (entry,) = city_transactions(city, "governance.membership.appoint")
    assert entry.actor == operator.primary_identity.did
    assert entry.payload["member"] == user.primary_identity.did
    assert entry.payload["credential"] == staff.credential.digest


def test_only_the_operator_appoints(city, staff):
    user = UserFactory()
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_appoint(operator=staff, user=user, city=city)


def test_a_member_cannot_be_appointed_on_top_of_a_live_membership(city, operator, resident):
    with writes_nothing(), pytest.raises(AlreadyMember):
        membership_appoint(operator=operator, user=resident.user, city=city)


def test_revocation_revokes_the_credential_and_is_on_the_ledger(city, staff, resident):
    revoked = membership_revoke(membership=resident, by=staff)
    assert revoked.status == "revoked"
    revoked.credential.refresh_from_db()
    assert revoked.credential.is_revoked
    assert revoked.credential.revocation_reason == "membership-revoked"
    (withdrawn,) = city_transactions(city, "identity.credential.revoke")
    assert withdrawn.actor == city.identity.did
    assert withdrawn.payload["digest"] == revoked.credential.digest
    (entry,) = city_transactions(city, "governance.membership.revoke")
    assert entry.actor == staff.primary_identity.did
    assert entry.payload == {
        "membership": resident.public_id,
        "member": resident.identity.did,
        "college": "residents",
        "reason": sha256_text("revoked"),  # the reason's digest: free text stays off the ledger
    }


def test_the_operator_may_revoke_too(city, operator, resident):
    assert membership_revoke(membership=resident, by=operator).status == "revoked"


def test_a_member_cannot_revoke_another(city, staff, resident, provider):
    with writes_nothing(), pytest.raises(NotAllowed):
        membership_revoke(membership=provider, by=resident.user)


@pytest.mark.parametrize("state", ["pending", "refused", "revoked"])
def test_only_an_approved_membership_is_revoked(city, staff, state):
    membership = request(city, "residents")
    if state == "refused":
        membership = membership_refuse(membership=membership, by=staff, reason="non")
    elif state == "revoked":
        membership = membership_revoke(
            membership=membership_approve(membership=membership, by=staff), by=staff
        )
    with writes_nothing(), pytest.raises(WrongState):
        membership_revoke(membership=membership, by=staff)

"""Issuing and revoking W3C VC 2.0 credentials (eddsa-jcs-2022), each recorded on the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from identity import services, vc
from identity.errors import CredentialRevoked, NoCustodialKey, NotYourIdentity
from identity.models import Credential
from identity.selectors import credential_verify
from identity.services import (
    KIND_CREDENTIAL_ISSUE,
    KIND_CREDENTIAL_REVOKE,
    credential_issue,
    credential_revoke,
    identity_create_custodial,
)
from ledger.models import NETWORK_CHAIN_SLUG, Transaction
from ledger.services import chain_create
from tests.factories import UserFactory

from .support import world_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def issuer(db):
    return UserFactory(email="mairie@example.org").primary_identity


@pytest.fixture
def credential(issuer, user) -> Credential:
    return credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={"city": "montpellier", "since": "2024"},
    )


def test_an_issued_credential_verifies(credential, issuer, user):
    document = credential.document

    result = vc.proof_verify(document)

    assert result.verified, result.reason
    assert result.issuer == issuer.did
    assert document["issuer"] == issuer.did
    assert document["type"] == ["VerifiableCredential", "ResidentCredential"]
    assert document["@context"][0] == vc.VC_CONTEXT
    assert document["credentialSubject"] == {
        "id": user.primary_identity.did,
        "city": "montpellier",
        "since": "2024",
    }
    assert document["id"] == f"urn:smartb:credential:{credential.public_id}"
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert document["proof"]["verificationMethod"] == issuer.verification_method
    assert credential.kind == "ResidentCredential"
    assert credential.subject_did == user.primary_identity.did


def test_the_credential_digest_is_on_the_ledger(credential, issuer, user):
    entry = Transaction.objects.get(kind=KIND_CREDENTIAL_ISSUE)

    assert credential.digest == vc.credential_digest(credential.document)
    assert entry.chain.slug == NETWORK_CHAIN_SLUG
    assert entry.actor == issuer.did
    assert entry.payload == {
        "credential": credential.public_id,
        "type": "ResidentCredential",
        "issuer": issuer.did,
        "subject": user.primary_identity.did,
        "digest": credential.digest,
    }


def test_the_ledger_holds_no_claim_of_the_credential(issuer, user):
    credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={"address": "1 place de la Comédie", "name": "Alice Martin"},
    )

    payload = str(Transaction.objects.get(kind=KIND_CREDENTIAL_ISSUE).payload)

    assert "Comédie" not in payload and "Alice" not in payload


def test_a_credential_can_be_recorded_on_a_city_chain(issuer, user):
    chain_create(slug="montpellier", name="Montpellier")

    credential = credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={},
        chain="montpellier",
    )

    entry = Transaction.objects.get(kind=KIND_CREDENTIAL_ISSUE)
    assert entry.chain.slug == "montpellier"
    assert entry.payload["digest"] == credential.digest


def test_validity_dates_are_written_in_utc(issuer, user):
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 7, 1, 9, 30, tzinfo=paris)  # 07:30 UTC
    end = datetime(2027, 1, 1, 0, 0, tzinfo=paris)  # 2026-12-31 23:00 UTC

    credential = credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={},
        valid_from=start,
        valid_until=end,
    )

    assert credential.document["validFrom"] == "2026-07-01T07:30:00Z"
    assert credential.document["validUntil"] == "2026-12-31T23:00:00Z"
    before_start = vc.proof_verify(credential.document, now=datetime(2026, 7, 1, 7, 29, tzinfo=UTC))
    assert before_start.reason == "not yet valid"
    assert vc.proof_verify(
        credential.document, now=datetime(2026, 7, 1, 7, 31, tzinfo=UTC)
    ).verified
    assert vc.proof_verify(credential.document, now=end - timedelta(minutes=1)).verified
    assert vc.proof_verify(credential.document, now=end + timedelta(minutes=1)).reason == "expired"


def test_a_self_custody_did_cannot_issue_on_the_platform(user, self_custody_did):
    before = world_state()

    with pytest.raises(NoCustodialKey):
        credential_issue(
            issuer=self_custody_did,
            subject_did=user.primary_identity.did,
            types=["ResidentCredential"],
            claims={},
        )

    assert world_state() == before


def test_a_credential_that_cannot_reach_the_ledger_is_not_issued(issuer, user, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "ledger_append", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        credential_issue(
            issuer=issuer,
            subject_did=user.primary_identity.did,
            types=["ResidentCredential"],
            claims={},
        )

    assert world_state() == before


def test_the_issuer_revokes_a_credential(credential, issuer):
    credential_revoke(credential=credential, by=issuer, reason="moved_away")

    credential.refresh_from_db()
    assert credential.is_revoked
    assert credential.revocation_reason == "moved_away"
    entry = Transaction.objects.get(kind=KIND_CREDENTIAL_REVOKE)
    assert entry.actor == issuer.did
    assert entry.payload == {
        "credential": credential.public_id,
        "digest": credential.digest,
        "reason": "moved_away",
    }
    assert vc.proof_verify(credential.document).verified  # the proof itself still holds
    assert credential_verify(credential.document) == {"verified": False, "reason": "revoked"}


def test_another_did_of_the_issuers_account_may_revoke(credential, issuer):
    spare = identity_create_custodial(user=issuer.user, label="spare")

    credential_revoke(credential=credential, by=spare)

    assert Transaction.objects.get(kind=KIND_CREDENTIAL_REVOKE).actor == spare.did


def test_revoking_twice_is_refused(credential, issuer):
    credential_revoke(credential=credential, by=issuer)
    before = world_state()

    with pytest.raises(CredentialRevoked):
        credential_revoke(credential=credential, by=issuer)

    assert world_state() == before
    assert Transaction.objects.filter(kind=KIND_CREDENTIAL_REVOKE).count() == 1


@pytest.mark.parametrize("who", ["subject", "stranger"])
def test_only_the_issuer_revokes(credential, user, who):
    by = user.primary_identity if who == "subject" else UserFactory().primary_identity
    before = world_state()

    with pytest.raises(NotYourIdentity):
        credential_revoke(credential=credential, by=by)

    assert world_state() == before
    credential.refresh_from_db()
    assert not credential.is_revoked
    assert credential_verify(credential.document)["verified"]


def test_a_revocation_that_cannot_reach_the_ledger_does_not_happen(credential, issuer, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(services, "ledger_append", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        credential_revoke(credential=credential, by=issuer)

    assert world_state() == before

"""A curator's decision: recomputation checked, never their own claim, never without the
required evidence; an approval is a credential signed by the curator's DID and a batch of
tokens in the claimant's portfolio."""

from __future__ import annotations

import copy
import json

import pytest

from identity.selectors import credential_verify
from impact.errors import MissingEvidence, NotCurator, OwnClaim, QuantityMismatch, WrongState
from impact.models import Batch, Claim, Holding, Verification
from impact.services import claim_verify, curator_grant, curator_revoke
from ledger.models import Transaction

from .helpers import approve, portfolio, submitted_claim, writes_nothing


def test_approval_issues_a_credential_signed_by_the_curator_and_a_batch(resident, curator_member):
    claim = submitted_claim(resident, "1000")
    assert claim.quantity == 193  # 1000 km × 0.193 kg CO2e/km, in kg

    verification = approve(claim, curator_member)

    claim.refresh_from_db()
    assert claim.state == "approved"
    credential = verification.credential
    assert credential.issuer.did == curator_member.identity.did
    subject = credential.document["credentialSubject"]
    assert subject["id"] == resident.identity.did
    assert subject["impactClaim"] == claim.public_id
    assert subject["quantity"] == 193 and subject["unit"] == "kg CO2e"
    assert credential_verify(credential.document)["verified"] is True
    entry = Transaction.objects.get(kind="impact.claim.verify", payload__claim=claim.public_id)
    assert entry.actor == curator_member.identity.did
    assert entry.payload["credential"] == credential.digest
    batch = Batch.objects.get(claim=claim)
    assert (batch.first_serial, batch.last_serial, batch.quantity) == (1, 193, 193)
    assert batch.vintage == 2026 and batch.number == 1
    holding = Holding.objects.get(batch=batch)
    assert holding.portfolio == portfolio(resident) and holding.state == "available"


def test_a_credential_altered_by_one_byte_fails(resident, curator_member):
    document = approve(submitted_claim(resident), curator_member).credential.document
    altered = copy.deepcopy(document)
    altered["credentialSubject"]["quantity"] = 194
    assert credential_verify(altered)["verified"] is False
    # One byte of the serialised document, anywhere in the subject.
    text = json.dumps(document)
    position = text.index('"kg CO2e"') + 1
    flipped = json.loads(text[:position] + "K" + text[position + 1 :])
    assert credential_verify(flipped)["verified"] is False


def test_a_claim_with_missing_evidence_cannot_be_approved(resident, curator_member):
    claim = submitted_claim(resident, evidence=False)
    with writes_nothing(), pytest.raises(MissingEvidence):
        approve(claim, curator_member)
    assert Claim.objects.get(pk=claim.pk).state == "submitted"


def test_it_can_still_be_rejected_for_insufficient_evidence(resident, curator_member):
    claim = submitted_claim(resident, evidence=False)
    verification = claim_verify(
        claim=claim,
        by=curator_member.user,
        decision="reject",
        recomputed_quantity=claim.quantity,
        reason_code="insufficient_evidence",
    )
    claim.refresh_from_db()
    assert claim.state == "rejected" and claim.reason_code == "insufficient_evidence"
    assert verification.credential is None
    assert not Batch.objects.filter(claim=claim).exists()


def test_a_curator_cannot_verify_their_own_claim(curator_member):
    claim = submitted_claim(curator_member)
    with writes_nothing(), pytest.raises(OwnClaim):
        approve(claim, curator_member)


def test_a_member_who_is_not_a_curator_cannot_verify(resident, neighbour):
    claim = submitted_claim(resident)
    with writes_nothing(), pytest.raises(NotCurator):
        approve(claim, neighbour)


def test_a_revoked_curator_cannot_verify(resident, curator_member, staff):
    claim = submitted_claim(resident)
    curator_revoke(curator=curator_member.curator_roles.get(), by=staff)
    with writes_nothing(), pytest.raises(NotCurator):
        approve(claim, curator_member)


def test_the_recomputation_must_match_the_methodology(resident, curator_member):
    claim = submitted_claim(resident, "1000")
    with writes_nothing(), pytest.raises(QuantityMismatch):
        claim_verify(
            claim=claim, by=curator_member.user, decision="approve", recomputed_quantity=200
        )


def test_a_rejection_needs_a_reason_code(resident, curator_member):
    from impact.errors import InvalidInput

    claim = submitted_claim(resident)
    with writes_nothing(), pytest.raises(InvalidInput):
        claim_verify(
            claim=claim, by=curator_member.user, decision="reject", recomputed_quantity=193
        )


def test_a_disputed_claim_can_be_decided_later_and_only_once(resident, curator_member, staff, city):
    from tests.governance.helpers import join

    claim = submitted_claim(resident)
    claim_verify(
        claim=claim,
        by=curator_member.user,
        decision="dispute",
        recomputed_quantity=193,
        reason_code="other",
    )
    assert Claim.objects.get(pk=claim.pk).state == "disputed"
    second = join(city, "residents", by=staff)
    curator_grant(city=city, membership=second, by=staff)
    approve(claim, second)
    assert Claim.objects.get(pk=claim.pk).state == "approved"
    with writes_nothing(), pytest.raises(WrongState):
        approve(claim, curator_member)
    assert Verification.objects.filter(claim=claim, decision="approve").count() == 1


def test_a_draft_is_not_verified(resident, curator_member):
    from .helpers import add_trips, draft_claim

    claim = draft_claim(resident)
    add_trips(claim)
    with writes_nothing(), pytest.raises(WrongState):
        approve(claim, curator_member)

"""Consents: the resident gives or refuses a request, then may withdraw a consent given;
each state is a consent receipt (Kantara CR v1.1 / ISO/IEC 27560 fields) whose digest the
resident's DID signs on the ledger."""

from __future__ import annotations

import pytest

from ledger.models import Transaction
from marketplace.data.errors import WrongState
from marketplace.data.services.consents import (
    NotYourConsent,
    consent_decide,
    consent_revoke,
)
from marketplace.services._common import sha256_json

from .helpers import agree, answer, consent_of, download

RECEIPT_FIELDS = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}


def test_a_consent_given_is_a_receipt_signed_by_the_resident(personal_offer, consumer, residents):
    alice = residents[0]
    agreement = agree(personal_offer, consumer)
    consent = answer(agreement, alice)
    assert consent.status == "given" and consent.decided_at is not None
    assert set(consent.receipt) >= RECEIPT_FIELDS
    assert consent.receipt["event"]["type"] == "given"
    assert consent.receipt_digest == sha256_json(consent.receipt)
    entry = consent.decision_entry
    assert (entry.kind, entry.actor) == ("marketplace.data.consent.give", alice.identity.did)
    assert entry.payload["receipt_digest"] == consent.receipt_digest
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_a_refusal_is_signed_too_and_keeps_the_agreement_waiting(
    personal_offer, consumer, residents
):
    agreement = agree(personal_offer, consumer)
    consent = answer(agreement, residents[0], give=False)
    assert consent.status == "refused"
    assert consent.decision_entry.kind == "marketplace.data.consent.refuse"
    agreement.refresh_from_db()
    assert agreement.status == "pending_consent"


def test_only_the_subject_answers_and_only_once(personal_offer, consumer, residents):
    alice, bob, _ = residents
    agreement = agree(personal_offer, consumer)
    consent = consent_of(agreement, alice)
    with pytest.raises(NotYourConsent):
        consent_decide(consent=consent, user=bob.user, give=True)
    consent_decide(consent=consent, user=alice.user, give=True)
    with pytest.raises(WrongState):
        consent_decide(consent=consent, user=alice.user, give=False)


def test_a_withdrawal_is_signed_and_asks_the_consumer_to_purge(personal_offer, consumer, residents):
    alice = residents[0]
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    download(agreement, consumer)
    consent = consent_revoke(consent=consent_of(agreement, alice), user=alice.user)
    assert consent.status == "revoked"
    assert consent.receipt["event"]["type"] == "withdrawn"
    assert [e["type"] for e in consent.receipt["history"]] == ["requested", "given"]
    assert consent.revocation_entry.actor == alice.identity.did
    purge = consent.purges.get()
    assert purge.consumer == consumer
    assert purge.entry.payload["subject"] == alice.identity.did


def test_no_purge_when_nothing_was_delivered(personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    answer(agreement, residents[0])
    consent = consent_revoke(consent=consent_of(agreement, residents[0]), user=residents[0].user)
    assert not consent.purges.exists()


def test_a_refused_consent_cannot_be_withdrawn(personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    consent = answer(agreement, residents[0], give=False)
    before = Transaction.objects.count()
    with pytest.raises(WrongState):
        consent_revoke(consent=consent, user=residents[0].user)
    assert Transaction.objects.count() == before

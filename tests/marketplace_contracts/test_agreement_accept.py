"""Agreements: a consumer accepts a quote; the acceptance is signed by the consumer's DID
with the agreement policy's digest, the producer's signature is its offer's; an agreement on
personal data waits for consents and asks each data subject."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.signed_actions import action_execute, action_prepare
from ledger.signing import KeySigner
from marketplace.data.errors import InvalidInput, NotAllowed
from marketplace.data.models import Agreement, Consent
from marketplace.data.services.contracts import (
    AcceptOffer,
    AlreadyAccepted,
    agreement_accept,
    agreement_id_for,
    agreement_revoke,
    quote_create,
)
from marketplace.services._common import sha256_json
from tests.marketplace.helpers import go_self_custody

from .helpers import agree


def test_the_consumer_signs_the_acceptance_and_the_producer_its_offer(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    assert agreement.status == "active"
    accept = agreement.consumer_entry
    assert accept.kind == "marketplace.data.agreement.accept"
    assert accept.actor == consumer.primary_identity.did
    assert (
        accept.payload["policy_digest"] == agreement.policy_digest == sha256_json(agreement.policy)
    )
    assert accept.payload["offer_digest"] == open_offer.policy_digest
    assert agreement.producer_entry == open_offer.entry
    assert agreement.producer_entry.actor != accept.actor
    assert agreement.policy["@type"] == "Agreement"
    assert agreement.policy["assignee"] == consumer.primary_identity.did
    assert agreement.policy["uid"] == f"urn:smartb:agreement:{agreement.public_id}"
    assert agreement.max_requests == 100


def test_a_provider_signs_for_its_organisation(open_offer, consumer, provider):
    quote = quote_create(offer=open_offer, consumer=consumer)
    agreement = agreement_accept(quote=quote, consumer=consumer, provider=provider)
    assert agreement.consumer_entry.actor == provider.identity.did
    assert agreement.policy["assignee"] == provider.identity.did


def test_a_quote_is_accepted_once(open_offer, consumer):
    quote = quote_create(offer=open_offer, consumer=consumer)
    agreement_accept(quote=quote, consumer=consumer)
    with pytest.raises(AlreadyAccepted):
        agreement_accept(quote=quote, consumer=consumer)


def test_only_the_account_quoted_accepts(open_offer, consumer, residents):
    quote = quote_create(offer=open_offer, consumer=consumer)
    with pytest.raises(NotAllowed):
        agreement_accept(quote=quote, consumer=residents[0].user)
    assert not Agreement.objects.exists()


def test_the_purposes_must_be_among_the_offer_s(personal_offer, consumer):
    quote = quote_create(offer=personal_offer, consumer=consumer)
    with pytest.raises(InvalidInput):
        agreement_accept(quote=quote, consumer=consumer, purposes=["marketing"])
    with pytest.raises(InvalidInput):
        agreement_accept(quote=quote, consumer=consumer, purposes=[])
    agreement = agreement_accept(quote=quote, consumer=consumer, purposes=["research"])
    assert agreement.purposes == ["research"]


def test_personal_data_waits_for_each_subject_s_consent(personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    assert agreement.status == "pending_consent"
    asked = Consent.objects.filter(agreement=agreement)
    assert sorted(c.subject.did for c in asked) == sorted(m.identity.did for m in residents)
    for consent in asked:
        assert consent.status == "requested"
        assert consent.request_entry.payload["receipt_digest"] == consent.receipt_digest
        assert consent.receipt["piiPrincipalId"] == consent.subject.did
        assert consent.receipt["services"][0]["purposes"][0]["purpose"] == "water-leak-detection"
        assert consent.receipt["duration"]["deleteAfterDays"] == 30


def test_the_residents_are_told_of_the_request(
    personal_offer, consumer, residents, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agree(personal_offer, consumer)
    told = sorted(address for mail in mailoutbox for address in mail.to)
    assert told == sorted(m.user.email for m in residents)


def test_either_party_ends_an_agreement(open_offer, consumer, staff, residents):
    agreement = agree(open_offer, consumer)
    with pytest.raises(NotAllowed):
        agreement_revoke(agreement=agreement, by=residents[0].user)
    agreement = agreement_revoke(agreement=agreement, by=staff)
    assert agreement.status == "revoked"
    assert agreement.revoked_entry.actor == staff.primary_identity.did


def test_a_self_custody_consumer_signs_its_acceptance_itself(open_offer, consumer):
    key = KeySigner(Ed25519PrivateKey.generate())
    go_self_custody(consumer, key)
    consumer = type(consumer).objects.get(pk=consumer.pk)
    quote = quote_create(offer=open_offer, consumer=consumer)
    data = {"quote": quote, "purposes": []}
    prepared = action_prepare(AcceptOffer(), user=consumer, data=data)
    assert prepared.actor == key.did
    assert prepared.payload["agreement"] == agreement_id_for(quote)
    signature = base64.b64encode(key.sign(prepared.signing_bytes)).decode()
    agreement = action_execute(
        AcceptOffer(),
        user=consumer,
        data=data,
        created_at=prepared.created_at,
        signature=signature,
    )
    assert agreement.public_id == prepared.payload["agreement"]
    assert agreement.consumer_entry.signature
    assert agreement.policy_digest == prepared.payload["policy_digest"]

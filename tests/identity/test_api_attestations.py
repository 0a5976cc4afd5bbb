"""Attesting a document digest over HTTP: custodial (the platform signs) and self-custody
(prepare, sign on the client, submit)."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
import rfc8785
from django.utils import timezone

from identity.models import Attestation
from identity.services import KIND_DOCUMENT_ATTEST
from ledger.models import Transaction
from ledger.services import chain_create
from ledger.timefmt import format_timestamp

from .support import ClientKey, assert_error, world_state

pytestmark = pytest.mark.django_db

DIGEST = hashlib.sha256(b"the minutes of the council").hexdigest()
OTHER_DIGEST = hashlib.sha256(b"another document").hexdigest()


def prepare(api, did: str, digest: str = DIGEST, **extra) -> dict:
    response = api.post("attestations/prepare", {"did": did, "digest": digest, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def submit(api, did: str, prepared: dict, signature: str, digest: str = DIGEST, **extra):
    return api.post(
        "attestations",
        {
            "did": did,
            "digest": digest,
            "created_at": prepared["created_at"],
            "signature": signature,
            **extra,
        },
    )


def signing_bytes(fields: dict) -> bytes:
    return rfc8785.dumps(
        {k: fields[k] for k in ("chain", "kind", "actor", "payload", "created_at")}
    )


# Self-custody -----------------------------------------------------------------------------


def test_a_self_custody_client_attests_a_digest_end_to_end(api, client_key, self_custody_did):
    prepared = prepare(api, client_key.did)
    assert prepared["kind"] == KIND_DOCUMENT_ATTEST
    assert prepared["actor"] == client_key.did
    assert prepared["payload"] == {"did": client_key.did, "digest": DIGEST}
    signature = client_key.sign_prepared(prepared)

    response = submit(api, client_key.did, prepared, signature)

    assert response.status_code == 201, response.content
    attestation = Attestation.objects.get()
    assert attestation.identity == self_custody_did
    assert attestation.digest == DIGEST
    entry = attestation.entry
    assert entry.kind == KIND_DOCUMENT_ATTEST
    assert entry.actor == client_key.did
    assert entry.signature == signature
    assert entry.payload == {"did": client_key.did, "digest": DIGEST}
    assert signing_bytes(entry.signed_fields()) == base64.b64decode(prepared["signing_input"])
    assert response.json() == {
        "attestation": attestation.public_id,
        "did": client_key.did,
        "digest": DIGEST,
        "entry": {"chain": "network", "index": entry.index, "tx_hash": entry.tx_hash},
    }


def test_a_self_custody_attestation_can_go_on_a_city_chain(api, client_key, self_custody_did):
    chain_create(slug="montpellier", name="Montpellier")
    prepared = prepare(api, client_key.did, chain="montpellier")
    assert prepared["chain"] == "montpellier"

    response = submit(
        api, client_key.did, prepared, client_key.sign_prepared(prepared), chain="montpellier"
    )

    assert response.status_code == 201, response.content
    assert Attestation.objects.get().entry.chain.slug == "montpellier"


def test_an_unknown_chain_is_refused(api, client_key, self_custody_did):
    before = world_state()

    response = api.post(
        "attestations/prepare", {"did": client_key.did, "digest": DIGEST, "chain": "atlantis"}
    )

    assert_error(response, 404, "unknown_chain")
    assert world_state() == before


def test_a_signature_by_another_key_is_refused(api, client_key, self_custody_did):
    prepared = prepare(api, client_key.did)
    before = world_state()

    response = submit(api, client_key.did, prepared, ClientKey.generate().sign_prepared(prepared))

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_a_signature_over_another_digest_is_refused(api, client_key, self_custody_did):
    prepared = prepare(api, client_key.did, digest=DIGEST)
    signature = client_key.sign_prepared(prepared)
    before = world_state()

    response = submit(api, client_key.did, prepared, signature, digest=OTHER_DIGEST)

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_a_signature_for_another_chain_is_refused(api, client_key, self_custody_did):
    chain_create(slug="montpellier", name="Montpellier")
    prepared = prepare(api, client_key.did)  # network
    before = world_state()

    response = submit(
        api, client_key.did, prepared, client_key.sign_prepared(prepared), chain="montpellier"
    )

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_replaying_a_signed_attestation_is_refused(api, client_key, self_custody_did):
    prepared = prepare(api, client_key.did)
    signature = client_key.sign_prepared(prepared)
    assert submit(api, client_key.did, prepared, signature).status_code == 201
    before = world_state()

    response = submit(api, client_key.did, prepared, signature)

    assert_error(response, 409)
    assert world_state() == before


def test_a_replayed_transaction_is_refused_by_the_ledger_itself(api, client_key, self_custody_did):
    """Even when the state check passes (the attestation row is gone), the ledger refuses
    the same signed bytes twice."""
    prepared = prepare(api, client_key.did)
    signature = client_key.sign_prepared(prepared)
    assert submit(api, client_key.did, prepared, signature).status_code == 201
    Attestation.objects.all().delete()
    before = world_state()

    response = submit(api, client_key.did, prepared, signature)

    assert_error(response, 409, "replayed_transaction")
    assert world_state() == before


def test_a_stale_signed_attestation_is_refused(api, client_key, self_custody_did, settings):
    settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS = 5
    prepared = prepare(api, client_key.did)
    old = {**prepared, "created_at": format_timestamp(timezone.now() - timedelta(seconds=6))}
    before = world_state()

    response = submit(api, client_key.did, old, client_key.sign(signing_bytes(old)).hex())

    assert_error(response, 400, "stale_transaction")
    assert world_state() == before


def test_a_prepared_attestation_expires(api, client_key, self_custody_did, settings):
    prepared = prepare(api, client_key.did)
    signature = client_key.sign_prepared(prepared)
    settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS = 0
    before = world_state()

    response = submit(api, client_key.did, prepared, signature)

    assert_error(response, 400, "stale_transaction")
    assert world_state() == before


@pytest.mark.parametrize("created_at", ["yesterday", "2026-01-01T00:00:00Z", ""])
def test_a_malformed_created_at_is_refused(api, client_key, self_custody_did, created_at):
    prepared = prepare(api, client_key.did)
    signature = client_key.sign_prepared(prepared)
    before = world_state()

    response = submit(api, client_key.did, {"created_at": created_at}, signature)

    assert_error(response, 400)
    assert world_state() == before


@pytest.mark.parametrize("missing", ["created_at", "signature"])
def test_created_at_and_signature_come_together(api, client_key, self_custody_did, missing):
    prepared = prepare(api, client_key.did)
    body = {
        "did": client_key.did,
        "digest": DIGEST,
        "created_at": prepared["created_at"],
        "signature": client_key.sign_prepared(prepared),
    }
    del body[missing]
    before = world_state()

    response = api.post("attestations", body)

    assert_error(response, 400, "invalid")
    assert world_state() == before


def test_a_self_custody_did_cannot_attest_without_a_signature(api, client_key, self_custody_did):
    before = world_state()

    response = api.post("attestations", {"did": client_key.did, "digest": DIGEST})

    assert_error(response, 400, "no_custodial_key")
    assert world_state() == before


# Ownership and input ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["attestations/prepare", "attestations"])
def test_the_did_of_another_account_is_refused(api, other_user, path):
    before = world_state()

    response = api.post(path, {"did": other_user.primary_identity.did, "digest": DIGEST})

    assert_error(response, 403, "not_your_identity")
    assert world_state() == before


def test_a_signature_by_another_accounts_did_is_refused(api, other_api, other_user):
    """Bob's client signs with Bob's key, but Alice's token submits it: not Alice's DID."""
    bob = ClientKey.generate()
    prepared = other_api.post("keys/prepare", {"did": bob.did, "label": ""}).json()
    assert (
        other_api.post(
            "keys",
            {
                "did": bob.did,
                "created_at": prepared["created_at"],
                "signature": bob.sign_prepared(prepared),
            },
        ).status_code
        == 201
    )
    prepared = prepare(other_api, bob.did)
    before = world_state()

    response = submit(api, bob.did, prepared, bob.sign_prepared(prepared))

    assert_error(response, 403, "not_your_identity")
    assert world_state() == before


def test_an_unregistered_did_is_refused(api, client_key):
    before = world_state()

    response = api.post("attestations/prepare", {"did": client_key.did, "digest": DIGEST})

    assert_error(response, 403, "not_your_identity")
    assert world_state() == before


@pytest.mark.parametrize(
    "digest",
    [
        DIGEST.upper(),
        DIGEST[:-1],
        DIGEST + "0",
        "g" * 64,
        "",
        "the minutes of the council",
        "alice@example.org",
    ],
)
def test_a_malformed_digest_is_refused(api, user, digest):
    before = world_state()

    for path in ("attestations/prepare", "attestations"):
        response = api.post(path, {"did": user.primary_identity.did, "digest": digest})
        assert_error(response, 400, "invalid")

    assert world_state() == before


@pytest.mark.parametrize("did", ["garbage", "did:web:example.org", "did:key:z6Mk", None])
def test_a_malformed_did_is_refused(api, did):
    before = world_state()

    for path in ("attestations/prepare", "attestations"):
        response = api.post(path, {"did": did, "digest": DIGEST})
        assert_error(response, 400, "invalid")

    assert world_state() == before


@pytest.mark.parametrize("raw", ["[]", '"did"', "{", "null"])
def test_a_body_that_is_not_an_object_is_refused_in_json(api, raw):
    before = world_state()

    response = api.post("attestations", raw=raw)

    assert_error(response, 400)
    assert world_state() == before


@pytest.mark.parametrize("path", ["attestations/prepare", "attestations"])
def test_an_anonymous_client_is_refused_in_json(client, user, path):
    before = world_state()

    response = client.post(
        f"/api/v1/identity/{path}",
        {"did": user.primary_identity.did, "digest": DIGEST},
        content_type="application/json",
    )

    assert response.status_code in (401, 403)
    assert_error(response, response.status_code, "not_authenticated")
    assert world_state() == before


# Custodial --------------------------------------------------------------------------------


def test_a_custodial_did_attests_without_a_signature(api, user):
    identity = user.primary_identity

    response = api.post("attestations", {"did": identity.did, "digest": DIGEST})

    assert response.status_code == 201, response.content
    attestation = Attestation.objects.get()
    assert attestation.identity == identity
    entry = attestation.entry
    assert entry.actor == identity.did
    assert entry.payload == {"did": identity.did, "digest": DIGEST}
    signed = rfc8785.dumps(entry.signed_fields())
    assert identity.sign(signed).hex() == entry.signature  # Ed25519 is deterministic


def test_a_custodial_did_may_also_sign_itself(api, user):
    """The prepare/sign/submit path works for a custodial DID too (the client holds an
    exported copy of its key)."""
    identity = user.primary_identity
    prepared = prepare(api, identity.did)
    signature = identity.sign(base64.b64decode(prepared["signing_input"])).hex()

    response = submit(api, identity.did, prepared, signature)

    assert response.status_code == 201, response.content
    assert Attestation.objects.get().entry.signature == signature


def test_attesting_the_same_digest_twice_is_refused(api, user):
    did = user.primary_identity.did
    assert api.post("attestations", {"did": did, "digest": DIGEST}).status_code == 201
    before = world_state()

    response = api.post("attestations", {"did": did, "digest": DIGEST})

    assert_error(response, 409, "already_attested")
    assert world_state() == before


def test_a_session_user_attests_through_the_api(client, user):
    client.force_login(user)

    response = client.post(
        "/api/v1/identity/attestations",
        {"did": user.primary_identity.did, "digest": DIGEST},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert Transaction.objects.filter(kind=KIND_DOCUMENT_ATTEST).count() == 1

"""Self-custody over HTTP: a client registers a key it keeps; the server never sees it.

POST /api/v1/identity/keys/prepare answers the canonical bytes to sign; the client signs them
with the new key (proof of possession) and POSTs the signature to /api/v1/identity/keys.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import rfc8785
from django.utils import timezone

from identity.errors import NoCustodialKey
from identity.models import Custody, Identity
from identity.services import KIND_DID_REGISTER
from ledger.models import Actor, Transaction
from ledger.timefmt import format_timestamp

from .support import ClientKey, assert_error, world_state

pytestmark = pytest.mark.django_db


def prepare(api, key: ClientKey, label: str = "api client") -> dict:
    response = api.post("keys/prepare", {"did": key.did, "label": label})
    assert response.status_code == 200, response.content
    return response.json()


def submit(api, key: ClientKey, prepared: dict, *, signature: str | None = None, **extra):
    body = {
        "did": key.did,
        "label": "api client",
        "created_at": prepared["created_at"],
        "signature": signature if signature is not None else key.sign_prepared(prepared),
    }
    return api.post("keys", {**body, **extra})


def signing_bytes(fields: dict) -> bytes:
    """What a client computes on its own: RFC 8785 of the five signed fields."""
    return rfc8785.dumps(
        {k: fields[k] for k in ("chain", "kind", "actor", "payload", "created_at")}
    )


def test_prepare_answers_the_canonical_bytes_of_the_registration(api, user, client_key):
    prepared = prepare(api, client_key)

    assert prepared["chain"] == "network"
    assert prepared["kind"] == KIND_DID_REGISTER
    assert prepared["actor"] == client_key.did
    assert prepared["payload"] == {
        "did": client_key.did,
        "account": user.public_id,
        "custody": "self",
    }
    assert base64.b64decode(prepared["signing_input"]) == signing_bytes(prepared)


def test_prepare_writes_nothing(api, client_key):
    before = world_state()

    prepare(api, client_key)

    assert world_state() == before


def test_a_client_registers_a_key_it_keeps(api, user, client_key):
    prepared = prepare(api, client_key)

    response = submit(api, client_key, prepared)

    assert response.status_code == 201, response.content
    assert response.json() == {"did": client_key.did, "custody": "self", "label": "api client"}
    identity = Identity.objects.get(did=client_key.did)
    assert identity.user == user
    assert identity.custody == Custody.SELF
    assert identity.sealed_private_key is None
    assert not identity.is_primary
    assert user.primary_identity.custody == Custody.CUSTODIAL
    assert Actor.objects.get(did=client_key.did).public_key == client_key.public_key.hex()
    entry = Transaction.objects.get(kind=KIND_DID_REGISTER, actor=client_key.did)
    assert entry.signature == client_key.sign_prepared(prepared)
    assert entry.payload == prepared["payload"]
    assert entry.created_at_text == prepared["created_at"]


def test_a_base64_signature_is_accepted_too(api, client_key):
    prepared = prepare(api, client_key)
    signature = base64.b64encode(bytes.fromhex(client_key.sign_prepared(prepared))).decode()

    response = submit(api, client_key, prepared, signature=signature)

    assert response.status_code == 201, response.content


def test_the_platform_cannot_hold_a_self_custody_key(api, client_key):
    with pytest.raises(NoCustodialKey):
        Identity(did=client_key.did, custody=Custody.SELF).private_key()


def test_a_signature_by_another_key_is_refused(api, client_key):
    prepared = prepare(api, client_key)
    intruder = ClientKey.generate()
    before = world_state()

    response = submit(api, client_key, prepared, signature=intruder.sign_prepared(prepared))

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_a_signature_over_other_bytes_is_refused(api, client_key):
    prepared = prepare(api, client_key)
    before = world_state()

    response = submit(api, client_key, prepared, signature=client_key.sign(b"other").hex())

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_a_created_at_other_than_the_signed_one_is_refused(api, client_key):
    prepared = prepare(api, client_key)
    signature = client_key.sign_prepared(prepared)
    later = format_timestamp(timezone.now() + timedelta(seconds=1))
    before = world_state()

    response = api.post(
        "keys",
        {"did": client_key.did, "label": "", "created_at": later, "signature": signature},
    )

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


def test_a_registration_signed_too_long_ago_is_refused(api, client_key, settings):
    settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS = 60
    prepared = prepare(api, client_key)
    old = {**prepared, "created_at": format_timestamp(timezone.now() - timedelta(seconds=61))}
    signature = client_key.sign(signing_bytes(old)).hex()
    before = world_state()

    response = submit(api, client_key, old, signature=signature)

    assert_error(response, 400, "stale_transaction")
    assert world_state() == before


def test_a_registration_dated_in_the_future_is_refused(api, client_key):
    prepared = prepare(api, client_key)
    future = {**prepared, "created_at": format_timestamp(timezone.now() + timedelta(hours=1))}
    before = world_state()

    response = submit(
        api, client_key, future, signature=client_key.sign(signing_bytes(future)).hex()
    )

    assert_error(response, 400, "stale_transaction")
    assert world_state() == before


def test_replaying_a_registration_is_refused(api, client_key):
    prepared = prepare(api, client_key)
    assert submit(api, client_key, prepared).status_code == 201
    before = world_state()

    response = submit(api, client_key, prepared)

    assert_error(response, 409)
    assert world_state() == before


def test_registering_a_did_twice_is_refused(api, client_key):
    assert submit(api, client_key, prepare(api, client_key)).status_code == 201
    before = world_state()

    response = submit(api, client_key, prepare(api, client_key))

    assert_error(response, 409, "already_registered")
    assert world_state() == before


def test_registering_another_accounts_did_is_refused(api, other_user):
    theirs = other_user.primary_identity.did
    prepared = api.post("keys/prepare", {"did": theirs, "label": ""}).json()
    signature = other_user.primary_identity.sign(base64.b64decode(prepared["signing_input"]))
    before = world_state()

    response = api.post(
        "keys",
        {
            "did": theirs,
            "label": "",
            "created_at": prepared["created_at"],
            "signature": signature.hex(),
        },
    )

    assert_error(response, 409, "already_registered")
    assert world_state() == before
    assert Identity.objects.get(did=theirs).user == other_user


def test_a_self_custody_key_cannot_be_registered_without_its_signature(api, client_key):
    before = world_state()

    response = api.post("keys", {"did": client_key.did, "label": "api client"})

    assert_error(response, 400, "no_custodial_key")
    assert world_state() == before


@pytest.mark.parametrize("missing", ["created_at", "signature"])
def test_created_at_and_signature_come_together(api, client_key, missing):
    prepared = prepare(api, client_key)
    body = {
        "did": client_key.did,
        "created_at": prepared["created_at"],
        "signature": client_key.sign_prepared(prepared),
    }
    del body[missing]
    before = world_state()

    response = api.post("keys", body)

    assert_error(response, 400, "invalid")
    assert world_state() == before


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.org",
        "did:key:z6MkNOTBASE58IIlO0000000000000000000000000000",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1, not Ed25519
        "",
    ],
)
def test_a_malformed_did_is_refused(api, did):
    before = world_state()

    prepare_response = api.post("keys/prepare", {"did": did, "label": ""})
    submit_response = api.post(
        "keys", {"did": did, "created_at": "2026-01-01T00:00:00.000000Z", "signature": "00" * 64}
    )

    assert_error(prepare_response, 400)
    assert_error(submit_response, 400)
    assert world_state() == before


def test_a_did_that_holds_no_ed25519_key_is_refused(api):
    # The right prefix and alphabet, but the multicodec bytes do not hold a 32-byte key.
    did = "did:key:z6Mk" + "1" * 44
    before = world_state()

    response = api.post(
        "keys", {"did": did, "created_at": "2026-01-01T00:00:00.000000Z", "signature": "00" * 64}
    )

    assert_error(response, 400, "invalid")
    assert world_state() == before


def test_a_did_url_is_not_registered_as_a_second_did_of_the_same_key(api, self_custody_did):
    did_url = self_custody_did.verification_method  # did:key:z6Mk…#z6Mk…
    before = world_state()

    response = api.post("keys/prepare", {"did": did_url, "label": ""})

    assert_error(response, 400, "invalid")
    assert world_state() == before


@pytest.mark.parametrize("signature", ["zz" * 64, "not a signature!", "00" * 63, "00" * 65])
def test_a_malformed_signature_is_refused(api, client_key, signature):
    prepared = prepare(api, client_key)
    before = world_state()

    response = submit(api, client_key, prepared, signature=signature)

    assert_error(response, 400, "bad_signature")
    assert world_state() == before


@pytest.mark.parametrize("path", ["keys/prepare", "keys"])
def test_an_anonymous_client_is_refused_in_json(client, network_chain, client_key, path):
    before = world_state()

    response = client.post(
        f"/api/v1/identity/{path}", {"did": client_key.did}, content_type="application/json"
    )

    assert_error(response, response.status_code, "not_authenticated")
    assert response.status_code in (401, 403)
    assert world_state() == before


def test_a_wrong_token_is_refused_in_json(client, network_chain, client_key):
    response = client.post(
        "/api/v1/identity/keys/prepare",
        {"did": client_key.did},
        content_type="application/json",
        HTTP_AUTHORIZATION="Token " + "0" * 40,
    )

    assert_error(response, response.status_code, "authentication_failed")
    assert response.status_code in (401, 403)


def test_the_me_endpoint_lists_custodial_and_self_custody_dids(api, user, self_custody_did):
    response = api.get("me")

    assert response.status_code == 200
    assert response.json() == {
        "account": user.public_id,
        "identities": [
            {
                "did": user.primary_identity.did,
                "custody": "custodial",
                "label": user.primary_identity.label,
            },
            {"did": self_custody_did.did, "custody": "self", "label": "api client"},
        ],
    }

"""Exporting my custodial private key from the profile page: PKCS#8 under a passphrase, or
JWK, only after my account password, only for a DID of mine that the platform holds."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from identity.services import identity_create_custodial, identity_revoke

from .support import PASSWORD

pytestmark = pytest.mark.django_db

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def export(client, did: str, **fields):
    data = {
        "did": did,
        "key_format": "pkcs8",
        "account_password": PASSWORD,
        "passphrase": PASSPHRASE,
        **fields,
    }
    return client.post(reverse("identity:key_export"), data)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_no_file(response) -> None:
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "PRIVATE KEY" not in body
    assert '"d"' not in body


def test_a_pkcs8_export_opens_with_the_passphrase_into_my_did_key(logged_in, user):
    identity = user.primary_identity

    response = export(logged_in, identity.did)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    pem = response.content
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pem, password=PASSPHRASE.encode())
    assert isinstance(key, Ed25519PrivateKey)
    assert key.public_key().public_bytes_raw() == identity.public_key
    signature = key.sign(b"outside the platform")
    identity.private_key().public_key().verify(signature, b"outside the platform")


def test_a_pkcs8_export_does_not_open_without_the_passphrase(logged_in, user):
    pem = export(logged_in, user.primary_identity.did).content

    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(pem, password=None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(pem, password=b"wrong passphrase")


def test_a_jwk_export_holds_my_did_key(logged_in, user):
    identity = user.primary_identity

    response = export(logged_in, identity.did, key_format="jwk", passphrase="")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    jwk = json.loads(response.content)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    assert b64url_decode(jwk["x"]) == identity.public_key
    assert jwk["kid"] == identity.verification_method
    private = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))
    assert private.public_key().public_bytes_raw() == identity.public_key


def test_a_second_custodial_did_exports_its_own_key(logged_in, user):
    spare = identity_create_custodial(user=user, label="spare")

    jwk = json.loads(export(logged_in, spare.did, key_format="jwk").content)

    assert b64url_decode(jwk["x"]) == spare.public_key != user.primary_identity.public_key


def test_a_wrong_account_password_exports_nothing(logged_in, user):
    response = export(logged_in, user.primary_identity.did, account_password="not my password")

    assert response.status_code == 400
    assert_no_file(response)
    assert "account_password" in response.context["form"].errors


@pytest.mark.parametrize("key_format", ["pkcs8", "jwk"])
def test_the_account_password_is_required(logged_in, user, key_format):
    response = export(
        logged_in, user.primary_identity.did, key_format=key_format, account_password=""
    )

    assert response.status_code == 400
    assert_no_file(response)


@pytest.mark.parametrize("passphrase", ["", "short"])
def test_a_pkcs8_export_needs_a_passphrase_of_eight_characters(logged_in, user, passphrase):
    response = export(logged_in, user.primary_identity.did, passphrase=passphrase)

    assert response.status_code == 400
    assert_no_file(response)
    assert "passphrase" in response.context["form"].errors


@pytest.mark.parametrize("key_format", ["pkcs8", "jwk"])
def test_another_accounts_did_exports_nothing(logged_in, other_user, key_format):
    response = export(logged_in, other_user.primary_identity.did, key_format=key_format)

    assert response.status_code == 400
    assert_no_file(response)


def test_a_revoked_did_exports_nothing(logged_in, user):
    spare = identity_create_custodial(user=user, label="spare")
    identity_revoke(identity=spare, by=user.primary_identity)

    response = export(logged_in, spare.did, key_format="jwk")

    assert response.status_code == 400
    assert_no_file(response)


def test_a_self_custody_did_has_nothing_to_export(logged_in, self_custody_did):
    response = export(logged_in, self_custody_did.did, key_format="jwk")

    assert response.status_code == 400
    assert_no_file(response)


def test_an_unknown_format_exports_nothing(logged_in, user):
    response = export(logged_in, user.primary_identity.did, key_format="raw")

    assert response.status_code == 400
    assert_no_file(response)


def test_the_export_page_needs_a_login(client, user):
    response = export(client, user.primary_identity.did)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_export_form_renders(logged_in):
    response = logged_in.get(reverse("identity:key_export"))

    assert response.status_code == 200
    assert "Content-Disposition" not in response

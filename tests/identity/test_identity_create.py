"""Every account gets a custodial did:key on creation, sealed at rest, registered on the
network chain by a transaction its own key signs."""

from __future__ import annotations

import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection
from django.urls import reverse

from identity import crypto, services
from identity.errors import NotYourIdentity
from identity.models import Custody, Identity, User
from identity.services import (
    KIND_DID_REGISTER,
    KIND_DID_REVOKE,
    identity_create_custodial,
    identity_owned,
    identity_revoke,
)
from ledger.didkey import public_key_from_did
from ledger.errors import UnknownActor
from ledger.models import NETWORK_CHAIN_SLUG, Actor, Transaction
from ledger.services import ledger_append
from tests.factories import UserFactory

from .support import PASSWORD, world_state

pytestmark = pytest.mark.django_db


def registration_of(identity: Identity) -> Transaction:
    return Transaction.objects.get(
        chain__slug=NETWORK_CHAIN_SLUG, kind=KIND_DID_REGISTER, actor=identity.did
    )


def test_a_new_account_gets_exactly_one_primary_custodial_did(user):
    (identity,) = Identity.objects.filter(user=user)

    assert identity.is_primary
    assert identity.custody == Custody.CUSTODIAL
    assert identity.revoked_at is None
    assert identity.did.startswith("did:key:z6Mk")
    assert len(public_key_from_did(identity.did)) == 32
    assert user.primary_identity == identity


def test_every_account_gets_its_own_did(db):
    dids = {UserFactory().primary_identity.did for _ in range(3)}

    assert len(dids) == 3


def test_signing_up_through_the_page_gives_the_account_a_did(client, network_chain):
    response = client.post(
        reverse("account_signup"),
        {"email": "carol@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user = User.objects.get(email="carol@example.org")
    assert Identity.objects.filter(user=user, is_primary=True).count() == 1


def test_the_did_holds_the_public_half_of_the_sealed_key(user):
    identity = user.primary_identity

    public = crypto.public_key_raw(identity.private_key())

    assert public == identity.public_key == public_key_from_did(identity.did)


def test_the_database_row_holds_the_key_sealed_not_in_clear(user):
    identity = user.primary_identity
    raw = crypto.private_key_raw(identity.private_key())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sealed_private_key FROM identity_identity WHERE id = %s", [identity.pk]
        )
        (stored,) = cursor.fetchone()
    stored = bytes(stored)

    assert len(stored) == crypto.SEALED_BYTES
    assert stored[0] == crypto.SEAL_VERSION
    assert raw not in stored
    assert raw.hex().encode() not in stored
    opened = crypto.open_private_key(
        stored,
        kek=crypto.kek_from_setting(settings.SMARTB_KEY_ENCRYPTION_KEY),
        context=identity.did.encode(),
    )
    assert opened == raw


def test_a_sealed_key_copied_into_another_account_does_not_open(user, other_user):
    mine, theirs = user.primary_identity, other_user.primary_identity
    Identity.objects.filter(pk=theirs.pk).update(sealed_private_key=mine.sealed_private_key)
    theirs.refresh_from_db()

    with pytest.raises(crypto.KeyUnsealError):
        theirs.sign(b"anything")


def test_sign_makes_signatures_the_did_public_key_verifies(user):
    identity = user.primary_identity
    public = Ed25519PublicKey.from_public_bytes(public_key_from_did(identity.did))

    signature = identity.sign(b"hello ledger")

    public.verify(signature, b"hello ledger")  # raises if it does not verify
    assert not crypto.verify_signature(
        public_key=identity.public_key, signature=signature, message=b"hello ledger!"
    )


def test_the_did_is_registered_on_the_network_chain_signed_by_itself(user):
    identity = user.primary_identity

    entry = registration_of(identity)

    assert entry.payload == {
        "did": identity.did,
        "account": user.public_id,
        "custody": "custodial",
    }
    signed = rfc8785.dumps(entry.signed_fields())
    assert crypto.verify_signature(
        public_key=identity.public_key, signature=bytes.fromhex(entry.signature), message=signed
    )
    actor = Actor.objects.get(did=identity.did)
    assert actor.active
    assert actor.public_key == identity.public_key.hex()


def test_the_registration_holds_no_personal_data(db):
    user = UserFactory(email="jeanne.dupont@example.org")
    user.first_name, user.last_name = "Jeanne", "Dupont"
    user.save()

    entry = registration_of(user.primary_identity)

    on_ledger = json.dumps(entry.signed_fields())
    for personal in ("jeanne", "dupont", "example.org", "@", user.username):
        assert personal not in on_ledger.lower()
    assert str(user.pk) not in entry.payload.values()


def test_a_further_custodial_did_is_not_primary(user):
    first = user.primary_identity

    second = identity_create_custodial(user=user, label="second")

    assert not second.is_primary
    assert user.identities.filter(is_primary=True).get() == first
    assert registration_of(second).payload["account"] == user.public_id


def test_an_account_whose_did_cannot_be_registered_is_not_created(network_chain, monkeypatch):
    def refuse(**kwargs):
        raise UnknownActor("the ledger is down")

    monkeypatch.setattr(services, "ledger_append", refuse)
    before = world_state()

    with pytest.raises(UnknownActor):
        User.objects.create_user(username="ghost", email="ghost@example.org", password=PASSWORD)

    assert not User.objects.filter(username="ghost").exists()
    assert world_state() == before


def test_a_revoked_did_signs_nothing_more(user):
    primary = user.primary_identity
    spare = identity_create_custodial(user=user, label="spare")

    identity_revoke(identity=spare, by=primary)

    spare.refresh_from_db()
    assert spare.revoked_at is not None
    assert not Actor.objects.get(did=spare.did).active
    revocation = Transaction.objects.get(kind=KIND_DID_REVOKE)
    assert revocation.actor == primary.did
    assert revocation.payload == {"did": spare.did, "account": user.public_id}
    with pytest.raises(NotYourIdentity):
        identity_owned(user=user, did=spare.did)
    with pytest.raises(UnknownActor):
        ledger_append(chain=NETWORK_CHAIN_SLUG, actor=spare, kind="identity.test.ping", payload={})


def test_a_did_is_revoked_whole_or_not_at_all(user, monkeypatch):
    spare = identity_create_custodial(user=user, label="spare")

    def crash(**kwargs):
        raise RuntimeError("crash after the ledger append")

    monkeypatch.setattr(services, "actor_deactivate", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        identity_revoke(identity=spare, by=user.primary_identity)

    assert world_state() == before

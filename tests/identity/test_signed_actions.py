"""The prepare/sign/submit mechanism every write endpoint uses, called as the API calls it,
and the rule that a state change and its ledger transaction commit together or not at all."""

from __future__ import annotations

import base64
import hashlib

import pytest

from identity import services
from identity.actions import AttestDocument, RegisterSelfCustodyKey
from identity.errors import NoCustodialKey, NotYourIdentity
from identity.models import Attestation, Identity
from identity.signed_actions import (
    action_execute,
    action_prepare,
    decode_signature,
    prepared_as_dict,
)
from ledger import services as ledger_services
from ledger.errors import BadSignature, ReplayedTransaction
from ledger.models import Transaction

from .support import ClientKey, world_state

pytestmark = pytest.mark.django_db

DIGEST = hashlib.sha256(b"a document").hexdigest()


def sign_and_execute(action, key: ClientKey, *, user, data: dict):
    prepared = action_prepare(action, user=user, data=data)
    signature = key.sign(prepared.signing_bytes).hex()
    return action_execute(
        action, user=user, data=data, created_at=prepared.created_at, signature=signature
    )


@pytest.fixture
def self_custody(user, client_key) -> Identity:
    return sign_and_execute(
        RegisterSelfCustodyKey(), client_key, user=user, data={"did": client_key.did}
    )


class TestDecodeSignature:
    RAW = bytes(range(64))

    @pytest.mark.parametrize(
        "text",
        [
            RAW.hex(),
            RAW.hex().upper(),
            base64.b64encode(RAW).decode(),
            base64.urlsafe_b64encode(RAW).decode(),
            base64.urlsafe_b64encode(RAW).decode().rstrip("="),
            f"  {RAW.hex()}\n",
        ],
    )
    def test_hex_and_base64_give_the_same_bytes(self, text):
        assert decode_signature(text) == self.RAW

    @pytest.mark.parametrize("text", ["zz" * 64, "x" * 129])
    def test_garbage_is_a_bad_signature(self, text):
        with pytest.raises(BadSignature):
            decode_signature(text)


def test_prepare_gives_what_the_ledger_will_check(user, self_custody, client_key):
    data = {"did": client_key.did, "digest": DIGEST}

    prepared = action_prepare(AttestDocument(), user=user, data=data)
    answer = prepared_as_dict(prepared)

    assert answer["actor"] == client_key.did
    assert answer["payload"] == {"did": client_key.did, "digest": DIGEST}
    assert base64.b64decode(answer["signing_input"]) == prepared.signing_bytes
    assert answer["signature_algorithm"] == "Ed25519"


def test_a_self_custody_action_is_recorded_with_the_clients_signature(
    user, self_custody, client_key
):
    attestation = sign_and_execute(
        AttestDocument(), client_key, user=user, data={"did": client_key.did, "digest": DIGEST}
    )

    assert attestation.identity == self_custody
    assert attestation.entry.actor == client_key.did
    registration = Transaction.objects.get(kind=services.KIND_DID_REGISTER, actor=client_key.did)
    assert registration.payload == {
        "did": client_key.did,
        "account": user.public_id,
        "custody": "self",
    }


def test_a_custodial_action_is_signed_by_the_platform(user):
    did = user.primary_identity.did

    attestation = action_execute(AttestDocument(), user=user, data={"did": did, "digest": DIGEST})

    assert attestation.entry.actor == did


def test_a_self_custody_registration_needs_its_own_signature(user, client_key):
    before = world_state()

    with pytest.raises(NoCustodialKey):
        action_execute(RegisterSelfCustodyKey(), user=user, data={"did": client_key.did})

    assert world_state() == before


def test_an_action_on_another_accounts_did_is_refused(user, other_user):
    before = world_state()

    with pytest.raises(NotYourIdentity):
        action_execute(
            AttestDocument(),
            user=user,
            data={"did": other_user.primary_identity.did, "digest": DIGEST},
        )

    assert world_state() == before


def test_the_same_signed_bytes_are_recorded_once(user, self_custody, client_key):
    data = {"did": client_key.did, "digest": DIGEST}
    prepared = action_prepare(AttestDocument(), user=user, data=data)
    signature = client_key.sign(prepared.signing_bytes).hex()
    action_execute(
        AttestDocument(), user=user, data=data, created_at=prepared.created_at, signature=signature
    )
    Attestation.objects.all().delete()
    before = world_state()

    with pytest.raises(ReplayedTransaction):
        action_execute(
            AttestDocument(),
            user=user,
            data=data,
            created_at=prepared.created_at,
            signature=signature,
        )

    assert world_state() == before


# Atomicity: the ledger append and the state it records -------------------------------------


def crash(*args, **kwargs):
    raise RuntimeError("crash after the ledger append")


def test_an_attestation_that_fails_after_its_ledger_append_leaves_no_transaction(user, monkeypatch):
    did = user.primary_identity.did
    monkeypatch.setattr(Attestation.objects, "create", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        action_execute(AttestDocument(), user=user, data={"did": did, "digest": DIGEST})

    assert world_state() == before
    assert not Transaction.objects.filter(kind=services.KIND_DOCUMENT_ATTEST).exists()


def test_a_self_custody_attestation_that_fails_after_its_append_leaves_nothing(
    user, self_custody, client_key, monkeypatch
):
    monkeypatch.setattr(Attestation.objects, "create", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        sign_and_execute(
            AttestDocument(), client_key, user=user, data={"did": client_key.did, "digest": DIGEST}
        )

    assert world_state() == before


def test_a_registration_whose_ledger_append_fails_midway_leaves_nothing(
    user, client_key, monkeypatch
):
    """The transaction row is written, then the Merkle tiles fail: no identity, no actor, no
    transaction, the chain's size unchanged."""
    monkeypatch.setattr(ledger_services, "_store_new_nodes", crash)
    before = world_state()

    with pytest.raises(RuntimeError):
        sign_and_execute(
            RegisterSelfCustodyKey(), client_key, user=user, data={"did": client_key.did}
        )

    assert world_state() == before
    assert not Identity.objects.filter(did=client_key.did).exists()


def test_the_api_rolls_back_a_failed_action(api, user, monkeypatch):
    monkeypatch.setattr(Attestation.objects, "create", crash)
    api.client.raise_request_exception = False
    before = world_state()

    response = api.post("attestations", {"did": user.primary_identity.did, "digest": DIGEST})

    assert response.status_code == 500
    assert world_state() == before

"""ledger.services appends: one gap-free log of signed transactions; refusals write nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from ledger import errors, merkle
from ledger.canonical import canonical_json
from ledger.models import Actor, Chain, MerkleNode, Transaction
from ledger.selectors import tree_root
from ledger.services import (
    actor_deactivate,
    actor_register,
    chain_create,
    ledger_append,
    ledger_append_many,
    ledger_append_signed,
    transaction_prepare,
)
from ledger.timefmt import format_timestamp
from tests.factories import UserFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import KIND, append_many, counts, memory_tree

pytestmark = pytest.mark.django_db


def presigned(chain, signer, *, kind=KIND, payload=None, created_at=None) -> dict:
    """The arguments of `ledger_append_signed` for a transaction `signer` signed itself."""
    payload = {"ref": "doc-1"} if payload is None else payload
    prepared = transaction_prepare(
        chain=chain, actor_did=signer.did, kind=kind, payload=payload, created_at=created_at
    )
    return {
        "chain": chain,
        "actor_did": signer.did,
        "kind": kind,
        "payload": payload,
        "created_at": prepared.created_at,
        "signature": signer.sign(prepared.signing_bytes),
    }


def assert_refused(chain, error, attempt):
    """`attempt()` raises `error` and writes nothing anywhere in the ledger."""
    before = counts(chain)
    total_before = (Transaction.objects.count(), MerkleNode.objects.count())
    with pytest.raises(error) as raised:
        attempt()
    assert counts(chain) == before
    assert (Transaction.objects.count(), MerkleNode.objects.count()) == total_before
    return raised.value


# --- What an append writes -------------------------------------------------------------------


def test_appends_take_consecutive_indices_from_zero(chain, signer):
    entries = append_many(chain, signer, 20)
    assert [e.index for e in entries] == list(range(20))
    stored = list(Transaction.objects.filter(chain=chain).values_list("index", flat=True))
    assert stored == list(range(20))
    chain.refresh_from_db()
    assert (chain.size, chain.sealed_size, chain.pending_count) == (20, 0, 20)


def test_a_transaction_commits_to_its_signed_bytes_and_signature(chain, signer):
    append_many(chain, signer, 5)
    public_key = Ed25519PublicKey.from_public_bytes(signer.public_key)
    for tx in Transaction.objects.filter(chain=chain):
        body = canonical_json(
            {
                "chain": chain.slug,
                "kind": tx.kind,
                "actor": signer.did,
                "payload": tx.payload,
                "created_at": format_timestamp(tx.created_at),
            }
        )
        signature = bytes.fromhex(tx.signature)
        public_key.verify(signature, body)  # raises if it does not verify
        assert tx.tx_hash == hashlib.sha256(body + signature).hexdigest()
        assert tx.leaf_hash == hashlib.sha256(b"\x00" + body + signature).hexdigest()
        assert tx.actor == signer.did


def test_each_append_stores_the_subtrees_its_leaf_completes(chain, signer):
    append_many(chain, signer, 13)
    chain.refresh_from_db()
    expected = memory_tree(chain)
    stored = {
        (level, index): bytes.fromhex(h)
        for level, index, h in MerkleNode.objects.filter(chain=chain).values_list(
            "level", "index", "hash"
        )
    }
    assert stored == {key: h for key, h in expected.nodes.items() if key[0] > 0}
    for size in range(14):
        assert tree_root(chain=chain, size=size) == expected.root(size)


def test_a_self_custody_client_appends_what_it_signed(chain, signer):
    arguments = presigned(chain, signer, payload={"digest": "ab" * 32})
    entry = ledger_append_signed(**arguments)
    assert entry.index == 0
    assert entry.signature == arguments["signature"].hex()
    assert format_timestamp(entry.created_at) == arguments["created_at"]


def test_a_new_account_signs_its_did_registration_with_its_custodial_key():
    user = UserFactory()
    identity = user.primary_identity
    entry = Transaction.objects.get(actor=identity.did, kind="identity.did.register")
    assert entry.chain.slug == "network"
    assert entry.payload == {"did": identity.did, "account": user.public_id, "custody": "custodial"}
    body = canonical_json(entry.signed_fields())
    Ed25519PublicKey.from_public_bytes(identity.public_key).verify(
        bytes.fromhex(entry.signature), body
    )
    assert Actor.objects.get(did=identity.did).public_key == identity.public_key.hex()


def test_the_query_count_of_an_append_does_not_grow_with_the_chain(
    chain, signer, django_assert_max_num_queries
):
    # Savepoints included; leaf 127 closes 7 subtrees at once, leaf 128 none.
    append_many(chain, signer, 127)
    with django_assert_max_num_queries(12):
        append_many(chain, signer, 1, start=127)
    with django_assert_max_num_queries(12):
        append_many(chain, signer, 1, start=128)


# --- Refusals --------------------------------------------------------------------------------


def test_an_unknown_actor_is_refused(chain):
    stranger = new_signer()
    error = assert_refused(
        chain,
        errors.UnknownActor,
        lambda: ledger_append(chain=chain, actor=stranger, kind=KIND, payload={"a": 1}),
    )
    assert error.status == 403


def test_a_deactivated_actor_is_refused_and_its_past_stays_valid(chain, signer):
    append_many(chain, signer, 2)
    actor_deactivate(did=signer.did)
    assert_refused(
        chain,
        errors.UnknownActor,
        lambda: ledger_append(chain=chain, actor=signer, kind=KIND, payload={"a": 1}),
    )
    out = StringIO()
    call_command("ledger_verify", "--chain", chain.slug, stdout=out)
    assert f"OK {chain.slug}: 2 transactions" in out.getvalue()


def test_registering_a_did_that_is_not_a_did_key_is_refused():
    with pytest.raises(errors.UnknownActor):
        actor_register(did="did:web:example.org")
    assert not Actor.objects.filter(did="did:web:example.org").exists()


class _ForgingSigner:
    """Claims one DID and signs with another key."""

    def __init__(self, did):
        self.did = did
        self._key = new_signer()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def test_a_signature_by_another_key_is_refused(chain, signer):
    forger = _ForgingSigner(signer.did)
    error = assert_refused(
        chain,
        errors.BadSignature,
        lambda: ledger_append(chain=chain, actor=forger, kind=KIND, payload={"a": 1}),
    )
    assert error.status == 400


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda a: {**a, "payload": {"ref": "doc-2"}}, id="other-payload"),
        pytest.param(lambda a: {**a, "kind": "test.thing.other"}, id="other-kind"),
        pytest.param(lambda a: {**a, "signature": a["signature"][:-1]}, id="short"),
        pytest.param(lambda a: {**a, "signature": bytes(64)}, id="zeros"),
        pytest.param(lambda a: {**a, "signature": a["signature"].hex()}, id="not-bytes"),
        pytest.param(
            lambda a: {**a, "signature": bytes([a["signature"][0] ^ 1]) + a["signature"][1:]},
            id="flipped-bit",
        ),
    ],
)
def test_a_presigned_transaction_whose_signature_does_not_verify_is_refused(chain, signer, tamper):
    arguments = tamper(presigned(chain, signer))
    assert_refused(chain, errors.BadSignature, lambda: ledger_append_signed(**arguments))


def test_a_pre_signed_transaction_from_an_unknown_actor_is_refused(chain):
    stranger = new_signer()
    prepared = transaction_prepare(chain=chain, actor_did=stranger.did, kind=KIND, payload={})
    assert_refused(
        chain,
        errors.UnknownActor,
        lambda: ledger_append_signed(
            chain=chain,
            actor_did=stranger.did,
            kind=KIND,
            payload={},
            created_at=prepared.created_at,
            signature=stranger.sign(prepared.signing_bytes),
        ),
    )


UNSAFE_PAYLOADS = [
    pytest.param({"amount": 12.5}, id="float"),
    pytest.param({"amount": 100.0}, id="integral-float"),
    pytest.param({"amounts": [1, float("nan")]}, id="nan"),
    pytest.param({"supply": 2**60}, id="huge-int"),
    pytest.param({"text": "\ud800"}, id="lone-surrogate"),
    pytest.param(["not", "an", "object"], id="not-an-object"),
]
PERSONAL_PAYLOADS = [
    pytest.param({"contact": "alice.martin@example.org"}, id="email"),
    pytest.param({"name": "Alice Martin"}, id="name-with-space"),
    pytest.param({"address": "12 rue de la Paix, 75002 Paris"}, id="postal-address"),
    pytest.param({"voters": ["did:key:z6Mk", "Jean Dupont"]}, id="nested-name"),
    pytest.param({"full name": "x"}, id="key-with-space"),
    pytest.param({"note": "line\n"}, id="trailing-newline"),
    pytest.param({"note": "x" * 300}, id="long-text"),
]


@pytest.mark.parametrize("payload", UNSAFE_PAYLOADS)
def test_a_payload_the_ledger_cannot_sign_is_refused(chain, signer, payload):
    assert_refused(
        chain,
        errors.UnsafePayload,
        lambda: ledger_append(chain=chain, actor=signer, kind=KIND, payload=payload),
    )
    assert_refused(
        chain,
        errors.UnsafePayload,
        lambda: ledger_append_signed(
            chain=chain,
            actor_did=signer.did,
            kind=KIND,
            payload=payload,
            created_at=format_timestamp(timezone.now()),
            signature=bytes(64),
        ),
    )


@pytest.mark.parametrize("payload", PERSONAL_PAYLOADS)
def test_personal_data_and_free_text_are_refused(chain, signer, payload):
    assert_refused(
        chain,
        errors.PersonalDataRefused,
        lambda: ledger_append(chain=chain, actor=signer, kind=KIND, payload=payload),
    )


def test_ids_digests_and_decimal_amounts_are_accepted(chain, signer):
    payload = {
        "did": signer.did,
        "digest": "0f" * 32,
        "amount": "12.50",
        "cents": 1250,
        "at": "2026-01-31T12:00:00.000000Z",
        "tags": ["a-b", "c_d"],
        "ok": True,
        "none": None,
    }
    entry = ledger_append(chain=chain, actor=signer, kind=KIND, payload=payload)
    entry.refresh_from_db()
    assert entry.payload == payload


def test_a_replayed_presigned_transaction_is_refused(chain, signer):
    arguments = presigned(chain, signer)
    ledger_append_signed(**arguments)
    error = assert_refused(
        chain, errors.ReplayedTransaction, lambda: ledger_append_signed(**arguments)
    )
    assert error.status == 409
    assert error.code == "replayed_transaction"


@pytest.mark.parametrize(
    "shift",
    [
        pytest.param(timedelta(hours=-1), id="an-hour-old"),
        pytest.param(timedelta(minutes=5), id="five-minutes-ahead"),
    ],
)
def test_a_stale_presigned_transaction_is_refused(chain, signer, settings, shift):
    settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS = 600
    arguments = presigned(chain, signer, created_at=timezone.now() + shift)
    assert_refused(chain, errors.StaleTransaction, lambda: ledger_append_signed(**arguments))


def test_a_presigned_transaction_inside_the_window_is_accepted(chain, signer, settings):
    settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS = 600
    arguments = presigned(chain, signer, created_at=timezone.now() - timedelta(minutes=9))
    assert ledger_append_signed(**arguments).index == 0


@pytest.mark.parametrize(
    "created_at",
    ["2026-01-31T12:00:00Z", "2026-01-31 12:00:00.000000", "yesterday", "", None, 1769860800],
)
def test_a_malformed_created_at_is_refused(chain, signer, created_at):
    arguments = {**presigned(chain, signer), "created_at": created_at}
    assert_refused(chain, errors.StaleTransaction, lambda: ledger_append_signed(**arguments))


@pytest.mark.parametrize(
    "kind",
    [
        "vote",
        "Governance.vote.cast",
        "governance..cast",
        "governance.vote cast",
        "governance.vote.",
        "1governance.vote",
        "a.b.c.d.e.f.g",
        "",
        None,
    ],
)
def test_a_bad_kind_is_refused(chain, signer, kind):
    assert_refused(
        chain,
        errors.BadKind,
        lambda: ledger_append(chain=chain, actor=signer, kind=kind, payload={}),
    )


def test_an_unknown_chain_is_refused(chain, signer):
    error = assert_refused(
        chain,
        errors.UnknownChain,
        lambda: ledger_append(chain="atlantis", actor=signer, kind=KIND, payload={}),
    )
    assert error.status == 404


# --- Appends inside a domain service ---------------------------------------------------------


def test_a_domain_service_that_fails_after_appending_leaves_no_entry(chain, signer):
    append_many(chain, signer, 3)
    before = counts(chain)

    def service():
        with transaction.atomic():
            Chain.objects.filter(pk=chain.pk).update(name="Renamed by the service")
            ledger_append(chain=chain, actor=signer, kind=KIND, payload={"ref": "doomed"})
            raise RuntimeError("the domain service failed after appending")

    with pytest.raises(RuntimeError):
        service()
    assert counts(chain) == before
    assert not Transaction.objects.filter(payload__ref="doomed").exists()
    assert Chain.objects.get(pk=chain.pk).name == chain.name
    assert ledger_append(chain=chain, actor=signer, kind=KIND, payload={}).index == 3


def test_a_domain_service_refused_by_the_ledger_leaves_no_state(chain, signer):
    def service():
        with transaction.atomic():
            Chain.objects.filter(pk=chain.pk).update(name="Renamed by the service")
            ledger_append(chain=chain, actor=signer, kind=KIND, payload={"name": "Jean Dupont"})

    assert_refused(chain, errors.PersonalDataRefused, service)
    assert Chain.objects.get(pk=chain.pk).name == chain.name


def test_chain_create_is_idempotent(db):
    first = chain_create(slug="lyon", name="Lyon")
    again = chain_create(slug="lyon", name="Another name")
    assert first.pk == again.pk
    assert Chain.objects.filter(slug="lyon").count() == 1


def test_actor_register_is_idempotent(db):
    key = new_signer()
    first = actor_register(did=key.did)
    assert actor_register(did=key.did).pk == first.pk
    assert first.public_key == key.public_key.hex()


def test_merkle_leaf_is_over_the_same_bytes_as_the_tx_hash(chain, signer):
    entry = append_many(chain, signer, 1)[0]
    raw = canonical_json(entry.signed_fields()) + bytes.fromhex(entry.signature)
    assert entry.leaf_hash == merkle.leaf_hash(raw).hex()


# --- Batches ---------------------------------------------------------------------------------


def test_a_batch_appends_in_order_and_stores_the_same_tiles_as_single_appends(chain, signer):
    append_many(chain, signer, 5)
    batch = ledger_append_many(
        chain=chain, entries=[(signer, KIND, {"n": n}) for n in range(5, 16)]
    )
    assert [entry.index for entry in batch] == list(range(5, 16))
    assert [entry.payload["n"] for entry in batch] == list(range(5, 16))
    chain.refresh_from_db()
    assert chain.size == 16
    expected = memory_tree(chain)
    stored = {
        (level, index): bytes.fromhex(h)
        for level, index, h in MerkleNode.objects.filter(chain=chain).values_list(
            "level", "index", "hash"
        )
    }
    assert stored == {key: h for key, h in expected.nodes.items() if key[0] > 0}
    out = StringIO()
    call_command("ledger_verify", "--chain", chain.slug, stdout=out)
    assert "16 transactions" in out.getvalue()


@pytest.mark.parametrize(
    ("last", "error"),
    [
        pytest.param(
            lambda s: (s, KIND, {"name": "Jean Dupont"}),
            errors.PersonalDataRefused,
            id="personal-data",
        ),
        pytest.param(lambda s: (s, KIND, {"amount": 1.5}), errors.UnsafePayload, id="float"),
        pytest.param(lambda s: (s, "Bad Kind", {}), errors.BadKind, id="bad-kind"),
        pytest.param(lambda s: (new_signer(), KIND, {}), errors.UnknownActor, id="unknown-actor"),
        pytest.param(lambda s: (_ForgingSigner(s.did), KIND, {}), errors.BadSignature, id="forged"),
    ],
)
def test_a_batch_with_one_bad_transaction_writes_none_of_them(chain, signer, last, error):
    append_many(chain, signer, 2)
    entries = [(signer, KIND, {"n": n}) for n in range(4)] + [last(signer)]
    assert_refused(chain, error, lambda: ledger_append_many(chain=chain, entries=entries))


def test_an_empty_batch_writes_nothing(chain):
    assert ledger_append_many(chain=chain, entries=[]) == []
    assert counts(chain).transactions == 0

"""The successor's proof of possession of a validator key rotation is kept and re-checked.

Every new rotation (custodial or through the API) keeps the new key's signature of its
statement (`ValidatorChange.successor_signature`), rebuilt from the rotation's transaction,
which is unchanged. `ledger_verify` and the offline bundle verifier check it when it is there,
and fail naming the transaction and the block that seals it when one byte changed."""

from __future__ import annotations

import base64
import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import signing
from ledger.didkey import public_key_from_did
from ledger.errors import BadSignature, InvalidValidatorChange
from ledger.export import bundle_successor_signatures, iter_transactions
from ledger.models import Transaction, ValidatorChange
from ledger.quorum import ROTATE_KIND, SET_KIND, successor_statement
from ledger.services import chain_seal
from ledger.signing import platform_validator
from ledger.validators import (
    chain_validators_rebuild,
    rotation_successor_statement,
    validator_key_rotate,
    validator_key_rotate_signed,
)
from ledger.verification import VerificationFailed
from ledger.verify_bundle import main as verify_bundle_main
from ledger.verify_bundle import verify_bundle
from tests.factories import ChainFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many, flip_hex, hand_signed_rotation, written
from tests.ledger.test_validators import bundle_of, submit, verify

API = "/api/v1/ledger"


def statement_of(change: ValidatorChange) -> bytes:
    """The statement rebuilt from the recorded transaction alone, as an auditor does."""
    entry = change.entry
    return successor_statement(
        chain=change.chain.slug,
        validator=entry.payload["validator"],
        successor=entry.payload["successor"],
        effective_height=entry.payload["effective_height"],
        created_at=entry.created_at_text,
    )


def holds(did: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key_from_did(did)).verify(
            bytes.fromhex(signature_hex), message
        )
    except Exception:  # noqa: BLE001 - any failure means it does not hold
        return False
    return True


def seal_twice(chain, signer) -> None:
    """Block 2 seals the rotation (old key), block 3 is the first the new key signs."""
    for _ in range(2):
        append_many(chain, signer, 1)
        chain_seal(chain=chain)


@pytest.fixture
def custodial_rotation(db, signer):
    """The platform validator rotates custodially to a new key the platform holds; sealed."""
    chain = ChainFactory()
    append_many(chain, signer, 1)
    chain_seal(chain=chain)  # block 0, genesis set (the platform validator)
    new = new_signer()
    change = validator_key_rotate(chain=chain, validator=platform_validator(), successor=new)
    return chain, change, new


@pytest.fixture
def rotated_self_custody(self_custody, signer):
    """The self-custody validator rotated through the API's service; blocks 2 (sealing the
    rotation) and 3 sealed, awaiting the self-custody keys' signatures."""
    chain, old = self_custody
    new = new_signer()
    change = validator_key_rotate_signed(chain=chain, **hand_signed_rotation(chain, old, new))
    seal_twice(chain, signer)
    return chain, change, old, new


# --- the services keep it ---------------------------------------------------------------


def test_a_custodial_rotation_keeps_the_new_keys_signature(custodial_rotation):
    chain, change, new = custodial_rotation
    change.refresh_from_db()
    assert change.successor == new.did and change.kind == ROTATE_KIND
    assert len(change.successor_signature) == 128
    assert holds(new.did, change.successor_signature, statement_of(change))
    # The same bytes the API hands a self-custody successor to sign.
    assert statement_of(change) == rotation_successor_statement(
        chain=chain.slug,
        validator=platform_validator().did,
        successor=new.did,
        effective_height=change.effective_height,
        created_at=change.entry.created_at_text,
    )
    # The transaction's signed format is unchanged: the signature is not in it.
    assert change.entry.payload == {
        "validator": platform_validator().did,
        "successor": new.did,
        "effective_height": change.effective_height,
    }


def test_a_rotation_through_the_api_keeps_what_the_successor_signed(self_custody, signer):
    chain, old = self_custody
    new = new_signer()
    body = hand_signed_rotation(chain, old, new)
    change = validator_key_rotate_signed(chain=chain, **body)
    change.refresh_from_db()
    assert change.successor_signature == body["successor_signature"]
    assert holds(new.did, change.successor_signature, statement_of(change))
    assert verify(chain).failure is None


def test_a_custodial_successor_is_resolved_from_its_did(db, signer, monkeypatch):
    chain = ChainFactory()
    held = new_signer()
    monkeypatch.setattr(
        signing,
        "_CUSTODIAL_RESOLVERS",
        [lambda dids: {did: held for did in dids if did == held.did}],
    )
    change = validator_key_rotate(chain=chain, validator=platform_validator(), successor=held.did)
    assert holds(held.did, change.successor_signature, statement_of(change))


def test_a_successor_key_the_platform_does_not_hold_is_refused(db, signer, monkeypatch):
    chain = ChainFactory()
    monkeypatch.setattr(signing, "_CUSTODIAL_RESOLVERS", [])
    before = written(chain)
    with pytest.raises(InvalidValidatorChange, match="does not hold the successor's key"):
        validator_key_rotate(
            chain=chain, validator=platform_validator(), successor=new_signer().did
        )
    assert written(chain) == before


def test_a_successor_signer_whose_key_is_not_its_did_is_refused(db, signer):
    class Impostor:
        did = new_signer().did
        sign = new_signer().sign

    chain = ChainFactory()
    before = written(chain)
    with pytest.raises(BadSignature, match="does not match its DID"):
        validator_key_rotate(chain=chain, validator=platform_validator(), successor=Impostor())
    assert written(chain) == before


def test_set_changes_have_no_successor_signature(self_custody):
    chain, _ = self_custody
    change = ValidatorChange.objects.get(chain=chain, kind=SET_KIND)
    assert change.successor_signature == ""


# --- ledger_verify checks it from the database -------------------------------------------


def test_ledger_verify_checks_the_kept_signature(custodial_rotation, signer):
    chain, change, new = custodial_rotation
    seal_twice(chain, signer)  # block 1 seals the rotation; from block 2 the new key signs
    submit(chain, 2, new)
    assert verify(chain, require_final=True).failure is None
    rows = [tx for tx in iter_transactions(chain) if "successor_signature" in tx]
    assert [(tx["index"], tx["successor_signature"]) for tx in rows] == [
        (change.entry.index, change.successor_signature)
    ]

    ValidatorChange.objects.filter(pk=change.pk).update(
        successor_signature=flip_hex(change.successor_signature, 70)
    )
    failure = verify(chain).failure
    assert failure is not None
    assert failure.index == change.entry.index and failure.height == 1  # sealed in block 1
    assert "successor's signature" in failure.reason
    assert f"from height {change.effective_height}" in failure.reason


def test_a_signature_of_another_statement_fails(rotated_self_custody):
    chain, change, old, new = rotated_self_custody
    other = rotation_successor_statement(
        chain=chain.slug,
        validator=old.did,
        successor=new.did,
        effective_height=change.effective_height + 1,  # not the recorded height
        created_at=change.entry.created_at_text,
    )
    ValidatorChange.objects.filter(pk=change.pk).update(successor_signature=new.sign(other).hex())
    failure = verify(chain).failure
    assert failure is not None and failure.index == change.entry.index
    assert failure.height == 2


def test_a_rotation_recorded_before_proofs_were_kept_still_verifies(rotated_self_custody):
    chain, change, _, _ = rotated_self_custody
    ValidatorChange.objects.filter(pk=change.pk).update(successor_signature="")
    assert verify(chain).failure is None
    assert not any("successor_signature" in tx for tx in iter_transactions(chain))


# --- the bundle carries it, verify_bundle checks it ---------------------------------------


def rotation_row(bundle: dict) -> dict:
    [row] = [tx for tx in bundle["transactions"] if tx["kind"] == ROTATE_KIND]
    return row


def test_the_bundle_carries_the_signature_on_the_rotations_row_only(rotated_self_custody):
    chain, change, _, _ = rotated_self_custody
    change.refresh_from_db()
    bundle = bundle_of(chain)
    row = rotation_row(bundle)
    assert row["successor_signature"] == change.successor_signature
    others = [tx for tx in bundle["transactions"] if tx is not row]
    assert others and not any("successor_signature" in tx for tx in others)
    assert bundle_successor_signatures(bundle["transactions"]) == {
        change.entry.index: change.successor_signature
    }
    verifier = verify_bundle(bundle)
    assert verifier.transactions == chain.size


def test_a_tampered_signature_in_the_bundle_fails_naming_the_height(
    rotated_self_custody, tmp_path, capsys
):
    chain, change, _, _ = rotated_self_custody
    bundle = bundle_of(chain)
    for position in (0, 64, 127):  # the first byte, one in the middle, the last
        tampered = copy.deepcopy(bundle)
        row = rotation_row(tampered)
        row["successor_signature"] = flip_hex(row["successor_signature"], position)
        with pytest.raises(VerificationFailed) as failed:
            verify_bundle(tampered)
        failure = failed.value.failure
        assert (failure.index, failure.height) == (change.entry.index, 2)
        assert "successor's signature" in failure.reason

    import json

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(tampered))
    assert verify_bundle_main([str(path)]) == 1
    error = capsys.readouterr().err
    assert f"block height 2, transaction index {change.entry.index}" in error
    assert "successor's signature" in error


def test_a_bundle_without_the_signature_still_verifies(rotated_self_custody):
    """A chain exported before the signature was kept: nothing to check, nothing fails."""
    chain, _, _, _ = rotated_self_custody
    bundle = bundle_of(chain)
    del rotation_row(bundle)["successor_signature"]
    assert verify_bundle(bundle).transactions == chain.size


@pytest.mark.parametrize("value", ["", "zz" * 64, 12, "00" * 64])
def test_a_malformed_signature_fails(rotated_self_custody, value):
    chain, change, _, _ = rotated_self_custody
    bundle = bundle_of(chain)
    rotation_row(bundle)["successor_signature"] = value
    with pytest.raises(VerificationFailed) as failed:
        verify_bundle(bundle)
    assert failed.value.failure.index == change.entry.index


def test_a_signature_on_a_row_that_is_no_rotation_fails(rotated_self_custody):
    chain, change, _, _ = rotated_self_custody
    bundle = bundle_of(chain)
    first = bundle["transactions"][0]
    first["successor_signature"] = rotation_row(bundle)["successor_signature"]
    with pytest.raises(VerificationFailed, match="not a key rotation") as failed:
        verify_bundle(bundle)
    assert failed.value.failure.index == 0


# --- an import keeps it -------------------------------------------------------------------


def test_the_rebuilt_index_keeps_the_bundles_signatures(rotated_self_custody):
    chain, change, _, _ = rotated_self_custody
    change.refresh_from_db()
    kept = change.successor_signature
    bundle = bundle_of(chain)
    ValidatorChange.objects.filter(chain=chain).delete()  # as an import finds it
    chain_validators_rebuild(
        chain=chain, successor_signatures=bundle_successor_signatures(bundle["transactions"])
    )
    rebuilt = ValidatorChange.objects.get(chain=chain, kind=ROTATE_KIND)
    assert rebuilt.successor_signature == kept
    assert ValidatorChange.objects.get(chain=chain, kind=SET_KIND).successor_signature == ""
    assert verify(chain).failure is None

    ValidatorChange.objects.filter(chain=chain).delete()
    chain_validators_rebuild(chain=chain)  # an older bundle: none to keep
    assert ValidatorChange.objects.get(chain=chain, kind=ROTATE_KIND).successor_signature == ""


# --- the API and the explorer show it -----------------------------------------------------


def test_the_validators_api_shows_the_statement_and_its_signature(self_custody, client):
    chain, old = self_custody
    new = new_signer()
    change = validator_key_rotate_signed(chain=chain, **hand_signed_rotation(chain, old, new))
    answer = client.get(f"{API}/chains/{chain.slug}/validators").json()

    [rotation] = answer["rotations"]
    assert rotation["validator"] == old.did and rotation["successor"] == new.did
    assert rotation["entry_index"] == change.entry.index
    assert rotation["effective_height"] == change.effective_height
    statement = base64.b64decode(rotation["successor_statement"])
    assert statement == statement_of(change)
    assert holds(new.did, rotation["successor_signature"], statement)
    assert rotation["created_at"] == Transaction.objects.get(pk=change.entry_id).created_at_text
    [scheduled] = answer["scheduled"]  # still ahead: block 2 is not sealed yet
    assert scheduled["successor_signature"] == rotation["successor_signature"]

    ValidatorChange.objects.filter(pk=change.pk).update(successor_signature="")
    answer = client.get(f"{API}/chains/{chain.slug}/validators").json()
    assert answer["rotations"][0]["successor_signature"] is None
    assert answer["scheduled"][0]["successor_signature"] is None


def test_the_validators_api_schema_documents_rotations(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    fields = components["KeyRotation"]["properties"]
    assert {"successor_statement", "successor_signature", "created_at"} <= set(fields)
    assert fields["successor_signature"].get("nullable") is True
    assert "rotations" in components["ChainValidators"]["properties"]
    assert components["ValidatorChange"]["properties"]["successor_signature"]["nullable"]


def test_the_explorer_shows_the_new_keys_signature(rotated_self_custody, client):
    chain, change, _, _ = rotated_self_custody
    change.refresh_from_db()
    html = client.get(f"/ledger/{chain.slug}/").content.decode()
    rotations = html.split('data-testid="key-rotations"')[1].split("</ul>")[0]
    assert change.successor_signature in rotations
    assert f"/ledger/{chain.slug}/entries/{change.entry.index}/" in rotations

    ValidatorChange.objects.filter(pk=change.pk).update(successor_signature="")
    html = client.get(f"/ledger/{chain.slug}/").content.decode()
    assert 'data-testid="successor-signature-missing"' in html


def test_a_chain_without_rotations_shows_none(self_custody, client):
    chain, _ = self_custody
    html = client.get(f"/ledger/{chain.slug}/").content.decode()
    assert 'data-testid="key-rotations"' not in html
    assert client.get(f"{API}/chains/{chain.slug}/validators").json()["rotations"] == []

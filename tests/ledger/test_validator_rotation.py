"""A self-custody validator rotates its own key: the old key signs the prepared
`ledger.validators.rotate` transaction, the successor key signs a statement that it takes the
old one's place, and the chain refuses, writing nothing, anything short of both."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from ledger.errors import (
    BadSignature,
    InvalidValidatorChange,
    NotAValidator,
    RotationPending,
    StaleTransaction,
    UnknownChain,
)
from ledger.models import Transaction
from ledger.quorum import ROTATE_KIND
from ledger.selectors import validator_set_at
from ledger.services import chain_seal
from ledger.signing import platform_validator
from ledger.validators import (
    rotation_successor_statement,
    validator_key_rotate,
    validator_key_rotate_prepare,
    validator_key_rotate_signed,
)
from ledger.verify_bundle import verify_bundle
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many, hand_signed_rotation, written
from tests.ledger.test_validators import bundle_of, submit, verify


def signed_rotation(chain, validator, successor, *, effective_height=None, **overrides) -> dict:
    """What the validator's client sends after the prepare: both keys sign their bytes."""
    prepared = validator_key_rotate_prepare(
        chain=chain,
        validator=validator.did,
        successor=successor.did,
        effective_height=effective_height,
    )
    fields = {
        "validator": validator.did,
        "successor": successor.did,
        "effective_height": prepared.effective_height,
        "created_at": prepared.transaction.created_at,
        "signature": validator.sign(prepared.transaction.signing_bytes).hex(),
        "successor_signature": base64.b64encode(
            successor.sign(prepared.successor_statement)
        ).decode(),
    }
    return {**fields, **overrides}


def test_a_self_custody_validator_rotates_its_key(self_custody, signer):
    chain, old = self_custody
    new = new_signer()
    prepared = validator_key_rotate_prepare(chain=chain, validator=old.did, successor=new.did)
    assert prepared.effective_height == 3  # sealed in block 2, in force from the next
    assert prepared.transaction.actor == old.did
    assert prepared.transaction.payload == {
        "validator": old.did,
        "successor": new.did,
        "effective_height": 3,
    }
    change = validator_key_rotate_signed(chain=chain, **signed_rotation(chain, old, new))
    assert (change.kind, change.validator, change.successor) == (ROTATE_KIND, old.did, new.did)
    entry = Transaction.objects.get(chain=chain, kind=ROTATE_KIND)
    assert entry == change.entry and entry.actor == old.did
    assert entry.payload == prepared.transaction.payload

    for _ in range(2):  # 2: seals the rotation, the old key signs; 3: the new key
        append_many(chain, signer, 1)
        chain_seal(chain=chain)
    assert validator_set_at(chain=chain, height=2).members == (platform_validator().did, old.did)
    assert validator_set_at(chain=chain, height=3).members == (platform_validator().did, new.did)
    submit(chain, 2, old)
    with pytest.raises(NotAValidator):
        submit(chain, 3, old)
    assert submit(chain, 3, new).final is True
    assert verify(chain, require_final=True).failure is None
    assert verify_bundle(bundle_of(chain), workers=0, require_final=True).blocks == 4


def test_the_validator_may_choose_a_later_height(self_custody):
    chain, old = self_custody
    new = new_signer()
    change = validator_key_rotate_signed(
        chain=chain.slug, **signed_rotation(chain, old, new, effective_height=7)
    )
    assert change.effective_height == 7
    assert validator_set_at(chain=chain, height=6).members[1] == old.did
    assert validator_set_at(chain=chain, height=7).members[1] == new.did


@pytest.mark.parametrize(
    "tamper",
    [
        "old_key_signs_nothing_it_prepared",
        "another_key_signs_for_the_validator",
        "successor_signs_the_transaction_not_its_statement",
        "another_key_signs_for_the_successor",
        "successor_signature_for_another_height",
        "signature_not_hex_nor_base64",
    ],
)
def test_both_keys_must_sign_their_own_bytes(self_custody, tamper):
    chain, old = self_custody
    new, stranger = new_signer(), new_signer()
    body = signed_rotation(chain, old, new)
    prepared = validator_key_rotate_prepare(chain=chain, validator=old.did, successor=new.did)
    if tamper == "old_key_signs_nothing_it_prepared":
        body["signature"] = old.sign(b"something else").hex()
    elif tamper == "another_key_signs_for_the_validator":
        body["signature"] = stranger.sign(prepared.transaction.signing_bytes).hex()
    elif tamper == "successor_signs_the_transaction_not_its_statement":
        body["successor_signature"] = new.sign(prepared.transaction.signing_bytes).hex()
    elif tamper == "another_key_signs_for_the_successor":
        body["successor_signature"] = stranger.sign(prepared.successor_statement).hex()
    elif tamper == "successor_signature_for_another_height":
        other = rotation_successor_statement(
            chain=chain.slug,
            validator=old.did,
            successor=new.did,
            effective_height=body["effective_height"] + 1,
            created_at=body["created_at"],
        )
        body["successor_signature"] = new.sign(other).hex()
    else:
        body["signature"] = "not a signature!"
    before = written(chain)
    with pytest.raises(BadSignature):
        validator_key_rotate_signed(chain=chain, **body)
    assert written(chain) == before


def test_a_changed_height_breaks_the_validators_signature(self_custody):
    chain, old = self_custody
    body = signed_rotation(chain, old, new_signer())
    before = written(chain)
    with pytest.raises(BadSignature):
        validator_key_rotate_signed(chain=chain, **{**body, "effective_height": 9})
    assert written(chain) == before


def test_refusals_write_nothing(self_custody, signer):
    chain, old = self_custody
    outsider, new = new_signer(), new_signer()
    before = written(chain)
    with pytest.raises(NotAValidator):  # well signed, but not in the set
        validator_key_rotate_signed(chain=chain, **hand_signed_rotation(chain, outsider, new))
    with pytest.raises(InvalidValidatorChange, match="a validator already"):
        validator_key_rotate_prepare(
            chain=chain, validator=old.did, successor=platform_validator().did
        )
    with pytest.raises(InvalidValidatorChange, match="not a did:key"):
        validator_key_rotate_prepare(chain=chain, validator=old.did, successor="did:web:x.fr")
    with pytest.raises(InvalidValidatorChange, match="from height 3"):
        validator_key_rotate_prepare(
            chain=chain, validator=old.did, successor=new.did, effective_height=2
        )
    with pytest.raises(UnknownChain):
        validator_key_rotate_prepare(chain="nowhere", validator=old.did, successor=new.did)
    assert written(chain) == before


def test_a_stale_prepare_is_refused(self_custody, signer):
    chain, old = self_custody
    new = new_signer()
    body = signed_rotation(chain, old, new)  # effective height 3
    append_many(chain, signer, 1)
    chain_seal(chain=chain)  # block 2 sealed: a change now takes effect from 4 at the earliest
    before = written(chain)
    with pytest.raises(InvalidValidatorChange, match="from height 4"):
        validator_key_rotate_signed(chain=chain, **body)
    old_moment = timezone.now() - timedelta(hours=2)
    with pytest.raises(StaleTransaction):
        validator_key_rotate_signed(
            chain=chain, **hand_signed_rotation(chain, old, new, moment=old_moment, height=4)
        )
    assert written(chain) == before


def test_a_replay_or_a_second_rotation_is_a_conflict(self_custody, signer):
    chain, old = self_custody
    new, other = new_signer(), new_signer()
    body = signed_rotation(chain, old, new)
    validator_key_rotate_signed(chain=chain, **body)
    before = written(chain)
    with pytest.raises(RotationPending, match="already rotated from block 3"):
        validator_key_rotate_signed(chain=chain, **body)  # the same request again
    with pytest.raises(RotationPending):  # another successor, while the first is scheduled
        validator_key_rotate_signed(chain=chain, **hand_signed_rotation(chain, old, other))
    with pytest.raises(RotationPending):
        validator_key_rotate_prepare(chain=chain, validator=old.did, successor=other.did)
    with pytest.raises(RotationPending):  # the platform key custodially, to the same DID
        validator_key_rotate(chain=chain, validator=platform_validator(), successor=new)
    assert written(chain) == before


def test_once_in_force_the_old_key_may_no_longer_rotate(self_custody, signer):
    chain, old = self_custody
    new, later = new_signer(), new_signer()
    validator_key_rotate_signed(chain=chain, **signed_rotation(chain, old, new))
    for _ in range(2):
        append_many(chain, signer, 1)
        chain_seal(chain=chain)  # blocks 2 and 3: the rotation is in force
    with pytest.raises(NotAValidator):
        validator_key_rotate_prepare(chain=chain, validator=old.did, successor=later.did)
    # The new key rotates in turn: one rotation at a time, each by the key in force.
    change = validator_key_rotate_signed(chain=chain, **signed_rotation(chain, new, later))
    assert (change.validator, change.effective_height) == (new.did, 5)


def test_the_custodial_rotation_refuses_a_second_one_too(self_custody):
    chain, old = self_custody
    validator_key_rotate(chain=chain, validator=old, successor=new_signer())
    before = written(chain)
    with pytest.raises(RotationPending):
        validator_key_rotate(chain=chain, validator=old, successor=new_signer())
    assert written(chain) == before

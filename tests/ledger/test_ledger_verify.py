"""`manage.py ledger_verify`: a byte changed anywhere in the stored ledger is caught and located.

The chain under test holds 12 transactions in two blocks (tree sizes 5 and 12). Each case
changes one stored value by hand, the way someone with database access would, and expects
exit status 1 and the block height and/or transaction index of the first bad item.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger.models import Block, BlockSignature, Chain, MerkleNode, Transaction
from ledger.services import actor_register
from tests.factories import ChainFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many, flip_hex

pytestmark = pytest.mark.django_db


def verify(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def tx(chain, index):
    return Transaction.objects.filter(chain=chain, index=index)


def block(chain, height):
    return Block.objects.filter(chain=chain, height=height)


def flip_field(queryset, field: str, position: int = 10):
    value = queryset.values_list(field, flat=True).get()
    queryset.update(**{field: flip_hex(value, position)})


def shift_time(queryset, field: str):
    value = queryset.values_list(field, flat=True).get()
    queryset.update(**{field: value + timedelta(microseconds=1)})


def flip_note_signature(chain):
    signatures = BlockSignature.objects.filter(block__chain=chain, block__height=1)
    raw = bytearray(base64.b64decode(signatures.values_list("note_signature", flat=True).get()))
    raw[20] ^= 1
    signatures.update(note_signature=base64.b64encode(bytes(raw)).decode())


def other_actor(chain):
    stranger = new_signer()
    actor_register(did=stranger.did)
    tx(chain, 7).update(actor=stranger.did)


TAMPERINGS = {
    "tx-payload": (lambda c: tx(c, 7).update(payload={"n": 8, "ref": "ref-7"}), None, 7),
    "tx-payload-key": (lambda c: tx(c, 7).update(payload={"n": 7, "reg": "ref-7"}), None, 7),
    "tx-signature": (lambda c: flip_field(tx(c, 7), "signature"), None, 7),
    "tx-kind": (lambda c: tx(c, 7).update(kind="test.thing.recorc"), None, 7),
    "tx-created-at": (lambda c: shift_time(tx(c, 7), "created_at"), None, 7),
    "tx-actor": (other_actor, None, 7),
    "tx-leaf-hash": (lambda c: flip_field(tx(c, 7), "leaf_hash"), None, 7),
    "tx-hash": (lambda c: flip_field(tx(c, 7), "tx_hash"), None, 7),
    "tx-deleted": (lambda c: tx(c, 7).delete(), None, 8),
    "node-level-1": (
        lambda c: flip_field(MerkleNode.objects.filter(chain=c, level=1, index=3), "hash"),
        None,
        6,
    ),
    "node-level-3": (
        lambda c: flip_field(MerkleNode.objects.filter(chain=c, level=3, index=0), "hash"),
        None,
        0,
    ),
    "block-root": (lambda c: flip_field(block(c, 1), "root"), 1, None),
    "first-block-root": (lambda c: flip_field(block(c, 0), "root"), 0, None),
    "block-prev-hash": (lambda c: flip_field(block(c, 1), "prev_hash"), 1, None),
    "block-hash": (lambda c: flip_field(block(c, 0), "block_hash"), 0, None),
    "block-sealed-at": (lambda c: shift_time(block(c, 1), "sealed_at"), 1, None),
    "block-tree-size": (lambda c: block(c, 1).update(tree_size=11), 1, None),
    "block-header-signature": (
        lambda c: flip_field(
            BlockSignature.objects.filter(block__chain=c, block__height=1), "header_signature"
        ),
        1,
        None,
    ),
    "block-note-signature": (flip_note_signature, 1, None),
    "block-validator": (
        lambda c: BlockSignature.objects.filter(block__chain=c, block__height=1).update(
            validator=new_signer().did
        ),
        1,
        None,
    ),
}


def test_a_good_chain_verifies(sealed_chain):
    code, out, err = verify("--chain", sealed_chain.slug)
    assert code == 0, err
    assert f"OK {sealed_chain.slug}: 12 transactions, 2 blocks" in out
    assert err == ""


def test_transactions_waiting_for_a_block_verify_too(sealed_chain, signer):
    append_many(sealed_chain, signer, 3, start=12)
    code, out, _ = verify("--chain", sealed_chain.slug)
    assert code == 0
    assert "15 transactions, 2 blocks" in out


@pytest.mark.parametrize("name", TAMPERINGS)
def test_a_changed_byte_is_caught_and_located(sealed_chain, name):
    tamper, height, index = TAMPERINGS[name]
    tamper(sealed_chain)
    code, _, err = verify("--chain", sealed_chain.slug)
    assert code == 1
    assert err.startswith(f"FAILED {sealed_chain.slug}: ")
    if height is not None:
        assert re.search(rf"\bblock height {height}\b", err), err
    if index is not None:
        assert re.search(rf"\btransaction index {index}\b", err), err


def test_a_head_that_disagrees_with_the_log_is_caught(sealed_chain):
    Chain.objects.filter(pk=sealed_chain.pk).update(size=13)
    code, _, err = verify("--chain", sealed_chain.slug)
    assert code == 1
    assert "13" in err


def test_a_missing_stored_subtree_is_caught(sealed_chain):
    MerkleNode.objects.filter(chain=sealed_chain, level=2, index=2).delete()
    code, _, err = verify("--chain", sealed_chain.slug)
    assert code == 1
    assert re.search(r"\btransaction index 8\b", err), err


def test_every_chain_is_checked_and_only_the_bad_one_is_named(sealed_chain, signer):
    good = ChainFactory()
    append_many(good, signer, 2)
    flip_field(tx(sealed_chain, 3), "signature")
    code, out, err = verify()
    assert code == 1
    assert f"OK {good.slug}: 2 transactions" in out
    assert f"FAILED {sealed_chain.slug}: block height 0, transaction index 3" in err
    assert good.slug not in err


def test_an_unknown_chain_is_a_command_error(db):
    with pytest.raises(CommandError, match="atlantis"):
        verify("--chain", "atlantis")


def test_a_chain_resealed_by_another_key_fails_even_if_every_signature_verifies(
    sealed_chain, settings
):
    """Someone with database access re-signs the blocks with a key of their own: every
    signature verifies, but the key is not the platform validator's."""
    code, _, _ = verify("--chain", sealed_chain.slug)
    assert code == 0
    settings.SMARTB_VALIDATOR_KEY_SEED = base64.b64encode(b"\x07" * 32).decode()
    code, _, err = verify("--chain", sealed_chain.slug)
    assert code == 1
    assert "block height 0" in err
    assert "not a validator of this chain" in err


def test_a_chain_head_that_disagrees_with_its_blocks_fails(sealed_chain):
    Chain.objects.filter(pk=sealed_chain.pk).update(head_block_hash="ab" * 32)
    code, _, err = verify("--chain", sealed_chain.slug)
    assert code == 1
    assert "chain head" in err


def test_signatures_checked_in_worker_processes_give_the_same_verdict(sealed_chain):
    code, out, _ = verify("--chain", sealed_chain.slug, "--workers", "2")
    assert code == 0, out
    flip_field(tx(sealed_chain, 9), "signature")
    code, _, err = verify("--chain", sealed_chain.slug, "--workers", "2")
    assert code == 1
    assert "transaction index 9: signature does not verify" in err


def test_with_workers_the_first_fault_in_log_order_is_named(sealed_chain):
    """A bad signature at 3 (checked in a worker) comes before a bad leaf at 7 (inline)."""
    flip_field(tx(sealed_chain, 3), "signature")
    flip_field(tx(sealed_chain, 7), "leaf_hash")
    code, _, err = verify("--chain", sealed_chain.slug, "--workers", "2")
    assert code == 1
    assert "transaction index 3: signature does not verify" in err

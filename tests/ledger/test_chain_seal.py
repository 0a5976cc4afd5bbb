"""Sealing: blocks over the log, idempotent, all or nothing; by batch size, by beat, on demand."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import CommandError, call_command

from ledger.canonical import canonical_json
from ledger.checkpoint import verify_checkpoint
from ledger.didkey import public_key_from_did
from ledger.models import Block, BlockSignature, Chain
from ledger.selectors import block_checkpoint
from ledger.services import GENESIS_PREV_HASH, chain_seal
from ledger.signing import checkpoint_origin, platform_validator
from ledger.tasks import seal_chain, seal_due_chains
from smartb.celery import app as celery_app
from tests.factories import ChainFactory
from tests.ledger.helpers import append_many, counts, memory_tree

pytestmark = pytest.mark.django_db


def test_the_first_block_seals_the_whole_log(chain, signer):
    append_many(chain, signer, 7)
    block = chain_seal(chain=chain)
    assert (block.height, block.prev_hash, block.tree_size) == (0, GENESIS_PREV_HASH, 7)
    assert block.root == memory_tree(chain).root(7).hex()
    assert block.block_hash == hashlib.sha256(canonical_json(block.header())).hexdigest()
    chain.refresh_from_db()
    assert (chain.sealed_size, chain.block_count, chain.head_block_hash) == (7, 1, block.block_hash)
    assert chain.pending_count == 0


def test_the_next_block_links_to_the_previous_one(chain, signer):
    append_many(chain, signer, 3)
    first = chain_seal(chain=chain)
    append_many(chain, signer, 6, start=3)
    second = chain_seal(chain=chain)
    assert (second.height, second.prev_hash, second.tree_size) == (1, first.block_hash, 9)
    assert second.root == memory_tree(chain).root(9).hex()
    chain.refresh_from_db()
    assert (chain.block_count, chain.head_block_hash) == (2, second.block_hash)


def test_the_validator_signs_the_header_and_the_checkpoint(chain, signer):
    append_many(chain, signer, 4)
    block = chain_seal(chain=chain)
    validator = platform_validator()
    (signature,) = block.signatures.all()
    assert signature.validator == validator.did
    assert public_key_from_did(signature.validator) == validator.public_key
    Ed25519PublicKey.from_public_bytes(validator.public_key).verify(
        bytes.fromhex(signature.header_signature), canonical_json(block.header())
    )
    checkpoint = verify_checkpoint(
        block_checkpoint(block=block),
        name=checkpoint_origin(chain.slug),
        public_key=validator.public_key,
    )
    assert (checkpoint.tree_size, checkpoint.root.hex()) == (4, block.root)


def test_sealing_with_nothing_pending_writes_nothing(chain, signer):
    assert chain_seal(chain=chain) is None
    assert counts(chain).blocks == 0
    append_many(chain, signer, 2)
    chain_seal(chain=chain)
    before = counts(chain)
    head = Chain.objects.values().get(pk=chain.pk)
    assert chain_seal(chain=chain) is None
    assert chain_seal(chain=chain.slug) is None
    assert counts(chain) == before
    assert Chain.objects.values().get(pk=chain.pk) == head


def test_a_seal_that_crashes_halfway_leaves_nothing_and_a_retry_gives_the_same_chain(
    chain, signer, monkeypatch
):
    append_many(chain, signer, 5)
    before = counts(chain)

    def crash(*args, **kwargs):
        raise ConnectionError("the worker died while signing")

    with monkeypatch.context() as patch:
        patch.setattr(BlockSignature.objects, "create", crash)
        with pytest.raises(ConnectionError):
            chain_seal(chain=chain)
    assert counts(chain) == before
    chain.refresh_from_db()
    assert (chain.sealed_size, chain.block_count, chain.head_block_hash) == (0, 0, "")

    block = chain_seal(chain=chain)
    assert (block.height, block.prev_hash, block.tree_size) == (0, GENESIS_PREV_HASH, 5)
    assert block.root == memory_tree(chain).root(5).hex()
    assert block.signatures.count() == 1
    assert chain_seal(chain=chain) is None
    out = StringIO()
    call_command("ledger_verify", "--chain", chain.slug, stdout=out)
    assert "OK" in out.getvalue()


def test_a_crash_while_moving_the_head_rolls_the_block_back(chain, signer, monkeypatch):
    append_many(chain, signer, 3)
    original_save = Chain.save

    def crash(self, *args, **kwargs):
        if "sealed_size" in (kwargs.get("update_fields") or ()):
            raise ConnectionError("lost the database between the block and the head")
        return original_save(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Chain, "save", crash)
        with pytest.raises(ConnectionError):
            chain_seal(chain=chain)
    assert counts(chain).blocks == 0 and counts(chain).signatures == 0
    assert chain_seal(chain=chain).height == 0


@pytest.fixture
def eager_celery():
    """Tasks run in-process, whatever broker the environment names."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_a_block_is_sealed_when_enough_transactions_wait(
    chain, signer, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.SMARTB_SEAL_BATCH_SIZE = 3
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        append_many(chain, signer, 2)
    assert callbacks == []
    assert counts(chain).blocks == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        append_many(chain, signer, 1, start=2)
    assert len(callbacks) == 1
    block = Block.objects.get(chain=chain)
    assert (block.height, block.tree_size) == (0, 3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        append_many(chain, signer, 2, start=3)
    assert callbacks == []  # two wait, fewer than the batch size


def test_a_seal_is_only_requested_after_the_append_commits(
    chain, signer, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.SMARTB_SEAL_BATCH_SIZE = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        append_many(chain, signer, 1)
    assert len(callbacks) == 1
    assert counts(chain).blocks == 0  # not before the commit
    callbacks[0]()
    assert counts(chain).blocks == 1


def test_the_beat_task_seals_every_chain_with_pending_transactions(signer):
    busy, idle, done = ChainFactory(), ChainFactory(), ChainFactory()
    append_many(busy, signer, 4)
    append_many(done, signer, 2)
    chain_seal(chain=done)
    sealed = seal_due_chains()
    assert busy.slug in sealed and idle.slug not in sealed and done.slug not in sealed
    assert Block.objects.get(chain=busy).tree_size == 4
    assert counts(idle).blocks == 0 and counts(done).blocks == 1
    assert set(seal_due_chains()) & {busy.slug, idle.slug, done.slug} == set()


def test_the_seal_task_is_safe_to_retry(chain, signer):
    append_many(chain, signer, 2)
    assert seal_chain(chain.pk) == 0
    assert seal_chain(chain.pk) is None
    assert seal_chain(10**9) is None
    assert counts(chain).blocks == 1


def test_the_seal_command_seals_one_chain_on_demand(chain, signer):
    other = ChainFactory()
    append_many(chain, signer, 3)
    append_many(other, signer, 1)
    out = StringIO()
    call_command("ledger_seal", "--chain", chain.slug, stdout=out)
    assert f"{chain.slug}: sealed block 0 at tree size 3" in out.getvalue()
    assert counts(chain).blocks == 1 and counts(other).blocks == 0
    out = StringIO()
    call_command("ledger_seal", "--chain", chain.slug, stdout=out)
    assert "nothing to seal" in out.getvalue()
    assert counts(chain).blocks == 1


def test_the_seal_command_seals_every_chain_by_default(chain, signer):
    other = ChainFactory()
    append_many(chain, signer, 3)
    append_many(other, signer, 1)
    call_command("ledger_seal", stdout=StringIO())
    assert counts(chain).blocks == 1 and counts(other).blocks == 1


def test_the_seal_command_names_an_unknown_chain():
    with pytest.raises(CommandError, match="atlantis"):
        call_command("ledger_seal", "--chain", "atlantis", stdout=StringIO())

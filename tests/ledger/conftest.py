"""Fixtures of the ledger tests: a registered signing actor and filled chains."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.canonical import canonical_json
from ledger.checkpoint import note_body
from ledger.models import Block
from ledger.services import actor_register, chain_seal
from ledger.signing import KeySigner, checkpoint_origin, platform_validator
from ledger.validators import block_signature_submit, validator_set_schedule
from tests.factories import ChainFactory
from tests.ledger.helpers import append_many


def new_signer() -> KeySigner:
    return KeySigner(Ed25519PrivateKey.generate())


@pytest.fixture
def signer(db) -> KeySigner:
    """A registered ledger actor holding its own key."""
    key = new_signer()
    actor_register(did=key.did)
    return key


@pytest.fixture
def sealed_chain(db, signer):
    """A chain of 12 transactions in two blocks (tree sizes 5 and 12)."""
    chain = ChainFactory()
    append_many(chain, signer, 5)
    chain_seal(chain=chain)
    append_many(chain, signer, 7, start=5)
    chain_seal(chain=chain)
    chain.refresh_from_db()
    return chain


@pytest.fixture
def self_custody(db, signer):
    """A chain validated by {platform, V} (2 of 2) from height 1, V keeping its own key
    (self-custody): block 0 seals the change, block 1 is signed by both."""
    chain = ChainFactory()
    validator = new_signer()
    validator_set_schedule(
        chain=chain, members=[platform_validator().did, validator.did], quorum=2, actor=signer
    )
    chain_seal(chain=chain)
    append_many(chain, signer, 1)
    chain_seal(chain=chain)
    block = Block.objects.get(chain=chain, height=1)
    note = note_body(checkpoint_origin(chain.slug), block.tree_size, bytes.fromhex(block.root))
    block_signature_submit(
        chain=chain,
        height=1,
        validator=validator.did,
        header_signature=validator.sign(canonical_json(block.header(chain.slug))),
        note_signature=validator.sign(note.encode()),
    )
    chain.refresh_from_db()
    return chain, validator

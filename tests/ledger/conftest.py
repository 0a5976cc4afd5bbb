"""Fixtures of the ledger tests: a registered signing actor and filled chains."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.services import actor_register, chain_seal
from ledger.signing import KeySigner
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

"""Who signs: the `Signer` protocol the ledger takes, and the platform validator key."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from .didkey import did_from_public_key


class Signer(Protocol):
    """Anything with a DID that can sign bytes with that DID's Ed25519 key.

    `identity` gives custodial accounts such an object; the ledger never sees where the
    private key lives.
    """

    did: str

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeySigner:
    """A Signer around an in-memory private key (validators, tests, benchmarks)."""

    private_key: Ed25519PrivateKey

    @functools.cached_property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @functools.cached_property
    def did(self) -> str:
        return did_from_public_key(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


@functools.cache
def _validator_for_seed(seed_b64: str) -> KeySigner:
    seed = base64.b64decode(seed_b64)
    if len(seed) != 32:
        raise ValueError("SMARTB_VALIDATOR_KEY_SEED must be base64 of 32 bytes")
    return KeySigner(Ed25519PrivateKey.from_private_bytes(seed))


def platform_validator() -> KeySigner:
    """The platform's validator key, which seals blocks and signs checkpoints."""
    return _validator_for_seed(settings.SMARTB_VALIDATOR_KEY_SEED)


def trusted_validators() -> dict[str, str]:
    """Validator DID -> hex public key of the keys allowed to seal blocks.

    Today the platform's own key; the network issue turns this into a per-city validator set
    with a quorum, changed by vote.
    """
    validator = platform_validator()
    return {validator.did: validator.public_key.hex()}


def checkpoint_origin(chain_slug: str) -> str:
    return f"{settings.SMARTB_LEDGER_ORIGIN}/{chain_slug}"

"""Who signs: the `Signer` protocol the ledger takes, and the platform validator key."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
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

    The platform's own key: the genesis set of every chain (quorum 1). A chain's later sets
    are recorded on the chain itself (`ledger.quorum`, `ledger.validators`).
    """
    validator = platform_validator()
    return {validator.did: validator.public_key.hex()}


def checkpoint_origin(chain_slug: str) -> str:
    return f"{settings.SMARTB_LEDGER_ORIGIN}/{chain_slug}"


# Resolvers give the custodial Signers the platform holds for some DIDs: `identity` registers
# one at app-ready, so the ledger can co-sign with custodial validator keys without importing it.
_CUSTODIAL_RESOLVERS: list[Callable[[list[str]], dict[str, Signer]]] = []


def register_custodial_resolver(resolver: Callable[[list[str]], dict[str, Signer]]) -> None:
    """Add `resolver(dids) -> {did: Signer}` for the DIDs whose keys the platform holds."""
    if resolver not in _CUSTODIAL_RESOLVERS:
        _CUSTODIAL_RESOLVERS.append(resolver)


def custodial_signers(dids: list[str]) -> dict[str, Signer]:
    """Signers the platform holds for some of `dids` (self-custody ones are absent)."""
    found: dict[str, Signer] = {}
    wanted = list(dids)
    for resolver in _CUSTODIAL_RESOLVERS:
        remaining = [did for did in wanted if did not in found]
        if not remaining:
            break
        found.update(resolver(remaining))
    return found

"""Prepare, sign, submit: how every write endpoint takes a signed action.

A custodial account just submits; the platform signs with its sealed key. A self-custody
client (typically a provider's API client) first asks the endpoint to *prepare* the action:
the answer holds the canonical transaction bytes (RFC 8785) to sign. It signs them with its
own Ed25519 key and submits the same input plus `created_at` and `signature`; the server
rebuilds the bytes from that input, checks the signature, performs the action and appends
the transaction, all in one database transaction. The private key never reaches the server.

An action subclasses `SignedAction`; `identity.api.signed_action_endpoints` turns it into
the two endpoints `<path>/prepare` and `<path>`.
"""

from __future__ import annotations

import abc
import base64
import binascii
from typing import Any

from django.db import transaction

from ledger.errors import BadSignature
from ledger.models import Chain
from ledger.services import (
    PreparedTransaction,
    ledger_append,
    ledger_append_signed,
    transaction_prepare,
)

from .models import User
from .services import signer_for


class SignedAction(abc.ABC):
    kind: str = ""
    chain: str = "network"

    @abc.abstractmethod
    def actor_did(self, *, user: User, data: dict) -> str:
        """The DID that signs this action."""

    @abc.abstractmethod
    def payload(self, *, user: User, data: dict) -> dict:
        """The ledger payload: DIDs, ids and digests only."""

    def custodial_signer(self, *, user: User, data: dict):
        """The custodial identity that signs when no signature is submitted."""
        from .services import identity_owned

        return signer_for(identity_owned(user=user, did=self.actor_did(user=user, data=data)))

    @abc.abstractmethod
    def perform(self, *, user: User, data: dict, append) -> Any:
        """Change state and call `append()` once, inside the caller's transaction."""

    def chain_for(self, *, user: User, data: dict) -> Chain | str:
        """The chain (or its slug): a Chain the caller already loaded saves a lookup."""
        return self.chain


def decode_signature(value: str) -> bytes:
    """A signature arrives as hex (128 characters) or base64/base64url (86-88 characters)."""
    text = (value or "").strip()
    try:
        if len(text) == 128:
            return bytes.fromhex(text)
        padded = text + "=" * (-len(text) % 4)
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (ValueError, binascii.Error) as error:
        raise BadSignature("the signature is neither hex nor base64") from error


def action_prepare(action: SignedAction, *, user: User, data: dict) -> PreparedTransaction:
    return transaction_prepare(
        chain=action.chain_for(user=user, data=data),
        actor_did=action.actor_did(user=user, data=data),
        kind=action.kind,
        payload=action.payload(user=user, data=data),
    )


def prepared_as_dict(prepared: PreparedTransaction) -> dict:
    return {
        **prepared.fields,
        "signing_input": base64.b64encode(prepared.signing_bytes).decode(),
        "signature_algorithm": "Ed25519",
        "signature_encoding": "hex or base64",
    }


@transaction.atomic
def action_execute(
    action: SignedAction,
    *,
    user: User,
    data: dict,
    created_at: str | None = None,
    signature: str | None = None,
) -> Any:
    """Perform `action` with its ledger transaction; nothing is written if either fails."""
    chain = action.chain_for(user=user, data=data)
    actor_did = action.actor_did(user=user, data=data)

    if signature:
        raw = decode_signature(signature)

        def append():
            return ledger_append_signed(
                chain=chain,
                actor_did=actor_did,
                kind=action.kind,
                payload=action.payload(user=user, data=data),
                created_at=created_at or "",
                signature=raw,
            )
    else:
        signer = action.custodial_signer(user=user, data=data)

        def append():
            return ledger_append(
                chain=chain,
                actor=signer,
                kind=action.kind,
                payload=action.payload(user=user, data=data),
            )

    return action.perform(user=user, data=data, append=append)

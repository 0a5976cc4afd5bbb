"""The signed actions of the identity app (see `identity.signed_actions`)."""

from __future__ import annotations

from .models import Attestation, Identity, User
from .services import (
    KIND_DID_REGISTER,
    KIND_DOCUMENT_ATTEST,
    attest_payload,
    did_register_payload,
    document_attest,
    identity_owned,
    identity_register_self_custody,
)
from .signed_actions import SignedAction


class AttestDocument(SignedAction):
    """An identity of mine attests a document by its SHA-256 digest."""

    kind = KIND_DOCUMENT_ATTEST

    def chain_for(self, *, user: User, data: dict) -> str:
        return data.get("chain") or "network"

    def actor_did(self, *, user: User, data: dict) -> str:
        return identity_owned(user=user, did=data["did"]).did

    def payload(self, *, user: User, data: dict) -> dict:
        return attest_payload(
            identity=identity_owned(user=user, did=data["did"]), digest=data["digest"]
        )

    def perform(self, *, user: User, data: dict, append) -> Attestation:
        identity = identity_owned(user=user, did=data["did"])
        return document_attest(identity=identity, digest=data["digest"], append=append)


class RegisterSelfCustodyKey(SignedAction):
    """Add a DID whose private key stays with the client; the new key signs its own
    registration, which proves the client holds it."""

    kind = KIND_DID_REGISTER

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["did"]

    def payload(self, *, user: User, data: dict) -> dict:
        return did_register_payload(user=user, did=data["did"], custody="self")

    def custodial_signer(self, *, user: User, data: dict):
        from .errors import NoCustodialKey

        raise NoCustodialKey(
            "sign the registration with the new key: prepare, sign, then submit the signature"
        )

    def perform(self, *, user: User, data: dict, append) -> Identity:
        return identity_register_self_custody(
            user=user, did=data["did"], label=data.get("label", ""), append=append
        )

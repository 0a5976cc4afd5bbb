"""What the identity tests share besides fixtures: a token API client, a client-side key,
a snapshot of the state a refused action must leave alone, and the API error-body check."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from rest_framework.authtoken.models import Token

from identity.models import Attestation, Credential, Identity, User
from ledger.didkey import did_from_public_key
from ledger.models import Actor, Chain, MerkleNode, Transaction
from tests.factories import PASSWORD

__all__ = ["PASSWORD", "API", "TokenClient", "ClientKey", "world_state", "assert_error"]

API = "/api/v1/identity"


class TokenClient:
    """An API client that authenticates with `Authorization: Token <key>` only."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.token = Token.objects.create(user=user)
        self.client = Client()

    def post(self, path: str, data=None, *, raw: str | None = None):
        body = raw if raw is not None else json.dumps(data)
        return self.client.post(
            f"{API}/{path}",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {self.token.key}",
        )

    def get(self, path: str):
        return self.client.get(f"{API}/{path}", HTTP_AUTHORIZATION=f"Token {self.token.key}")


@dataclass
class ClientKey:
    """An Ed25519 key that lives on the client only: the server sees its DID and signatures."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> ClientKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def did(self) -> str:
        return did_from_public_key(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def sign_prepared(self, prepared: dict) -> str:
        """Hex signature of the prepare answer's `signing_input` (base64)."""
        return self.sign(base64.b64decode(prepared["signing_input"])).hex()


def world_state() -> dict:
    """Everything a refused identity action must leave untouched."""
    return {
        "users": User.objects.count(),
        "identities": list(Identity.objects.order_by("pk").values_list("pk", "revoked_at")),
        "attestations": Attestation.objects.count(),
        "credentials": list(
            Credential.objects.order_by("pk").values_list("pk", "revoked_at", "revocation_reason")
        ),
        "transactions": Transaction.objects.count(),
        "actors": list(Actor.objects.order_by("pk").values_list("did", "active")),
        "chain_sizes": dict(Chain.objects.values_list("slug", "size")),
        "merkle_nodes": MerkleNode.objects.count(),
    }


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's error body: `{"error": {"code", "message"}}` with the right status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]

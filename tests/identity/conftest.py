"""Fixtures of the identity tests: token-authenticated API clients, a client-side Ed25519 key
for self-custody, and a self-custody DID registered through the API.

`user` and `network_chain` come from tests/conftest.py; accounts from `UserFactory`.
"""

from __future__ import annotations

import pytest

from identity.models import Identity, User
from tests.factories import UserFactory

from .support import ClientKey, TokenClient


@pytest.fixture
def other_user(db) -> User:
    return UserFactory()


@pytest.fixture
def api(user) -> TokenClient:
    return TokenClient(user)


@pytest.fixture
def other_api(other_user) -> TokenClient:
    return TokenClient(other_user)


@pytest.fixture
def client_key() -> ClientKey:
    return ClientKey.generate()


@pytest.fixture
def self_custody_did(api, client_key) -> Identity:
    """`client_key` registered as a self-custody DID of `user`, through the API."""
    prepared = api.post("keys/prepare", {"did": client_key.did, "label": "api client"})
    assert prepared.status_code == 200, prepared.content
    response = api.post(
        "keys",
        {
            "did": client_key.did,
            "label": "api client",
            "created_at": prepared.json()["created_at"],
            "signature": client_key.sign_prepared(prepared.json()),
        },
    )
    assert response.status_code == 201, response.content
    return Identity.objects.get(did=client_key.did)

"""Fixtures of the identity tests: accounts, token-authenticated API clients, a client-side
Ed25519 key for self-custody, and a self-custody DID registered through the API."""

from __future__ import annotations

import itertools

import pytest

from identity.models import Identity, User
from ledger.models import NETWORK_CHAIN_SLUG, Chain

from .support import PASSWORD, ClientKey, TokenClient

_numbers = itertools.count()


@pytest.fixture
def network_chain(db) -> Chain:
    """The network chain (a data migration creates it; a flushed database may have lost it)."""
    chain, _ = Chain.objects.get_or_create(
        slug=NETWORK_CHAIN_SLUG, defaults={"name": "SMART B network"}
    )
    return chain


@pytest.fixture
def make_user(network_chain):
    """Create accounts the way sign-up does: the post_save signal gives each its DID."""

    def make(email: str | None = None, password: str = PASSWORD) -> User:
        number = next(_numbers)
        email = email or f"person{number}@example.org"
        return User.objects.create_user(username=f"person{number}", email=email, password=password)

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user(email="alice@example.org")


@pytest.fixture
def other_user(make_user) -> User:
    return make_user(email="bob@example.org")


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



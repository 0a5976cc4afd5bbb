"""Fixtures and helpers shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import chain_create
from tests.factories import ChainFactory, UserFactory


def require_postgres() -> None:
    """Skip the calling test unless the database is PostgreSQL; in CI (CI=true), fail instead.

    Concurrency can only be tested on a database with real row locks; CI must never let such
    a test pass by skipping it.
    """
    if connection.vendor == "postgresql":
        return
    reason = f"needs PostgreSQL (DATABASE_URL); the database is {connection.vendor}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test on PostgreSQL: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Messages raised by services, outside any request, in the source language (English),
    whatever language an earlier test's request left active. Pages and the API still choose
    their language per request (LocaleMiddleware): French by default."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def network_chain(db):
    return chain_create(slug=NETWORK_CHAIN_SLUG, name="SMART B network")


@pytest.fixture
def chain(db):
    return ChainFactory()


@pytest.fixture
def user(db):
    return UserFactory()

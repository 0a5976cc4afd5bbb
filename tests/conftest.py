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


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete_on_postgres():
    """After each transactional test (live server, concurrency, workers) pytest-django
    empties every table with `flush`: on PostgreSQL one TRUNCATE of them all, which gives
    each of the ~120 tables a new file and costs about twice a DELETE of the few rows a test
    leaves. Same result (every table empty, sequences untouched), in one transaction: Django's
    foreign keys are deferrable, checked at the commit. A flush inside a test's transaction
    (tests/portability), or asked to reset the sequences or to cascade, keeps the TRUNCATE."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables or self.connection.in_atomic_block:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))}"
            for table in tables
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


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

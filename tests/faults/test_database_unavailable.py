"""The database unreachable during a request: 503 with a clear message (a page, or the API's
JSON error body), never a 500; pages that need no database still answer. The real thing,
PostgreSQL restarted under load, is in test_postgres_restart.py."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

pytestmark = pytest.mark.django_db


@contextmanager
def database_down():
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with (
        mock.patch.object(CursorWrapper, "execute", refuse),
        mock.patch.object(CursorWrapper, "executemany", refuse),
    ):
        yield


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_an_api_call_answers_503_with_the_json_error_body(client):
    with database_down():
        response = client.get("/api/v1/ledger/chains/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert "nothing was saved" in error["message"]


def test_a_page_answers_503_with_a_page_that_needs_no_database(client, user):
    client.force_login(user)  # the session and the user are read from the database
    with database_down():
        response = client.get("/ledger/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert b'data-testid="service-unavailable"' in response.content


def test_healthz_needs_no_database(client):
    with database_down():
        assert client.get("/healthz").status_code == 200


def test_other_errors_are_still_a_500(client):
    with mock.patch.object(CursorWrapper, "execute", side_effect=ZeroDivisionError):
        response = client.get("/api/v1/ledger/chains/")
    assert response.status_code == 500

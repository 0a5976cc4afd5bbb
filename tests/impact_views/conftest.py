"""The world of the impact page tests: the same city and members as the service tests
(tests/impact), built through the services; pages are requested in English so that
assertions on words hold whatever the French translation says."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.impact.conftest import (  # noqa: F401 - fixtures shared with the service tests
    catalogue,
    city,
    curator_member,
    deployment,
    mayor,
    neighbour,
    operator,
    other_city,
    provider_member,
    resident,
    staff,
)

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def foreign_member(other_city, operator):  # noqa: F811 - the shared fixtures
    """An approved resident of another city."""
    from tests.governance.helpers import appoint, join

    foreign_staff = appoint(other_city, operator)
    return join(other_city, "residents", by=foreign_staff.user)


def url(name: str, where, *args) -> str:
    """The URL of an impact page of the city `where`."""
    return reverse(f"impact:{name}", args=[where.slug, *args])


def logged_in(client, user):
    client.force_login(getattr(user, "user", user))
    return client


def queries(client, target: str, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target, **extra)
    assert response.status_code == 200, response.status_code
    return len(captured)

"""The world of the impact API tests: the same as the service tests (tests/impact), plus a
token client per account."""

from __future__ import annotations

import pytest

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

from .support import Api


@pytest.fixture
def as_():
    """`as_(member)`: a token client for a membership's (or a user's) account."""
    return lambda who: Api(getattr(who, "user", who))


@pytest.fixture
def anonymous(db):
    return Api()


@pytest.fixture
def outsider_user(db):
    from tests.factories import UserFactory

    return UserFactory()

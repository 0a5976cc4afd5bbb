"""The world of the simulation tests: the impact world (catalogue, city, staff, members,
curator), a known cycling scenario, and a token client for the API."""

from __future__ import annotations

import pytest

from tests.impact.conftest import (  # noqa: F401 - fixtures shared with the impact tests
    catalogue,
    city,
    curator_member,
    mayor,
    neighbour,
    operator,
    other_city,
    resident,
    staff,
)
from tests.impact_api.support import Api

from .helpers import known_scenario


@pytest.fixture
def scenario(city, staff):  # noqa: F811 - the imported fixtures
    return known_scenario(city, staff)


@pytest.fixture
def as_():
    return lambda who: Api(getattr(who, "user", who))


@pytest.fixture
def anonymous(db):
    return Api()


@pytest.fixture
def outsider(db):
    from tests.factories import UserFactory

    return UserFactory()

"""The world of the simulation page tests: the impact world and a known scenario; pages are
requested in English so that assertions on words hold whatever the French translation says."""

from __future__ import annotations

import pytest

from tests.impact.conftest import (  # noqa: F401 - fixtures shared with the impact tests
    catalogue,
    city,
    mayor,
    operator,
    other_city,
    resident,
    staff,
)
from tests.impact_simulation.helpers import known_scenario


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def scenario(city, staff):  # noqa: F811 - the imported fixtures
    return known_scenario(city, staff)


@pytest.fixture
def foreign_staff(other_city, operator):  # noqa: F811
    from tests.governance.helpers import appoint

    return appoint(other_city, operator).user


@pytest.fixture
def neighbour(city, staff):  # noqa: F811
    from tests.governance.helpers import join

    return join(city, "residents", by=staff)

"""Fixtures of the governance tests: an operator, a city with its municipality staff, members
of each college, proposals in each state. Everything is built through the services, the way
the pages build it."""

from __future__ import annotations

import pytest

from governance.services import city_create
from smartb.celery import app as celery_app
from tests.factories import UserFactory

from .helpers import POSTAL_CODES, appoint, draft, join, open_vote


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def city(operator):
    return city_create(
        operator=operator, slug="bourg", name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )


@pytest.fixture
def other_city(operator):
    return city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])


@pytest.fixture
def mayor(city, operator):
    """Municipality staff, appointed by the operator."""
    return appoint(city, operator)


@pytest.fixture
def staff(mayor):
    """The account of the municipality staff: the one who approves requests."""
    return mayor.user


@pytest.fixture
def resident(city, staff):
    return join(city, "residents", by=staff)


@pytest.fixture
def provider(city, staff):
    return join(city, "providers", by=staff)


@pytest.fixture
def proposal(resident):
    """A general draft by a resident."""
    return draft(resident)


@pytest.fixture
def open_proposal(proposal, mayor, provider):
    """A general vote, open for 48 hours; the electorate is the mayor, the resident and the
    provider."""
    return open_vote(proposal)


@pytest.fixture
def eager_celery():
    """Tasks run in-process, whatever broker the environment names."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous

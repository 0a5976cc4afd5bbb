"""The world of the governance API tests, built with the services: an operator creates two
cities and appoints their municipality staff; residents and providers ask to join and the
staff approve them; a resident writes a draft, which is opened for a vote."""

from __future__ import annotations

import pytest

from identity.models import User
from tests.factories import UserFactory

from .support import POSTAL_CODES, Api, appoint, ask, draft, join, make_city, open_vote


@pytest.fixture
def operator(db) -> User:
    return UserFactory(is_staff=True)


@pytest.fixture
def city(operator):
    return make_city(operator, "bourg", POSTAL_CODES)


@pytest.fixture
def other_city(operator):
    return make_city(operator, "annecy", ["74000"])


@pytest.fixture
def mayor(city, operator):
    """Municipality staff of `city`, appointed by the operator."""
    return appoint(city, operator)


@pytest.fixture
def staff(mayor) -> User:
    return mayor.user


@pytest.fixture
def resident(city, staff):
    return join(city, "residents", by=staff)


@pytest.fixture
def neighbour(city, staff):
    """A second resident, who did not write the draft."""
    return join(city, "residents", by=staff)


@pytest.fixture
def provider(city, staff):
    return join(city, "providers", by=staff)


@pytest.fixture
def applicant(city):
    """A pending request to the residents' college."""
    return ask(city, "residents")


@pytest.fixture
def other_mayor(other_city, operator):
    return appoint(other_city, operator)


@pytest.fixture
def foreigner(other_city, other_mayor):
    """An approved resident of the other city."""
    return join(other_city, "residents", by=other_mayor.user)


@pytest.fixture
def outsider(db) -> User:
    """Signed in, member of no city."""
    return UserFactory()


@pytest.fixture
def proposal(resident):
    """A general draft by `resident`."""
    return draft(resident)


@pytest.fixture
def open_proposal(proposal, mayor, provider, neighbour):
    """The draft, open for 48 hours; the electorate: mayor, resident, neighbour, provider."""
    return open_vote(proposal)


@pytest.fixture
def anonymous(db) -> Api:
    return Api()


def api(member_or_user) -> Api:
    user = getattr(member_or_user, "user", member_or_user)
    return Api(user)


@pytest.fixture
def as_():
    """`as_(resident)`: a token client for a membership's (or a user's) account."""
    return api

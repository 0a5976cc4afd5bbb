"""The world of the governance page tests, built with the services the way the pages call
them: an operator creates two cities, appoints municipality staff, residents and providers
ask to join and staff approve them; proposals are written, opened, voted and closed.

Pages are requested in English (Accept-Language) so that assertions on words hold whatever
the French translation says.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.models import Membership, Proposal
from identity.models import User
from tests.factories import UserFactory

POSTAL_CODE = "01000"
VALID_SIRET = "73282932000074"


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def operator(db) -> User:
    return UserFactory(is_staff=True)


def make_city(operator: User, slug: str, postal_code: str):
    return services.city_create(
        operator=operator, slug=slug, name=slug.capitalize(), postal_codes=[postal_code]
    )


@pytest.fixture
def city(operator):
    return make_city(operator, "bourg", POSTAL_CODE)


@pytest.fixture
def other_city(operator):
    return make_city(operator, "oyonnax", "01100")


def appoint(operator: User, city) -> Membership:
    return services.membership_appoint(operator=operator, user=UserFactory(), city=city)


def join(city, college: str, *, by: User, user: User | None = None) -> Membership:
    """A request to `college` approved by municipality staff `by`."""
    evidence = {
        "residents": {"postal_address": "1 rue de la Paix", "postal_code": city.postal_codes[0]},
        "providers": {"siret": VALID_SIRET},
    }[college]
    pending = services.membership_request(
        user=user or UserFactory(),
        city=city,
        college=city.colleges.get(slug=college),
        **evidence,
    )
    return services.membership_approve(membership=pending, by=by)


@pytest.fixture
def staff(operator, city) -> Membership:
    return appoint(operator, city)


@pytest.fixture
def resident(city, staff) -> Membership:
    return join(city, "residents", by=staff.user)


@pytest.fixture
def neighbour(city, staff) -> Membership:
    """Another resident of the same city (not the author of anything)."""
    return join(city, "residents", by=staff.user)


@pytest.fixture
def provider(city, staff) -> Membership:
    return join(city, "providers", by=staff.user)


@pytest.fixture
def outsider(db) -> User:
    """Signed in, member of no city."""
    return UserFactory()


@pytest.fixture
def foreigner(operator, other_city) -> User:
    """An approved resident of another city."""
    other_staff = appoint(operator, other_city)
    return join(other_city, "residents", by=other_staff.user).user


@pytest.fixture
def draft(resident) -> Proposal:
    return services.proposal_create(
        author=resident, kind="general", title="A bench in the park", body="Near the fountain."
    )


def open_now(proposal: Proposal, by: Membership, hours: int = 48) -> Proposal:
    return services.proposal_open(
        proposal=proposal, by=by, closes_at=timezone.now() + timedelta(hours=hours)
    )


@pytest.fixture
def open_proposal(resident, neighbour, provider, staff) -> Proposal:
    """Open now, closing in two days; the electorate is the four members above."""
    proposal = services.proposal_create(
        author=resident, kind="general", title="Close the square to cars on Sundays"
    )
    return open_now(proposal, resident)


@pytest.fixture
def closed_proposal(resident, neighbour, provider, staff) -> Proposal:
    """Voted ten days ago and closed: residents 1 yes 1 no, providers 1 no, municipality 1
    yes. Every college counts: (40 × 1/2 + 30 × 0 + 30 × 1) / 100 = 50 %, not above 50 %."""
    start = timezone.now() - timedelta(days=10)
    proposal = services.proposal_create(author=resident, kind="general", title="Night buses")
    services.proposal_open(
        proposal=proposal, by=resident, closes_at=start + timedelta(days=3), now=start
    )
    during = start + timedelta(hours=1)
    for member, choice in [(resident, "yes"), (neighbour, "no"), (provider, "no"), (staff, "yes")]:
        services.vote_cast(proposal=proposal, member=member, choice=choice, now=during)
    return services.proposal_close(proposal=proposal, now=start + timedelta(days=4))


def url(name: str, city, *args) -> str:
    from django.urls import reverse

    return reverse(f"governance:{name}", args=[city.slug, *args])


def logged_in(client, user: User):
    client.force_login(user)
    return client

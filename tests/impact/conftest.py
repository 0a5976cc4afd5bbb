"""The world of the impact tests, built through the services: the catalogue loaded (a
flushed database loses what the data migration wrote), a city with its staff, residents, a
provider member, and a curator appointed by the staff."""

from __future__ import annotations

import pytest

from governance.services import city_create
from impact.services import curator_grant, impact_load_catalogue
from tests.factories import UserFactory
from tests.governance.helpers import POSTAL_CODES, appoint, join


@pytest.fixture
def catalogue(db):
    return impact_load_catalogue()


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def city(operator, catalogue):
    return city_create(
        operator=operator, slug="bourg", name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )


@pytest.fixture
def other_city(operator, catalogue):
    return city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=POSTAL_CODES)


@pytest.fixture
def mayor(city, operator):
    return appoint(city, operator)


@pytest.fixture
def staff(mayor):
    return mayor.user


@pytest.fixture
def resident(city, staff):
    return join(city, "residents", by=staff)


@pytest.fixture
def neighbour(city, staff):
    return join(city, "residents", by=staff)


@pytest.fixture
def provider_member(city, staff):
    return join(city, "providers", by=staff)


@pytest.fixture
def curator_member(city, staff):
    """A resident who is the city's curator."""
    member = join(city, "residents", by=staff)
    curator_grant(city=city, membership=member, by=staff)
    return member


@pytest.fixture
def deployment(city, mayor, provider_member):
    """A service of the provider member's organisation, audited and deployed in the city by
    an executed vote (through the app store's services)."""
    from marketplace.models import Deployment
    from marketplace.services import provider_register
    from tests.factories import audited_version_make, service_make, valid_siret
    from tests.marketplace.helpers import decide

    owner = provider_member.user
    provider = provider_register(by=owner, owner=owner, name="Vélos du Bourg", siret=valid_siret())
    version = audited_version_make(service=service_make(provider=provider))
    proposal = decide(mayor, version)
    assert proposal.status == "executed", proposal.failure_reason
    return Deployment.objects.get(city=city, service=version.service)

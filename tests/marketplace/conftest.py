"""The world of the app store tests, built through the services: an operator, a city with
its staff, a resident and a provider member; the provider member's organisation lists a
service whose first version passed both audits."""

from __future__ import annotations

import pytest

from governance.services import city_create
from marketplace.services import provider_register
from tests.factories import UserFactory, audited_version_make, service_make, valid_siret
from tests.governance.helpers import POSTAL_CODES, appoint, join


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def auditor(db):
    """Another operator account, which audits."""
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
    return appoint(city, operator)


@pytest.fixture
def staff(mayor):
    return mayor.user


@pytest.fixture
def resident(city, staff):
    return join(city, "residents", by=staff)


@pytest.fixture
def provider_member(city, staff):
    """An approved member of the city's providers college."""
    return join(city, "providers", by=staff)


@pytest.fixture
def provider(provider_member):
    """The provider member's organisation, registered by its owner."""
    owner = provider_member.user
    return provider_register(
        by=owner, owner=owner, name="Mobilités Douces SAS", siret=valid_siret()
    )


@pytest.fixture
def service(provider):
    return service_make(provider=provider)


@pytest.fixture
def version(service, auditor):
    """Version 1 of the service, audited (technical and legal passed)."""
    return audited_version_make(service=service, auditor=auditor)

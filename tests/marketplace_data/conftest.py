"""The world of the data marketplace tests, built through the services: an operator, a city
with its staff, residents, a provider member and its organisation, a curators college with
curators; hosted files go to a temporary data root."""

from __future__ import annotations

import pytest

from governance.services import city_create
from marketplace.data.services import curators_college_open
from marketplace.services import provider_register
from tests.factories import UserFactory, valid_siret
from tests.governance.helpers import POSTAL_CODES, appoint, join


@pytest.fixture(autouse=True)
def data_root(tmp_path, settings):
    root = tmp_path / "data"
    settings.SMARTB_DATA_ROOT = str(root)
    return root


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
def staff(city, operator):
    return appoint(city, operator).user


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
def provider(provider_member):
    owner = provider_member.user
    return provider_register(by=owner, owner=owner, name="Capteurs SAS", siret=valid_siret())


@pytest.fixture
def curators(city, staff):
    return curators_college_open(by=staff, city=city)


@pytest.fixture
def curator(city, staff, curators):
    """An approved member of the city's curators college."""
    return join(city, "curators", by=staff)


@pytest.fixture
def second_curator(city, staff, curators):
    return join(city, "curators", by=staff)

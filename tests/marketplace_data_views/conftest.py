"""The world of the data catalogue's page tests, built through the services the way the
pages call them: a city with its staff, residents, a provider member and its organisation,
a curators college with a curator, an accepted ontology; another city with its own staff
and member. Hosted files go to a temporary data root.

Pages are requested in English (Accept-Language) so that assertions on words hold whatever
the French translation says.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.services import city_create, membership_approve, membership_request
from marketplace.data.services import curation_record, curators_college_open, ontology_submit
from marketplace.services import provider_register
from tests.factories import UserFactory, dataset_make, hosted_csv, valid_siret
from tests.governance.helpers import POSTAL_CODES, appoint, join
from tests.marketplace_data.ontologies import AIR_TTL

HX = {"HTTP_HX_REQUEST": "true"}
AIR_NS = "https://vocab.smartb.example.org/air#"


@pytest.fixture(autouse=True)
def data_root(tmp_path, settings):
    root = tmp_path / "data"
    settings.SMARTB_DATA_ROOT = str(root)
    return root


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


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
def foreign_staff(other_city, operator):
    """Municipality staff of another city."""
    return appoint(other_city, operator).user


@pytest.fixture
def foreign_member(other_city, foreign_staff):
    """An approved resident of another city."""
    request = membership_request(
        user=UserFactory(),
        city=other_city,
        college=other_city.colleges.get(slug="residents"),
        postal_address="1 quai du Lac",
        postal_code="74000",
    )
    return membership_approve(membership=request, by=foreign_staff).user


@pytest.fixture
def resident(city, staff):
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


@pytest.fixture
def ontology(city, resident, second_curator):
    """The air-quality vocabulary, submitted by a resident and accepted by a curator."""
    submitted = ontology_submit(
        by=resident.user,
        city=city,
        name="Qualité de l'air",
        namespace=AIR_NS,
        version="1.0",
        format="turtle",
        source=AIR_TTL,
    )
    curation_record(by=second_curator.user, decision="accept", ontology=submitted)
    submitted.refresh_from_db()
    return submitted


@pytest.fixture
def dataset(city, staff):
    """An open air-quality dataset of the municipality, with one hosted CSV."""
    return dataset_make(city=city, by=staff, files=[hosted_csv(title="Mesures 2026")])


def url(name: str, *args) -> str:
    return reverse(f"data_catalogue:{name}", args=args)


def logged_in(client, user):
    client.force_login(user)
    return client


def queries(client, target: str, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target, **extra)
    assert response.status_code == 200
    return len(captured)


def login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response["Location"]

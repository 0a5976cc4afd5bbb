"""The world of the app store's page tests, built through the services the way the pages
call them: an operator and an auditor, a city with its staff, a resident and a provider
member whose organisation lists a service; another city with its own staff.

Pages are requested in English (Accept-Language) so that assertions on words hold whatever
the French translation says.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.services import city_create
from marketplace.services import provider_register
from tests.factories import UserFactory, audited_version_make, service_make, valid_siret
from tests.governance.helpers import POSTAL_CODES, appoint, join

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


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
def foreign_mayor(other_city, operator):
    """Municipality staff of another city."""
    return appoint(other_city, operator)


@pytest.fixture
def resident(city, mayor):
    return join(city, "residents", by=mayor.user)


@pytest.fixture
def provider_member(city, mayor):
    return join(city, "providers", by=mayor.user)


@pytest.fixture
def provider(provider_member):
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


def url(name: str, *args) -> str:
    return reverse(f"marketplace:{name}", args=args)


def logged_in(client, user):
    client.force_login(user)
    return client


def queries(client, target: str, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target, **extra)
    assert response.status_code == 200
    return len(captured)

"""The world of the offer and access pages' tests, built through the services: a city with
its staff (who publishes), three residents, a provider member (the consumer); a personal
dataset whose records carry the residents' DIDs and an offer on it; another city with an
approved member. Pages are requested in English; Celery runs eagerly."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.services import city_create, membership_approve, membership_request
from smartb.celery import app as celery_app
from tests.factories import UserFactory, dataset_make, hosted_csv
from tests.governance.helpers import POSTAL_CODES, appoint, join
from tests.marketplace_contracts.helpers import (
    OPEN_POLICY,
    PERSONAL_POLICY,
    offer_make,
    personal_csv,
)


@pytest.fixture(autouse=True)
def data_root(tmp_path, settings):
    settings.SMARTB_DATA_ROOT = str(tmp_path / "data")


@pytest.fixture(autouse=True)
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


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
def staff(city, operator):
    return appoint(city, operator).user


@pytest.fixture
def residents(city, staff):
    return [join(city, "residents", by=staff) for _ in range(3)]


@pytest.fixture
def consumer(city, staff):
    return join(city, "providers", by=staff).user


@pytest.fixture
def foreign_member(operator):
    other = city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])
    other_staff = appoint(other, operator).user
    request = membership_request(
        user=UserFactory(),
        city=other,
        college=other.colleges.get(slug="residents"),
        postal_address="1 quai du Lac",
        postal_code="74000",
    )
    return membership_approve(membership=request, by=other_staff).user


@pytest.fixture
def open_dataset(city, staff):
    return dataset_make(city=city, by=staff, files=[hosted_csv()])


@pytest.fixture
def personal_dataset(city, staff, residents):
    return dataset_make(
        city=city,
        by=staff,
        title="Consommations d'eau par foyer",
        is_personal=True,
        subject_dids=[m.identity.did for m in residents],
        files=[hosted_csv(personal_csv(residents))],
    )


@pytest.fixture
def open_offer(open_dataset, staff):
    return offer_make(dataset=open_dataset, by=staff, policy=OPEN_POLICY)


@pytest.fixture
def personal_offer(personal_dataset, staff):
    return offer_make(dataset=personal_dataset, by=staff, policy=PERSONAL_POLICY)


def url(name: str, *args) -> str:
    return reverse(f"data_offers:{name}", args=args)


def login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response["Location"]

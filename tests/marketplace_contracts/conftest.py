"""The world of the contract tests, built through the services: a city with its staff,
residents, a provider consumer; an open dataset and a personal dataset whose records carry
the residents' DIDs, both published by the municipality and hosted encrypted in a temporary
data root; offers on them."""

from __future__ import annotations

import pytest

from governance.services import city_create
from marketplace.services import provider_register
from smartb.celery import app as celery_app
from tests.factories import UserFactory, dataset_make, hosted_csv, valid_siret
from tests.governance.helpers import POSTAL_CODES, appoint, join

from .helpers import OPEN_POLICY, PERSONAL_POLICY, offer_make, personal_csv


@pytest.fixture(autouse=True)
def data_root(tmp_path, settings):
    root = tmp_path / "data"
    settings.SMARTB_DATA_ROOT = str(root)
    return root


@pytest.fixture(autouse=True)
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


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
    """Three approved residents: Alice, Bob, Chloé (memberships)."""
    return [join(city, "residents", by=staff) for _ in range(3)]


@pytest.fixture
def provider_member(city, staff):
    return join(city, "providers", by=staff)


@pytest.fixture
def consumer(provider_member):
    """The account that requests data: a provider member."""
    return provider_member.user


@pytest.fixture
def provider(consumer):
    return provider_register(by=consumer, owner=consumer, name="Analyses SAS", siret=valid_siret())


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

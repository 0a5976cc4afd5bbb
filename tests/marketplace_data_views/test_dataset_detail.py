"""A dataset's page: its DCAT metadata, its versions and files (format, size, SHA-256), its
fields' links to ontology terms with their curation, its offers with their price and ODRL
policy, and the DCAT exports; the producer's own URL only for the producer."""

from __future__ import annotations

import hashlib

import pytest

from marketplace.data.services import LinkedFile, dataset_version_add, field_mapping_propose
from marketplace.data.services.contracts import offer_create
from tests.factories import DATA_CSV, dataset_make
from tests.marketplace_contracts.helpers import PERSONAL_POLICY

from .conftest import AIR_NS, logged_in, url

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_metadata_and_the_files(client, city, dataset):
    response = client.get(url("dataset_detail", city.slug, dataset.public_id))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Concentrations de PM10" in page
    assert "https://www.etalab.gouv.fr/licence-ouverte-open-licence/" in page
    assert "https://id.insee.fr/geo/commune/34172" in page
    assert "Hourly" in page and "Service environnement" in page
    assert city.identity.did in page  # the publisher's DID
    assert hashlib.sha256(DATA_CSV).hexdigest() in page
    assert "Mesures 2026" in page and "text/csv" in page and f"{len(DATA_CSV)} bytes" in page
    assert "hosted, encrypted" in page
    assert "catalogue.ttl?city=bourg" in page and "catalogue.jsonld?city=bourg" in page
    assert f"/ledger/{city.chain.slug}/entries/{dataset.entry.index}/" in page
    assert "Add a version" not in page  # not the publisher


def test_field_links_show_their_curation_status(client, city, staff, dataset, ontology):
    station = ontology.terms.get(iri=f"{AIR_NS}Station")
    field_mapping_propose(by=staff, dataset=dataset, field_name="station", term=station)

    page = client.get(url("dataset_detail", city.slug, dataset.public_id)).content.decode()

    assert f"{AIR_NS}Station" in page
    assert "waiting for curators" in page
    assert url("ontology_detail", city.slug, ontology.public_id) in page


def test_offers_show_their_price_and_odrl_policy(client, city, staff, dataset):
    offer_create(
        dataset=dataset,
        by=staff,
        policy=PERSONAL_POLICY,
        pricing_model="per_record",
        unit_price_cents=3,
        title="Recherche sur l'eau",
    )

    page = client.get(url("dataset_detail", city.slug, dataset.public_id)).content.decode()

    assert "0.03\xa0€ per record" in page
    assert "water-leak-detection" in page  # a purpose allowed
    assert "allowed" in page and "forbidden" in page
    assert "trainModel" in page and "distribute" in page  # prohibitions
    assert "delayPeriod = P30D" in page  # the duty to delete


def test_the_producer_s_access_url_is_shown_to_the_producer_only(client, city, staff, dataset):
    dataset_version_add(
        by=staff,
        dataset=dataset,
        links=[
            LinkedFile(
                access_url="https://data.example.org/secret-feed.csv",
                format="CSV",
                media_type="text/csv",
            )
        ],
    )
    target = url("dataset_detail", city.slug, dataset.public_id)

    assert "secret-feed" not in client.get(target).content.decode()
    page = logged_in(client, staff).get(target).content.decode()
    assert "secret-feed" in page
    assert "Add a version" in page and url("mapping_create", city.slug, dataset.public_id) in page


def test_a_dataset_of_another_city_is_not_found_here(
    client, city, other_city, foreign_staff, dataset
):
    theirs = dataset_make(city=other_city, by=foreign_staff)

    assert client.get(url("dataset_detail", city.slug, theirs.public_id)).status_code == 404
    assert client.get(url("dataset_detail", city.slug, "nope")).status_code == 404
    assert client.get(url("dataset_detail", other_city.slug, theirs.public_id)).status_code == 200

"""The catalogue API: publishing, reading, searching (constant queries), versions, links and
the DCAT export endpoints."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph

from marketplace.data.models import (
    Dataset,
    FieldMapping,
    Offer,
    OfferStatus,
    Ontology,
    OntologyTerm,
    ReviewStatus,
)
from marketplace.data.selectors import dataset_search
from tests.factories import UserFactory, dataset_make, hosted_csv

from .support import Api, assert_error

NEW = {
    "city": "bourg",
    "publisher_kind": "municipality",
    "title": "Stationnement : occupation des parkings",
    "description": "Places libres par parking, toutes les 5 minutes.",
    "licence": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "contact_name": "Direction de la mobilité",
    "contact_email": "mobilite@ville.example.org",
    "themes": ["TRAN", "REGI"],
    "keywords": ["parking", "Stationnement"],
    "frequency": "CONT",
    "temporal_start": "2026-01-01",
}


def test_the_staff_publish_a_dataset_through_the_api(city, staff):
    response = Api(staff).post("datasets/", NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["publisher"] == {
        "kind": "municipality",
        "did": city.identity.did,
        "name": city.name,
        "provider": None,
    }
    assert body["themes"] == ["REGI", "TRAN"]
    assert body["entry"]["chain"] == "bourg"
    assert Dataset.objects.get(public_id=body["public_id"]).title == NEW["title"]


def test_publishing_needs_an_account_and_the_right(city, resident):
    assert_error(Api().post("datasets/", NEW), 401)
    assert_error(Api(resident.user).post("datasets/", NEW), 403, "not_allowed")
    assert_error(Api(resident.user).post("datasets/", {**NEW, "city": "nowhere"}), 404)
    bad = Api(resident.user).post("datasets/", {**NEW, "publisher_kind": "member", "themes": ["X"]})
    assert_error(bad, 400, "invalid")
    bad = Api(resident.user).post("datasets/", {**NEW, "publisher_kind": "member", "licence": "x"})
    assert_error(bad, 400, "invalid")
    assert not Dataset.objects.exists()


def test_anyone_reads_a_dataset_but_only_its_publisher_sees_the_producers_url(city, staff):
    dataset = dataset_make(city=city, by=staff, files=[hosted_csv()])
    version = Api(staff).post(
        f"datasets/{dataset.public_id}/versions",
        {
            "label": "2",
            "links": [
                {
                    "access_url": "https://data.producteur.example.org/p.csv",
                    "format": "CSV",
                    "media_type": "text/csv",
                }
            ],
        },
    )
    assert version.status_code == 201, version.content
    public = Api().get(f"datasets/{dataset.public_id}/")
    assert public.status_code == 200
    assert "producteur" not in public.content.decode()
    versions = public.json()["versions"]
    assert [v["number"] for v in versions] == [2, 1]
    hosted = versions[1]["distributions"][0]
    assert hosted["kind"] == "hosted" and len(hosted["sha256"]) == 64
    assert "storage_path" not in hosted
    own = Api(staff).get(f"datasets/{dataset.public_id}/").json()
    assert own["versions"][0]["distributions"][0]["access_url"].startswith("https://data.")
    assert_error(Api().get("datasets/unknown/"), 404)


def test_only_the_publisher_adds_versions_and_links(city, staff, resident):
    dataset = dataset_make(city=city, by=staff)
    assert_error(Api(resident.user).post(f"datasets/{dataset.public_id}/versions", {}), 404)
    version = Api(staff).post(f"datasets/{dataset.public_id}/versions", {}).json()
    link = {"access_url": "https://x.example.org/a.csv", "format": "CSV", "media_type": "text/csv"}
    assert_error(
        Api(resident.user).post(f"versions/{version['public_id']}/distributions", link), 404
    )
    response = Api(staff).post(f"versions/{version['public_id']}/distributions", link)
    assert response.status_code == 201, response.content
    assert response.json()["access_url"] == link["access_url"]
    bad = Api(staff).post(
        f"versions/{version['public_id']}/distributions", {**link, "format": "EXE"}
    )
    assert_error(bad, 400, "invalid")


@pytest.fixture
def searchable(city, other_city, operator, staff, provider, resident):
    from tests.governance.helpers import appoint

    air = dataset_make(city=city, by=staff, title="Air", themes=["ENVI"], keywords=["pm10"])
    bikes = dataset_make(
        city=city,
        by=provider.owner,
        publisher_kind="provider",
        provider=provider,
        title="Vélos",
        themes=["TRAN"],
        keywords=["vélo"],
    )
    homes = dataset_make(
        city=city,
        by=staff,
        title="Foyers",
        themes=["ENER"],
        keywords=["énergie"],
        is_personal=True,
        subject_dids=[resident.identity.did],
    )
    lake = dataset_make(
        city=other_city,
        by=appoint(other_city, operator).user,
        title="Lac",
        themes=["ENVI"],
        keywords=["lac"],
    )
    entry = air.entry
    Offer.objects.create(
        dataset=air,
        producer=staff,
        producer_identity=city.identity,
        policy={},
        policy_digest="0" * 64,
        pricing_model="free",
        entry=entry,
    )
    Offer.objects.create(
        dataset=bikes,
        producer=provider.owner,
        producer_identity=provider.identity,
        policy={},
        policy_digest="0" * 64,
        pricing_model="per_record",
        unit_price_cents=5,
        entry=entry,
    )
    Offer.objects.create(
        dataset=homes,
        producer=staff,
        producer_identity=city.identity,
        policy={},
        policy_digest="0" * 64,
        pricing_model="per_record",
        unit_price_cents=50,
        entry=entry,
        status=OfferStatus.WITHDRAWN,
    )
    ontology = Ontology.objects.create(
        city=city,
        name="SOSA",
        namespace="http://www.w3.org/ns/sosa/",
        version="1",
        format="turtle",
        source="",
        sha256="0" * 64,
        status=ReviewStatus.ACCEPTED,
        submitted_by=staff,
        submitter_identity=staff.primary_identity,
        entry=entry,
    )
    term = OntologyTerm.objects.create(
        ontology=ontology, kind="class", iri="http://www.w3.org/ns/sosa/Observation"
    )
    FieldMapping.objects.create(
        dataset=air,
        field_name="pm10",
        term=term,
        status=ReviewStatus.ACCEPTED,
        proposed_by=staff,
        entry=entry,
    )
    FieldMapping.objects.create(
        dataset=bikes, field_name="count", term=term, proposed_by=provider.owner, entry=entry
    )  # pending: not searchable yet
    return {"air": air, "bikes": bikes, "homes": homes, "lake": lake}


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["results"])


@pytest.mark.parametrize(
    "params, titles",
    [
        ({}, ["Air", "Foyers", "Lac", "Vélos"]),
        ({"city": "bourg"}, ["Air", "Foyers", "Vélos"]),
        ({"theme": "ENVI"}, ["Air", "Lac"]),
        ({"keyword": "PM10"}, ["Air"]),
        ({"ontology_class": "http://www.w3.org/ns/sosa/Observation"}, ["Air"]),
        ({"max_price_cents": 0}, ["Air"]),
        ({"max_price_cents": 10}, ["Air", "Vélos"]),
        ({"pricing": "per_record"}, ["Vélos"]),
        ({"personal": "true"}, ["Foyers"]),
        ({"personal": "false", "city": "bourg"}, ["Air", "Vélos"]),
        ({"q": "vél"}, ["Vélos"]),
    ],
)
def test_search_and_filters(searchable, params, titles):
    assert _titles(Api().get("datasets/", params)) == titles


def test_search_by_publisher_did(searchable, provider):
    assert _titles(Api().get("datasets/", {"publisher": provider.identity.did})) == ["Vélos"]


def test_bad_filters_are_a_400(searchable):
    assert_error(Api().get("datasets/", {"theme": "SPACE"}), 400, "invalid")
    assert_error(Api().get("datasets/", {"max_price_cents": "-1"}), 400, "invalid")
    assert_error(Api().get("datasets/", {"city": "nowhere"}), 404)


def test_search_answers_in_a_constant_number_of_queries(
    city, staff, searchable, django_assert_num_queries
):
    def count(**filters) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            list(dataset_search(**filters))
        return len(captured)

    few = count(city=city)
    for n in range(12):
        dataset_make(city=city, by=staff, title=f"Jeu {n}", keywords=[f"k{n}", "commun"])
    assert count(city=city) == few == 5  # datasets, themes, keywords, offers, mappings
    with django_assert_num_queries(5):
        found = list(dataset_search(theme="ENVI", keyword="commun", personal=False, q="jeu"))
    assert len(found) == 12
    assert count(max_price_cents=10, ontology_class="http://www.w3.org/ns/sosa/Observation") == 5


def test_the_dcat_endpoints(city, staff, searchable):
    turtle = Api().get("catalogue.ttl", {"city": "bourg"})
    assert turtle.status_code == 200
    assert turtle["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.content.decode(), format="turtle")
    assert len(graph) > 0
    jsonld = Api().get("catalogue.jsonld")
    assert jsonld["Content-Type"].startswith("application/ld+json")
    assert "@context" in json.loads(jsonld.content)
    missing = Api().client.get(
        "/api/v1/marketplace/data/catalogue.ttl", {"city": "nowhere"}, HTTP_ACCEPT="text/turtle"
    )
    assert_error(missing, 404)


def test_a_stranger_cannot_see_an_upload_or_a_version(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = Api(staff).post(f"datasets/{dataset.public_id}/versions", {}).json()
    upload = (
        Api(staff)
        .post(
            f"versions/{version['public_id']}/uploads",
            {"format": "CSV", "media_type": "text/csv", "byte_size": 3},
        )
        .json()
    )
    assert_error(Api(UserFactory()).get(f"uploads/{upload['public_id']}/"), 404)
    assert_error(Api().get(f"uploads/{upload['public_id']}/"), 401)

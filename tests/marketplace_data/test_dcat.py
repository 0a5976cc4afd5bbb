"""The catalogue's DCAT-AP 3 export (Turtle and JSON-LD) validates against the DCAT-AP 3.0.0
SHACL shapes, and says what a consumer needs without leaking what it must not."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from marketplace.data.dcat import catalogue_jsonld, catalogue_turtle, dataset_uri
from marketplace.data.selectors import catalogue_datasets
from marketplace.data.services import LinkedFile, dataset_version_add
from tests.factories import dataset_make, hosted_csv

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


@cache
def shapes() -> Graph:
    return Graph().parse(VECTORS / "dcat-ap-3.0.0-shacl.ttl", format="turtle")


def assert_conforms(data: Graph) -> None:
    conforms, _graph, report = validate(data, shacl_graph=shapes(), inference="none")
    assert conforms, report


@pytest.fixture
def catalogue(city, staff, provider, resident):
    """An open dataset with a hosted file and a link, a provider's dataset, a personal one."""
    air = dataset_make(city=city, by=staff, files=[hosted_csv(title="Mesures 2026")])
    dataset_version_add(
        by=staff,
        dataset=air,
        label="2026.2",
        links=[
            LinkedFile(
                access_url="https://data.producteur.example.org/private/air.csv",
                format="CSV",
                media_type="text/csv",
            )
        ],
    )
    dataset_make(
        city=city,
        by=provider.owner,
        publisher_kind="provider",
        provider=provider,
        title="Comptages vélo",
        themes=["TRAN"],
        spatial_uri="",
        spatial_geometry="POINT(3.88 43.61)",
        temporal_start=None,
        temporal_end=None,
        landing_page="https://velo.example.org/donnees",
    )
    dataset_make(
        city=city,
        by=staff,
        is_personal=True,
        subject_dids=[resident.identity.did],
        title="Consommations électriques des foyers",
        themes=["ENER"],
    )
    return air


def test_the_turtle_export_validates_against_the_dcat_ap_3_shapes(city, catalogue):
    turtle = catalogue_turtle(catalogue_datasets(city=city), city=city)
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 3
    assert len(list(graph.subjects(RDF.type, DCAT.Distribution))) == 1  # latest version
    assert_conforms(graph)


def test_the_json_ld_export_validates_and_says_the_same(city, catalogue):
    datasets = catalogue_datasets(city=city)
    document = catalogue_jsonld(datasets, city=city)
    assert "@context" in json.loads(document)
    graph = Graph().parse(data=document, format="json-ld")
    assert_conforms(graph)
    turtle = Graph().parse(data=catalogue_turtle(datasets, city=city), format="turtle")
    assert len(graph) == len(turtle)


def test_the_network_catalogue_holds_every_city(city, other_city, operator, catalogue):
    from tests.governance.helpers import appoint

    other_staff = appoint(other_city, operator).user
    dataset_make(city=other_city, by=other_staff, title="Lac : température")
    graph = Graph().parse(data=catalogue_turtle(catalogue_datasets()), format="turtle")
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 4
    assert_conforms(graph)


def test_consumers_reach_data_through_the_platform_only(city, catalogue):
    turtle = catalogue_turtle(catalogue_datasets(city=city), city=city)
    assert "producteur.example.org" not in turtle
    assert ".bin" not in turtle
    graph = Graph().parse(data=turtle, format="turtle")
    access = set(graph.objects(None, DCAT.accessURL))
    assert access == {dataset_uri(catalogue)}


def test_a_personal_dataset_lists_no_subject(city, catalogue, resident):
    turtle = catalogue_turtle(catalogue_datasets(city=city), city=city)
    assert resident.identity.did not in turtle
    graph = Graph().parse(data=turtle, format="turtle")
    rights = set(graph.objects(None, DCTERMS.accessRights))
    assert (
        URIRef("http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC") in rights
    )


def test_an_incomplete_record_does_not_validate(city, catalogue):
    """The shapes do catch a bad export: a dataset without a title fails."""
    graph = Graph().parse(
        data=catalogue_turtle(catalogue_datasets(city=city), city=city), format="turtle"
    )
    graph.remove((dataset_uri(catalogue), DCTERMS.title, None))
    conforms, _graph, _report = validate(graph, shacl_graph=shapes(), inference="none")
    assert not conforms


def test_the_export_takes_a_constant_number_of_queries(
    city, staff, catalogue, django_assert_max_num_queries
):
    for n in range(5):
        dataset_make(city=city, by=staff, title=f"Jeu {n}", files=[hosted_csv()])
    with django_assert_max_num_queries(8):
        catalogue_turtle(catalogue_datasets(city=city), city=city)

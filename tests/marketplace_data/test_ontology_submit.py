"""Submitting an ontology to a city's registry: its classes and properties are listed from
the file (Turtle, OWL, JSON Schema) and it waits for the curators."""

from __future__ import annotations

import pytest

from ledger.models import Transaction
from marketplace.data.errors import InvalidOntology, NotAllowed, WrongState
from marketplace.data.models import Ontology, ReviewStatus
from marketplace.data.services import ontology_submit
from tests.factories import UserFactory

from .ontologies import AIR_TTL, ENERGY_OWL, PARKING_SCHEMA

AIR = "https://vocab.smartb.example.org/air#"


def submit(by, city, source=AIR_TTL, format="turtle", namespace=AIR, version="1.0"):
    return ontology_submit(
        by=by,
        city=city,
        name="Qualité de l'air",
        namespace=namespace,
        version=version,
        format=format,
        source=source,
    )


def test_a_turtle_ontology_lists_its_classes_and_properties(city, resident):
    ontology = submit(resident.user, city)
    terms = {t.iri: (t.kind, t.label) for t in ontology.terms.all()}
    assert terms == {
        f"{AIR}Station": ("class", "Station de mesure"),
        f"{AIR}Measurement": ("class", "Mesure"),
        f"{AIR}station": ("object_property", ""),
        f"{AIR}pm10": ("datatype_property", "PM10 (µg/m³)"),
        f"{AIR}note": ("property", ""),
    }
    assert ontology.status == ReviewStatus.PENDING
    entry = ontology.entry
    assert entry.kind == "marketplace.ontology.submit"
    assert entry.actor == resident.identity.did
    assert entry.payload["terms"] == 5
    assert entry.payload["sha256"] == ontology.sha256


def test_an_owl_file_in_rdf_xml(city, resident):
    ontology = submit(
        resident.user,
        city,
        ENERGY_OWL.encode(),
        format="owl",
        namespace="https://vocab.smartb.example.org/energy#",
    )
    assert {(t.kind, t.iri.rsplit("#")[1]) for t in ontology.terms.all()} == {
        ("class", "Meter"),
        ("datatype_property", "kwh"),
    }


def test_a_json_schema_gives_classes_and_properties(city, resident):
    ontology = submit(
        resident.user,
        city,
        PARKING_SCHEMA,
        format="json-schema",
        namespace="https://vocab.smartb.example.org/parking",
    )
    base = "https://vocab.smartb.example.org/parking.schema.json#"
    terms = {t.iri: t.kind for t in ontology.terms.all()}
    assert terms == {
        base: "class",
        f"{base}/properties/name": "property",
        f"{base}/properties/free": "property",
        f"{base}/properties/address": "property",
        f"{base}/properties/address/properties/street": "property",
        f"{base}/$defs/Spot": "class",
        f"{base}/$defs/Spot/properties/number": "property",
    }
    assert ontology.terms.get(iri=base).label == "Parking"


@pytest.mark.parametrize(
    "source, format",
    [
        ("@prefix broken", "turtle"),
        ("<rdf:RDF", "owl"),
        ("{not json", "json-schema"),
        ("[1, 2]", "json-schema"),
        ("@prefix ex: <https://e.example.org/> . ex:a ex:b ex:c .", "turtle"),  # no terms
        ("", "turtle"),
        (b"\xff\xfe", "turtle"),
    ],
)
def test_a_file_that_does_not_parse_is_refused_clearly(city, resident, source, format):
    before = Transaction.objects.count()
    with pytest.raises(InvalidOntology) as refused:
        submit(resident.user, city, source, format=format)
    assert refused.value.code == "invalid_ontology"
    assert not Ontology.objects.exists()
    assert Transaction.objects.count() == before


def test_an_oversized_file_is_refused(city, resident):
    with pytest.raises(InvalidOntology):
        submit(resident.user, city, AIR_TTL + "#" * (5 * 1024 * 1024))


def test_the_same_namespace_version_is_registered_once(city, resident):
    submit(resident.user, city)
    with pytest.raises(WrongState):
        submit(resident.user, city)
    assert submit(resident.user, city, version="1.1").version == "1.1"


def test_only_members_submit(city, other_city, resident, operator):
    with pytest.raises(NotAllowed):
        submit(UserFactory(), city)
    with pytest.raises(NotAllowed):
        submit(resident.user, other_city)
    assert submit(operator, other_city).city == other_city

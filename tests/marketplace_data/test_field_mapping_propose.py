"""A producer links a field of its dataset to a term of an accepted ontology; the link waits
for the city's curators."""

from __future__ import annotations

import pytest

from marketplace.data.errors import NotAllowed, WrongState
from marketplace.data.models import ReviewStatus
from marketplace.data.services import field_mapping_propose, ontology_submit
from tests.factories import dataset_make

from .ontologies import AIR_TTL


@pytest.fixture
def ontology(city, resident):
    return ontology_submit(
        by=resident.user,
        city=city,
        name="Air",
        namespace="https://vocab.smartb.example.org/air#",
        version="1",
        format="turtle",
        source=AIR_TTL,
    )


def test_links_go_only_to_accepted_ontologies_and_from_the_publisher(
    city, staff, ontology, resident
):
    dataset = dataset_make(city=city, by=staff)
    term = ontology.terms.first()
    with pytest.raises(WrongState):
        field_mapping_propose(by=staff, dataset=dataset, field_name="pm10", term=term)
    ontology.status = ReviewStatus.ACCEPTED
    ontology.save()
    with pytest.raises(NotAllowed):
        field_mapping_propose(by=resident.user, dataset=dataset, field_name="pm10", term=term)


def test_the_ledger_holds_digests_of_the_field_and_the_term(city, staff, ontology):
    ontology.status = ReviewStatus.ACCEPTED
    ontology.save()
    dataset = dataset_make(city=city, by=staff)
    term = ontology.terms.first()
    mapping = field_mapping_propose(
        by=staff, dataset=dataset, field_name="Valeur mesurée", term=term
    )
    payload = mapping.entry.payload
    assert payload["dataset"] == dataset.public_id
    assert payload["ontology"] == ontology.public_id
    assert "Valeur" not in str(payload) and term.iri not in str(payload)

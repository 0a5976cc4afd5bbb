"""The ontology registry's pages: the list with its status filter (and its HTMX fragment), an
ontology's classes and properties, submitting a file; only members of the city submit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.data.models import Ontology, ReviewStatus
from marketplace.data.services import ontology_submit
from tests.marketplace_data.ontologies import ENERGY_OWL, PARKING_SCHEMA

from .conftest import AIR_NS, HX, logged_in, login_redirect, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(city, resident):
    return ontology_submit(
        by=resident.user,
        city=city,
        name="Énergie",
        namespace="https://vocab.smartb.example.org/energy#",
        version="0.1",
        format="owl",
        source=ENERGY_OWL,
    )


def test_the_registry_lists_ontologies_with_their_status(client, city, ontology, pending):
    page = client.get(url("ontology_list", city.slug)).content.decode()

    assert "Qualité de l&#x27;air" in page and "Énergie" in page
    assert "accepted" in page and "waiting for curators" in page
    assert AIR_NS in page


def test_the_status_filter_answers_the_fragment_to_htmx(client, city, ontology, pending):
    response = client.get(url("ontology_list", city.slug), {"status": "pending"}, **HX)

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="ontology-list"')
    assert "Énergie" in page and "Qualité" not in page


def test_an_ontology_page_lists_its_classes_and_properties(client, city, ontology):
    response = client.get(url("ontology_detail", city.slug, ontology.public_id))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"{AIR_NS}Station" in page and f"{AIR_NS}Measurement" in page
    assert f"{AIR_NS}pm10" in page and f"{AIR_NS}station" in page
    assert "2 classes" in page and "3 properties" in page
    assert ontology.sha256 in page
    assert "Your decision as a curator" not in page  # accepted already, and anonymous


def test_an_ontology_of_another_city_is_not_found_here(client, city, other_city, ontology):
    assert (
        client.get(url("ontology_detail", other_city.slug, ontology.public_id)).status_code == 404
    )


def test_a_member_submits_an_ontology_file(client, city, resident):
    response = logged_in(client, resident.user).post(
        url("ontology_submit", city.slug),
        {
            "name": "Stationnement",
            "namespace": "https://vocab.smartb.example.org/parking.schema.json",
            "version": "1",
            "format": "json-schema",
            "file": SimpleUploadedFile("parking.json", PARKING_SCHEMA.encode()),
        },
    )

    ontology = Ontology.objects.get(name="Stationnement")
    assert response.status_code == 302
    assert response["Location"] == url("ontology_detail", city.slug, ontology.public_id)
    assert ontology.status == ReviewStatus.PENDING and ontology.terms.exists()


def test_a_file_that_does_not_parse_is_refused_clearly(client, city, resident):
    response = logged_in(client, resident.user).post(
        url("ontology_submit", city.slug),
        {
            "name": "Cassé",
            "namespace": "https://vocab.smartb.example.org/broken#",
            "version": "1",
            "format": "turtle",
            "source": "this is @not turtle <",
        },
    )

    assert response.status_code == 400
    assert not Ontology.objects.exists()
    assert 'class="form-errors"' in response.content.decode()


def test_nothing_to_submit_is_a_form_error(client, city, resident):
    response = logged_in(client, resident.user).post(
        url("ontology_submit", city.slug),
        {
            "name": "Vide",
            "namespace": "https://x.example.org/#",
            "version": "1",
            "format": "turtle",
        },
    )

    assert response.status_code == 400
    assert "Send the ontology as a file or paste its text." in response.content.decode()


def test_only_members_of_the_city_submit(client, city, foreign_member):
    target = url("ontology_submit", city.slug)

    assert login_redirect(client.get(target))
    assert login_redirect(client.post(target, {}))
    assert logged_in(client, foreign_member).get(target).status_code == 403
    assert not Ontology.objects.exists()

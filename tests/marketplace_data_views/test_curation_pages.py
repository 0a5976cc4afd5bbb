"""The curators' pages: the queue of pending ontologies and field links, accept / refuse
forms for the members of the city's curators college (a refusal needs a reason), the HTMX
answer that replaces the item, the rewards; nobody else curates."""

from __future__ import annotations

import pytest

from governance.models import College
from marketplace.data.models import Curation, FieldMapping, ReviewStatus
from marketplace.data.services import field_mapping_propose, ontology_submit
from tests.marketplace_data.ontologies import ENERGY_OWL

from .conftest import AIR_NS, HX, logged_in, login_redirect, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapping(staff, dataset, ontology) -> FieldMapping:
    station = ontology.terms.get(iri=f"{AIR_NS}Station")
    return field_mapping_propose(by=staff, dataset=dataset, field_name="station", term=station)


@pytest.fixture
def pending_ontology(city, resident):
    return ontology_submit(
        by=resident.user,
        city=city,
        name="Énergie",
        namespace="https://vocab.smartb.example.org/energy#",
        version="0.1",
        format="owl",
        source=ENERGY_OWL,
    )


def test_the_queue_is_public_and_forms_are_for_curators(
    client, city, mapping, pending_ontology, curator, resident
):
    target = url("curation_queue", city.slug)
    public = client.get(target).content.decode()
    assert "Énergie" in public and "station" in public
    assert 'name="decision"' not in public

    assert 'name="decision"' not in logged_in(client, resident.user).get(target).content.decode()
    page = logged_in(client, curator.user).get(target).content.decode()
    assert page.count('name="decision" value="accept"') == 2
    assert url("mapping_curate", city.slug, mapping.public_id) in page


def test_a_curator_accepts_a_field_link_and_earns_the_reward(client, city, mapping, curator):
    response = logged_in(client, curator.user).post(
        url("mapping_curate", city.slug, mapping.public_id), {"decision": "accept"}, **HX
    )

    page = response.content.decode()
    mapping.refresh_from_db()
    assert response.status_code == 200
    assert page.lstrip().startswith(
        f'<article class="card curation-item" id="curate-{mapping.public_id}"'
    )
    assert "You accepted it." in page and "Decided: accepted." in page
    assert "5.00\xa0€" in page  # the default reward
    assert mapping.status == ReviewStatus.ACCEPTED

    rewards = client.get(url("curator_rewards", city.slug)).content.decode()
    assert "station" in rewards and "5.00\xa0€" in rewards
    assert "payment owed" in rewards or "completed" in rewards


def test_without_javascript_the_decision_comes_back_to_the_queue(
    client, city, pending_ontology, curator
):
    response = logged_in(client, curator.user).post(
        url("ontology_curate", city.slug, pending_ontology.public_id),
        {
            "decision": "refuse",
            "reason": "Doublon du vocabulaire SAREF.",
            "next": "https://evil.example/",
        },
    )

    pending_ontology.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url("curation_queue", city.slug)
    assert pending_ontology.status == ReviewStatus.REFUSED
    assert pending_ontology.reason == "Doublon du vocabulaire SAREF."


def test_a_refusal_without_a_reason_is_refused(client, city, mapping, curator):
    response = logged_in(client, curator.user).post(
        url("mapping_curate", city.slug, mapping.public_id), {"decision": "refuse"}, **HX
    )

    assert response.status_code == 400
    assert "Say why you refuse." in response.content.decode()
    assert not Curation.objects.filter(mapping=mapping).exists()


def test_a_non_curator_cannot_curate(client, city, mapping, pending_ontology, resident, staff):
    for user in (resident.user, staff):
        client = logged_in(client, user)
        ontology_target = url("ontology_curate", city.slug, pending_ontology.public_id)
        mapping_target = url("mapping_curate", city.slug, mapping.public_id)
        assert client.post(ontology_target, {"decision": "accept"}).status_code == 403
        assert client.post(mapping_target, {"decision": "accept"}, **HX).status_code == 403
    assert not Curation.objects.filter(mapping=mapping).exists()
    assert not Curation.objects.filter(ontology=pending_ontology).exists()


def test_anonymous_visitors_are_sent_to_log_in_to_curate(client, city, mapping):
    assert login_redirect(
        client.post(url("mapping_curate", city.slug, mapping.public_id), {"decision": "accept"})
    )
    assert login_redirect(client.get(url("curator_rewards", city.slug)))


def test_a_curator_never_decides_on_what_they_submitted(client, city, staff, curator):
    own = ontology_submit(
        by=curator.user,
        city=city,
        name="Mien",
        namespace="https://vocab.smartb.example.org/mine#",
        version="1",
        format="owl",
        source=ENERGY_OWL.replace("energy#", "mine#"),
    )
    client = logged_in(client, curator.user)

    assert (
        "Your decision as a curator"
        not in client.get(url("ontology_detail", city.slug, own.public_id)).content.decode()
    )
    response = client.post(url("ontology_curate", city.slug, own.public_id), {"decision": "accept"})
    assert response.status_code == 403


def test_a_curator_decides_from_the_ontology_page(client, city, pending_ontology, curator):
    client = logged_in(client, curator.user)
    target = url("ontology_detail", city.slug, pending_ontology.public_id)
    assert "Your decision as a curator" in client.get(target).content.decode()

    response = client.post(
        url("ontology_curate", city.slug, pending_ontology.public_id),
        {"decision": "accept", "next": target},
    )

    assert response["Location"] == target
    pending_ontology.refresh_from_db()
    assert pending_ontology.status == ReviewStatus.ACCEPTED


def test_staff_open_the_curators_college_from_the_queue(client, city, staff, resident):
    target = url("curators_open", city.slug)
    assert logged_in(client, resident.user).post(target).status_code == 403

    page = logged_in(client, staff).get(url("curation_queue", city.slug)).content.decode()
    assert "Open the curators college" in page
    response = client.post(target)

    assert response.status_code == 302
    assert College.objects.filter(city=city, slug="curators").exists()

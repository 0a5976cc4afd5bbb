"""The city's data catalogue: its datasets with their publisher, themes, keywords, price and
linked terms; search and every filter through the selector; the HTMX fragment; pagination;
a query count that does not grow with the catalogue."""

from __future__ import annotations

import pytest

from marketplace.data.services import field_mapping_propose
from marketplace.data.services.contracts import offer_create
from tests.factories import dataset_make, hosted_csv
from tests.marketplace_contracts.helpers import OPEN_POLICY

from .conftest import AIR_NS, HX, queries, url

pytestmark = pytest.mark.django_db


def test_the_catalogue_lists_the_city_s_datasets(client, city, dataset, other_city, foreign_staff):
    dataset_make(city=other_city, by=foreign_staff, title="Bruit à Annecy")

    response = client.get(url("catalogue", city.slug))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Qualité de l&#x27;air : mesures horaires" in page
    assert "Bourg-en-Bresse (the municipality)" in page
    assert "#PM10" in page and "Environment" in page
    assert "Bruit à Annecy" not in page
    assert "catalogue.ttl?city=bourg" in page and "catalogue.jsonld?city=bourg" in page
    assert f'href="/c/{city.slug}/data/d/{dataset.public_id}/"' in page


def test_the_city_navigation_links_to_the_catalogue(client, city):
    page = client.get(reverse_city_home(city)).content.decode()

    assert f'href="{url("catalogue", city.slug)}"' in page


def reverse_city_home(city) -> str:
    from django.urls import reverse

    return reverse("governance:city_home", args=[city.slug])


def titles(response) -> set[str]:
    return {d.title for d in response.context["page"].object_list}


def test_filters_by_theme_keyword_text_and_personal(client, city, staff, dataset, resident):
    bikes = dataset_make(
        city=city,
        by=staff,
        title="Compteurs vélo",
        description="Passages de vélos par heure.",
        themes=["TRAN"],
        keywords=["vélo"],
    )
    personal = dataset_make(
        city=city,
        by=staff,
        title="Consommations d'eau",
        themes=["ENVI"],
        is_personal=True,
        subject_dids=[resident.identity.did],
    )
    target = url("catalogue", city.slug)

    assert titles(client.get(target, {"theme": "TRAN"})) == {bikes.title}
    assert titles(client.get(target, {"keyword": "VÉLO"})) == {bikes.title}
    assert titles(client.get(target, {"q": "heure"})) == {bikes.title}
    assert titles(client.get(target, {"personal": "yes"})) == {personal.title}
    assert personal.title not in titles(client.get(target, {"personal": "no"}))
    assert titles(client.get(target, {"theme": "ENVI", "personal": "no"})) == {dataset.title}


def test_filter_by_publisher(client, city, staff, dataset, provider, provider_member):
    theirs = dataset_make(
        city=city,
        by=provider_member.user,
        publisher_kind="provider",
        provider=provider,
        title="Capteurs de bruit",
    )
    response = client.get(url("catalogue", city.slug), {"publisher": provider.identity.did})

    assert titles(response) == {theirs.title}
    assert "Capteurs SAS" in response.content.decode()  # in the publisher filter and the entry


def test_filter_by_ontology_term_finds_only_accepted_links(
    client, city, staff, dataset, ontology, curator
):
    station = ontology.terms.get(iri=f"{AIR_NS}Station")
    other = dataset_make(city=city, by=staff, title="Stations en attente")
    field_mapping_propose(by=staff, dataset=other, field_name="station", term=station)
    accepted = field_mapping_propose(by=staff, dataset=dataset, field_name="station", term=station)
    from marketplace.data.services import curation_record

    curation_record(by=curator.user, decision="accept", mapping=accepted)

    response = client.get(url("catalogue", city.slug), {"ontology_class": station.iri})

    assert titles(response) == {dataset.title}
    assert "Monitoring station" in response.content.decode() or "Station de mesure" in (
        response.content.decode()
    )


def test_filter_by_price(client, city, staff, dataset):
    paid = dataset_make(city=city, by=staff, title="Trafic en temps réel")
    offer_create(dataset=dataset, by=staff, policy=OPEN_POLICY, pricing_model="free")
    offer_create(
        dataset=paid,
        by=staff,
        policy=OPEN_POLICY,
        pricing_model="per_request",
        unit_price_cents=250,
    )
    target = url("catalogue", city.slug)

    assert titles(client.get(target, {"max_price": "1"})) == {dataset.title}
    assert titles(client.get(target, {"max_price": "2,50"})) == {dataset.title, paid.title}
    assert titles(client.get(target, {"pricing": "per_request"})) == {paid.title}
    page = client.get(target).content.decode()
    assert "from 2.50\xa0€" in page and "free" in page


def test_an_invalid_filter_is_said_and_ignored(client, city, dataset):
    response = client.get(url("catalogue", city.slug), {"theme": "MOON"})

    assert response.status_code == 200
    assert titles(response) == {dataset.title}
    assert "Some filters are not valid" in response.content.decode()


def test_the_htmx_request_gets_the_list_fragment_only(client, city, dataset):
    response = client.get(url("catalogue", city.slug), {"theme": "ENVI"}, **HX)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="dataset-list"')
    assert "<html" not in page and dataset.title.replace("'", "&#x27;") in page


def test_the_catalogue_is_paginated(client, city, staff):
    for number in range(22):
        dataset_make(city=city, by=staff, title=f"Jeu {number:02d}")

    first = client.get(url("catalogue", city.slug))
    second = client.get(url("catalogue", city.slug), {"page": 2})

    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 2
    assert "Page 1 of 2" in first.content.decode()
    assert "22 datasets" in first.content.decode()


def _grow(city, staff, ontology, curator, count: int) -> None:
    from marketplace.data.services import curation_record

    station = ontology.terms.get(iri=f"{AIR_NS}Station")
    for number in range(count):
        made = dataset_make(
            city=city,
            by=staff,
            title=f"Capteur {number}",
            keywords=[f"k{number}", "air"],
            files=[hosted_csv()],
        )
        offer_create(dataset=made, by=staff, policy=OPEN_POLICY, pricing_model="free")
        mapping = field_mapping_propose(by=staff, dataset=made, field_name="station", term=station)
        curation_record(by=curator.user, decision="accept", mapping=mapping)


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_query_count_does_not_grow_with_the_catalogue(
    client, city, staff, ontology, curator, resident, signed_in
):
    if signed_in:
        client.force_login(resident.user)
    target = url("catalogue", city.slug)
    _grow(city, staff, ontology, curator, 2)
    client.get(target)  # the session's first request may write to it
    few = queries(client, target)
    few_filtered = queries(client, target, data={"keyword": "air", "theme": "ENVI"})

    _grow(city, staff, ontology, curator, 8)
    many = queries(client, target)
    many_filtered = queries(client, target, data={"keyword": "air", "theme": "ENVI"})

    assert few == many
    assert few_filtered == many_filtered
    assert many <= 16

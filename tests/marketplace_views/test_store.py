"""A city's app store: audited services with what they do, the data they touch, their
impacts, audits and fees, whether they run here and the vote about them; filters, search,
pagination, the HTMX fragment, and a query count that does not grow with the store."""

from __future__ import annotations

import pytest

from governance.services import vote_cast
from marketplace.services import audit_request
from tests.factories import audited_version_make, provider_make, service_make, version_make
from tests.governance.helpers import close, open_vote
from tests.marketplace.helpers import decide, propose

from .conftest import HX, logged_in, queries, url

pytestmark = pytest.mark.django_db


def test_the_store_shows_an_audited_service_with_its_data_impacts_audit_and_fees(
    client, city, version
):
    response = client.get(url("store", city.slug))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Vélos partagés" in page
    assert "Mobilités Douces SAS" in page
    assert "identifiant de compte, trajets" in page  # the personal data it touches
    assert "13 mois après la dernière location" in page  # kept for
    assert "SDG 11.2.1" in page  # the impact it claims
    assert "100.00\xa0€ to deploy" in page and "0.25\xa0€ per execution" in page
    for audit in version.audits.all():
        assert audit.auditor_identity.did[:20] in page
        assert url_of_network_entry(audit.entry.index) in page
    assert "not deployed here" in page


def url_of_network_entry(index: int) -> str:
    from django.urls import reverse

    return reverse("ledger:entry_detail", args=["network", index])


def test_services_not_audited_stay_out_of_the_store(client, city, provider, version):
    draft = version_make(service=service_make(provider=provider, name="Brouillon discret"))
    in_audit = version_make(service=service_make(provider=provider, name="Audit en cours"))
    audit_request(version=in_audit, by=provider.owner)

    page = client.get(url("store", city.slug)).content.decode()

    assert "Vélos partagés" in page
    assert draft.service.name not in page and "Audit en cours" not in page
    assert client.get(url("service_detail", city.slug, draft.service.public_id)).status_code == 404


def test_a_deployed_service_says_so_with_the_vote_that_decided_it(client, city, mayor, version):
    proposal = decide(mayor, version)

    page = client.get(url("store", city.slug)).content.decode()

    assert "deployed here (version 1)" in page
    assert f"/c/{city.slug}/p/{proposal.public_id}/" in page
    assert "executed" in page


def test_an_open_vote_about_a_service_shows_on_its_entry(client, city, mayor, version):
    proposal = open_vote(propose(mayor, version), by=mayor)

    page = client.get(url("store", city.slug)).content.decode()

    assert "not deployed here" in page
    assert f"/c/{city.slug}/p/{proposal.public_id}/" in page
    assert ">open<" in page


def test_a_draft_proposal_is_not_shown_in_the_public_store(client, city, mayor, version):
    proposal = propose(mayor, version)

    page = client.get(url("store", city.slug)).content.decode()

    assert proposal.public_id not in page


def test_filter_by_category_and_search(client, city, provider, auditor, version):
    other = service_make(
        provider=provider_make(name="Énergies Citoyennes"),
        name="Compteur solaire",
        description="Suivre la production des toits solaires.",
        category="energy",
    )
    audited_version_make(service=other, auditor=auditor)

    energy = client.get(url("store", city.slug), {"category": "energy"}).content.decode()
    assert "Compteur solaire" in energy and "Vélos partagés" not in energy

    by_provider = client.get(url("store", city.slug), {"q": "citoyennes"}).content.decode()
    assert "Compteur solaire" in by_provider and "Vélos partagés" not in by_provider

    by_text = client.get(url("store", city.slug), {"q": "libre-service"}).content.decode()
    assert "Vélos partagés" in by_text and "Compteur solaire" not in by_text

    nothing = client.get(url("store", city.slug), {"q": "zzz", "category": "mobility"})
    assert "No audited service matches." in nothing.content.decode()


def test_an_htmx_request_gets_only_the_list(client, city, version):
    response = client.get(url("store", city.slug), {"q": "vélo"}, **HX)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="store-list"')
    assert "<html" not in page and "Vélos partagés" in page
    assert "HX-Request" in response["Vary"]


def test_an_unknown_category_is_ignored_not_a_500(client, city, version):
    response = client.get(url("store", city.slug), {"category": "nope", "page": "x"})

    assert response.status_code == 200


def _fill(provider, auditor, count: int, start: int = 0) -> list:
    return [
        audited_version_make(
            service=service_make(provider=provider, name=f"Service {i:03d}"), auditor=auditor
        )
        for i in range(start, start + count)
    ]


@pytest.mark.parametrize("as_member", [False, True], ids=["anonymous", "member"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_store_costs_the_same_with_10_or_40_services(
    client, city, mayor, resident, provider, auditor, as_member, htmx
):
    if as_member:
        logged_in(client, resident.user)
    extra = HX if htmx else {}
    versions = _fill(provider, auditor, 10)
    decide(mayor, versions[0])
    open_vote(propose(mayor, versions[1]), by=mayor)
    target = url("store", city.slug)
    few = queries(client, target, **extra)

    more = _fill(provider, auditor, 30, start=10)
    decide(mayor, more[0])
    open_vote(propose(mayor, more[1]), by=mayor)
    many = queries(client, target, **extra)

    assert few == many, (few, many)
    assert queries(client, target + "?page=2&category=mobility", **extra) == few


def test_the_store_is_paginated(client, city, provider, auditor):
    _fill(provider, auditor, 21)

    first = client.get(url("store", city.slug)).content.decode()
    second = client.get(url("store", city.slug), {"page": 2}).content.decode()

    assert "Service 000" in first and "Service 020" not in first
    assert "Service 020" in second and "Page 2 of 2" in second


def test_the_service_page_shows_its_declaration_findings_versions_and_votes(
    client, city, mayor, version
):
    proposal = decide(mayor, version)

    response = client.get(url("service_detail", city.slug, version.service.public_id))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Réserver un vélo et facturer la location." in page  # the purposes
    assert "service client du fournisseur" in page  # the recipients
    assert "Rien à signaler." in page  # the auditors' findings
    assert version.declaration_digest in page
    assert proposal.title in page


def test_an_unknown_service_or_city_is_404(client, city, version):
    assert client.get(url("service_detail", city.slug, "nope")).status_code == 404
    assert client.get(url("store", "nowhere")).status_code == 404


def test_a_member_allowed_by_the_rules_sees_the_proposal_link_a_visitor_does_not(
    client, city, resident, version
):
    link = f"{url('propose', city.slug)}?action=deploy&amp;service_version={version.public_id}"
    assert link not in client.get(url("store", city.slug)).content.decode()

    logged_in(client, resident.user)
    assert link in client.get(url("store", city.slug)).content.decode()


def test_an_upgrade_is_offered_when_a_newer_version_passed_its_audits(
    client, city, mayor, resident, service, version, auditor
):
    decide(mayor, version)
    newer = audited_version_make(service=service, auditor=auditor)
    logged_in(client, resident.user)

    page = client.get(url("store", city.slug)).content.decode()

    assert f"action=upgrade&amp;service_version={newer.public_id}" in page
    assert "action=deploy&amp;" not in page


def test_a_rejected_vote_shows_as_rejected(client, city, mayor, version):
    proposal = open_vote(propose(mayor, version), by=mayor)
    vote_cast(proposal=proposal, member=mayor, choice="no")
    assert close(proposal).status == "rejected"

    page = client.get(url("store", city.slug)).content.decode()

    assert "not deployed here" in page
    assert f"/c/{city.slug}/p/{proposal.public_id}/" in page and ">rejected<" in page

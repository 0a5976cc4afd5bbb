"""Every page answers, shows what it is for, and serves its HTMX fragment alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from tests.factories import UserFactory

from .conftest import VALID_SIRET, logged_in, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_cities_page_lists_the_cities(client, city, other_city):
    response = client.get(reverse("governance:city_list"))
    assert response.status_code == 200
    assert url("city_home", city).encode() in response.content
    assert url("city_home", other_city).encode() in response.content


def test_the_nav_links_to_the_cities(client, city):
    response = client.get("/")
    assert reverse("governance:city_list").encode() in response.content


def test_an_unknown_city_is_404(client, db):
    assert client.get("/c/atlantis/").status_code == 404


def test_the_city_home_shows_colleges_rules_proposals_ledger_and_treasury(
    client, city, open_proposal
):
    response = client.get(url("city_home", city))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Residents" in page and "Providers" in page and "Municipality" in page
    assert "2 members" in page  # two approved residents
    assert "weighted result above 50 %" in page
    assert open_proposal.title in page
    assert reverse("ledger:chain_detail", args=[city.chain.slug]) in page
    assert url("treasury", city) in page


def test_the_home_invites_a_visitor_to_join_and_tells_a_member_their_college(
    client, city, resident
):
    assert url("join", city) in client.get(url("city_home", city)).content.decode()
    page = logged_in(client, resident.user).get(url("city_home", city)).content.decode()
    assert "You are a member of the residents college." in page
    assert url("proposal_create", city) in page


def test_the_proposals_list_filters_by_status_and_kind(
    client, city, open_proposal, closed_proposal
):
    response = client.get(url("proposal_list", city), {"status": "open"})
    assert response.status_code == 200
    assert open_proposal.title in response.content.decode()
    assert closed_proposal.title not in response.content.decode()

    response = client.get(url("proposal_list", city), {"kind": "fund_project"})
    assert open_proposal.title not in response.content.decode()


def test_an_unknown_filter_value_is_ignored_not_an_error(client, city, open_proposal):
    response = client.get(url("proposal_list", city), {"status": "bogus", "page": "x"})
    assert response.status_code == 200
    assert open_proposal.title in response.content.decode()


def test_the_proposals_list_is_paginated_by_20(client, city, resident):
    for n in range(21):
        services.proposal_create(author=resident, kind="general", title=f"Idea {n:02d}")
    page = logged_in(client, resident.user).get(url("proposal_list", city)).content.decode()
    assert "Idea 20" in page and "Idea 00" not in page
    assert "Page 1 of 2" in page
    second = client.get(url("proposal_list", city), {"page": 2}).content.decode()
    assert "Idea 00" in second and "Idea 20" not in second


def test_an_htmx_request_gets_only_the_list_fragment(client, city, open_proposal):
    response = client.get(url("proposal_list", city), {"status": "open"}, **HX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="proposal-list"')
    assert "<html" not in fragment and '<nav class="subnav"' not in fragment
    assert open_proposal.title in fragment
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_the_proposal_page_shows_text_kind_status_and_the_authors_college_not_their_name(
    client, city, open_proposal, resident
):
    resident.user.first_name, resident.user.last_name = "Camille", "Durand"
    resident.user.save()
    response = client.get(url("proposal_detail", city, open_proposal.public_id))
    assert response.status_code == 200
    page = response.content.decode()
    assert open_proposal.title in page
    assert "General" in page and ">open<" in page
    assert resident.identity.did in page
    assert "Camille" not in page and "Durand" not in page and resident.user.email not in page


def test_a_closed_proposal_shows_the_arithmetic(client, city, closed_proposal):
    page = client.get(url("proposal_detail", city, closed_proposal.public_id)).content.decode()
    assert 'id="results"' in page
    assert "Rejected" in page
    # per college: electorate, yes, no, abstain, turnout, quorum, weight, support
    assert "100.00 %" in page and "50.00 %" in page
    assert "(40 × 50.00 % + 30 × 0.00 % + 30 × 100.00 %) ÷ 100 = 50.00 % ≤ 50 %" in page
    assert "1/2" in page  # the exact fraction


def test_the_treasury_is_public_with_balances_movements_and_the_deciding_proposal(
    client, city, resident, provider, staff, django_capture_on_commit_callbacks
):
    services.treasury_move(
        city=city, label="Regional grant", postings=[("bank", 100000), ("grants", -100000)]
    )
    start = timezone.now() - timedelta(days=5)
    proposal = services.proposal_create(
        author=resident,
        kind="fund_project",
        title="Shared gardens",
        parameters={"amount_cents": 25050, "recipient": provider.identity.did},
    )
    services.proposal_open(
        proposal=proposal, by=resident, closes_at=start + timedelta(days=2), now=start
    )
    for member in (resident, provider, staff):
        services.vote_cast(proposal=proposal, member=member, choice="yes", now=start)
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_close(proposal=proposal, now=start + timedelta(days=3))

    page = client.get(url("treasury", city)).content.decode()
    assert "749.50\u00a0€" in page  # 1000.00 − 250.50 in the bank
    assert "250.50\u00a0€" in page
    assert "Regional grant" in page
    assert url("proposal_detail", city, proposal.public_id) in page


def test_the_municipality_portal_shows_requests_with_evidence_members_and_rules(
    client, city, staff, resident
):
    services.membership_request(
        user=UserFactory(),
        city=city,
        college=city.colleges.get(slug="residents"),
        postal_address="7 avenue Alsace-Lorraine",
        postal_code="01000",
    )
    services.membership_request(
        user=UserFactory(),
        city=city,
        college=city.colleges.get(slug="providers"),
        siret=VALID_SIRET,
    )
    response = logged_in(client, staff.user).get(url("admin", city))
    assert response.status_code == 200
    page = response.content.decode()
    assert "7 avenue Alsace-Lorraine" in page and VALID_SIRET in page
    assert resident.identity.did[:20] in page
    assert "the city's founding rules" in page


def test_my_votes_lists_my_ballots_with_their_ledger_entries(client, city, open_proposal, resident):
    ballot = services.vote_cast(proposal=open_proposal, member=resident, choice="yes")
    page = logged_in(client, resident.user).get(url("my_votes", city)).content.decode()
    assert open_proposal.title in page
    assert f"#{ballot.entry.index}" in page
    assert "waiting to be sealed" in page


def test_the_join_page_and_the_new_proposal_pages_answer(client, city, outsider, resident):
    assert logged_in(client, outsider).get(url("join", city)).status_code == 200
    client.force_login(resident.user)
    chooser = client.get(url("proposal_create", city))
    assert chooser.status_code == 200
    assert "?kind=fund_project" in chooser.content.decode()
    for kind in ("general", "fund_project", "amend_rules"):
        assert client.get(url("proposal_create", city), {"kind": kind}).status_code == 200

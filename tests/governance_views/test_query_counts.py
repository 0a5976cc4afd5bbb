"""List pages ask the database a fixed number of questions, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import services
from governance.budget import ProjectFields, budget_call_create, budget_vote_cast
from tests.factories import UserFactory

from .conftest import join, logged_in, open_now, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def queries(client, target, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target, **extra)
    assert response.status_code == 200
    return len(captured)


def propose(author, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        proposal = services.proposal_create(author=author, kind="general", title=f"Idea {i}")
        if i % 2:
            open_now(proposal, author)


@pytest.mark.parametrize("as_member", [False, True])
@pytest.mark.parametrize("htmx", [False, True])
def test_the_proposals_list_costs_the_same_with_3_or_30_proposals(
    client, city, resident, staff, as_member, htmx
):
    if as_member:
        logged_in(client, resident.user)
    extra = HX if htmx else {}
    target = url("proposal_list", city)
    propose(resident, 3)
    few = queries(client, target, **extra)
    propose(resident, 27, start=3)
    many = queries(client, target, **extra)
    assert few == many, (few, many)
    # and a filtered, second page costs the same too
    assert queries(client, target + "?kind=general&page=2", **extra) == few


def test_the_city_home_costs_the_same_with_more_proposals_and_members(client, city, staff):
    resident = join(city, "residents", by=staff.user)
    propose(resident, 3)
    few = queries(client, url("city_home", city))
    for _ in range(5):
        join(city, "residents", by=staff.user)
    propose(resident, 10, start=3)
    assert queries(client, url("city_home", city)) == few


def test_the_treasury_costs_the_same_with_more_movements(client, city):
    def grant(n):
        for _ in range(n):
            services.treasury_move(
                city=city, label="Grant", postings=[("bank", 1000), ("grants", -1000)]
            )

    grant(2)
    few = queries(client, url("treasury", city))
    grant(20)
    assert queries(client, url("treasury", city)) == few


def test_my_votes_costs_the_same_with_more_ballots(client, city, resident, staff):
    logged_in(client, resident.user)

    def vote_on(n):
        for i in range(n):
            proposal = services.proposal_create(author=resident, kind="general", title=f"V{i}")
            open_now(proposal, resident)
            services.vote_cast(proposal=proposal, member=resident, choice="yes")

    vote_on(2)
    few = queries(client, url("my_votes", city))
    vote_on(8)
    assert queries(client, url("my_votes", city)) == few


def test_my_votes_with_budget_ballots_costs_the_same_with_more_of_them(
    client, city, resident, staff
):
    """Each budget ballot lists the projects it picks: one query for all of them."""
    logged_in(client, resident.user)
    did = resident.identity.did

    def vote_on(n):
        for i in range(n):
            proposal = services.proposal_create(author=resident, kind="general", title=f"V{i}")
            open_now(proposal, resident)
            services.vote_cast(proposal=proposal, member=resident, choice="yes")
            call = budget_call_create(
                author=resident,
                title=f"Budget {i}",
                budget_cents=10_000,
                projects=[
                    ProjectFields(title=f"Projet {i}-{n}", cost_cents=1_000, recipient=did)
                    for n in range(3)
                ],
            )
            open_now(call, resident)
            picks = list(call.budget_projects.values_list("public_id", flat=True))[: i % 3]
            budget_vote_cast(proposal=call, member=resident, project_ids=picks)

    vote_on(2)
    few = queries(client, url("my_votes", city))
    vote_on(7)
    assert queries(client, url("my_votes", city)) == few


def test_the_municipality_portal_costs_the_same_with_more_requests_and_members(client, city, staff):
    logged_in(client, staff.user)

    def grow(n):
        for _ in range(n):
            join(city, "residents", by=staff.user)
            services.membership_request(
                user=UserFactory(),
                city=city,
                college=city.colleges.get(slug="residents"),
                postal_address="1 rue",
                postal_code="01000",
            )

    grow(1)
    few = queries(client, url("admin", city))
    grow(6)
    assert queries(client, url("admin", city)) == few

"""The participatory budget through the API: projects on a draft, knapsack ballots
(custodial signing), the ranking in the results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from governance.models import Ballot, BudgetProject
from tests.factories import UserFactory
from tests.governance.helpers import join, open_vote

BASE = "/api/v1/governance/cities/bourg/proposals"


@pytest.fixture
def api(db):
    return APIClient()


@pytest.fixture
def call(resident, provider, mayor):
    return services.proposal_create(
        author=resident, kind="fund_project", title="Budget", parameters={"budget_cents": 1000}
    )


def add(api, call, user, cost=600, recipient="did:key:z6MkDemo"):
    api.force_authenticate(user)
    return api.post(
        f"{BASE}/{call.public_id}/projects",
        {"title": "Bancs", "cost_cents": cost, "recipient": recipient},
        format="json",
    )


def test_the_author_adds_projects_to_a_draft(api, call, resident):
    response = add(api, call, resident.user)
    assert response.status_code == 201, response.json()
    assert response.json()["cost_cents"] == 600
    assert BudgetProject.objects.filter(proposal=call).count() == 1


def test_another_member_cannot_add_a_project(api, city, call, staff):
    other = join(city, "residents", by=staff)
    assert add(api, call, other.user).status_code in (403, 404)
    assert add(api, call, UserFactory()).status_code == 403
    assert not BudgetProject.objects.exists()


def test_a_knapsack_ballot_and_the_ranking(api, call, resident, provider, mayor):
    add(api, call, resident.user, cost=600)
    add(api, call, resident.user, cost=500)
    a, b = call.budget_projects.order_by("position").values_list("public_id", flat=True)
    call = open_vote(call)
    over = api.post(f"{BASE}/{call.public_id}/budget-votes", {"projects": [a, b]}, format="json")
    assert over.status_code == 400
    assert not Ballot.objects.exists()
    for member, picks in [(resident, [a]), (provider, [b]), (mayor, [a])]:
        api.force_authenticate(member.user)
        response = api.post(
            f"{BASE}/{call.public_id}/budget-votes", {"projects": picks}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["selection"] == picks
    services.proposal_close(proposal=call, now=timezone.now() + timedelta(days=3))
    results = api.get(f"{BASE}/{call.public_id}/results").json()
    # a: (40 × 1 + 30 × 0 + 30 × 1) / 100 = 70 %; b: 30 %. a is funded, b no longer fits.
    assert [row["project"] for row in results["ranking"]] == [a, b]
    assert [row["weighted_support_percent"] for row in results["ranking"]] == ["70.00", "30.00"]
    assert results["funded"] == [a]
    assert results["ranking"][0]["title"] == "Bancs"

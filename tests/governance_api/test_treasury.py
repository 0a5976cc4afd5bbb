"""GET cities/{slug}/treasury: every account's balance in integer cents and the movements,
each with the proposal that decided it. Public, like the treasury page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import services

from .support import assert_error, close, draft, open_vote

pytestmark = pytest.mark.django_db


def grant(city, cents: int, label: str = "Subvention régionale"):
    return services.treasury_move(
        city=city, label=label, postings=[("bank", cents), ("grants", -cents)]
    )


@pytest.fixture
def paid_project(city, mayor, resident, provider):
    """A funded project, voted, accepted and paid from a grant of 5 000,00 €."""
    grant(city, 500_000)
    proposal = open_vote(
        draft(provider, "fund_project", amount_cents=150_050, recipient=provider.identity.did)
    )
    for member in (mayor, resident, provider):
        services.vote_cast(proposal=proposal, member=member, choice="yes")
    proposal = services.proposal_execute(proposal=close(proposal))
    assert proposal.status == "executed", proposal.failure_reason
    return proposal


def test_the_treasury_shows_balances_in_cents_and_who_decided_each_payout(
    anonymous, city, paid_project
):
    response = anonymous.get("cities/bourg/treasury")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["available_cents"] == 500_000 - 150_050
    balances = {b["code"]: b["balance_cents"] for b in body["balances"]}
    assert balances == {
        "bank": 349_950,
        "fees": 0,
        "grants": 500_000,  # a revenue account reads credit-positive
        "impact-funds": 0,
        "operator-share": 0,
        "project-payouts": 150_050,
        "operator-payable": 0,  # fee shares owed (liabilities): marketplace
        "data-owners-payable": 0,
    }
    assert all(type(b["balance_cents"]) is int for b in body["balances"])
    movements = body["movements"]
    assert (movements["count"], movements["page"], movements["pages"]) == (2, 1, 1)
    payout, grant_row = movements["results"]
    assert payout["proposal"] == paid_project.public_id
    assert payout["amount_cents"] == 150_050
    assert sorted((p["account"], p["amount_cents"]) for p in payout["postings"]) == [
        ("bank", -150_050),
        ("project-payouts", 150_050),
    ]
    assert payout["entry"]["chain"] == "bourg"
    assert grant_row["proposal"] is None
    assert grant_row["label"] == "Subvention régionale"


def test_an_empty_treasury_is_all_zero(anonymous, city):
    body = anonymous.get("cities/bourg/treasury/").json()

    assert body["available_cents"] == 0
    assert {b["balance_cents"] for b in body["balances"]} == {0}
    assert body["movements"]["results"] == []


def test_the_treasury_costs_the_same_queries_with_more_movements(anonymous, city):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert anonymous.get("cities/bourg/treasury").status_code == 200
        return len(context.captured_queries)

    grant(city, 100)
    few = queries()
    for cents in range(200, 2000, 100):
        grant(city, cents)
    assert queries() == few


def test_balances_take_one_query(anonymous, city):
    grant(city, 100)

    with CaptureQueriesContext(connection) as context:
        anonymous.get("cities/bourg/treasury")

    on_accounts = [q for q in context.captured_queries if 'FROM "governance_account"' in q["sql"]]
    assert len(on_accounts) == 1, on_accounts


def test_movements_are_paginated(anonymous, city):
    for cents in range(100, 2800, 100):  # 27 movements, 25 a page
        grant(city, cents)

    second = anonymous.get("cities/bourg/treasury", {"page": 2}).json()["movements"]

    assert (second["count"], second["page"], second["pages"]) == (27, 2, 2)
    assert len(second["results"]) == 2


def test_an_unknown_citys_treasury_is_404(anonymous, city):
    assert_error(anonymous.get("cities/nowhere/treasury"), 404)

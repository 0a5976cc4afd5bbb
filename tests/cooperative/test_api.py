"""The cooperative's API: public reads, share movements with clear errors (never a 500)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cooperative.services import total_shares
from tests.factories import UserFactory

from .helpers import ACCOUNTS_DIGEST, general_assembly

BASE = "/api/v1/cooperative/"


@pytest.fixture
def api():
    return APIClient()


def test_reads_are_public(api, body, board_member, investor):
    overview = api.get(BASE).json()
    assert overview["chain"] == "network"
    assert {c["slug"] for c in overview["colleges"]} == {
        "data-providers",
        "clients",
        "operators",
        "investors",
    }
    cap = api.get(f"{BASE}cap-table").json()
    assert cap["total_shares"] == 40
    assert cap["rows"][0] == {
        "did": investor.identity.did,
        "membership": investor.public_id,
        "college": "investors",
        "shares": 30,
        "capital_cents": 300_000,
        "percent": "75.00",
        "horizons": [{"years": 10, "shares": 30}],
    }


def test_no_cooperative_is_a_404(api, db):
    response = api.get(f"{BASE}cap-table")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_cooperative"


def test_share_movements(api, body, investor, client_member):
    api.force_authenticate(investor.user)
    response = api.post(f"{BASE}subscriptions", {"shares": 2, "horizon_years": 5}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "done"
    response = api.post(
        f"{BASE}transfers",
        {"to": client_member.identity.did, "shares": 2, "horizon_years": 5},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["to"] == client_member.identity.did
    response = api.post(f"{BASE}withdrawals", {"shares": 31, "horizon_years": 10}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_shares"
    response = api.post(f"{BASE}withdrawals", {"shares": -1, "horizon_years": 10}, format="json")
    assert response.status_code == 400
    mine = api.get(f"{BASE}me/shares").json()
    assert mine["total_shares"] == 30
    assert total_shares(client_member) == 4


def test_a_newcomer_through_the_api(api, body, operator, investor):
    newcomer = UserFactory()
    api.force_authenticate(newcomer)
    response = api.post(
        f"{BASE}subscriptions",
        {"shares": 1, "horizon_years": 0, "college": "clients"},
        format="json",
    )
    assert response.status_code == 201
    subscription = response.json()["id"]
    assert api.post(f"{BASE}subscriptions/{subscription}/admit").status_code == 403
    api.force_authenticate(operator)
    response = api.post(f"{BASE}subscriptions/{subscription}/admit")
    assert response.status_code == 200
    assert response.json()["status"] == "done"
    assert api.post(f"{BASE}subscriptions/{subscription}/admit").status_code == 409
    assert api.post(f"{BASE}subscriptions/nope/admit").status_code == 404


def test_anonymous_writes_are_refused(api, body):
    assert api.post(f"{BASE}subscriptions", {}, format="json").status_code in (401, 403)


def test_a_distribution_with_its_computation(api, body, board_member, investor):
    general_assembly(
        board_member,
        "approve_accounts",
        {"year": 2025, "result_cents": 200_000, "accounts_digest": ACCOUNTS_DIGEST},
        voters=[board_member, investor],
    )
    listing = api.get(f"{BASE}distributions").json()
    assert listing[0]["cap_cents"] == 85_000
    detail = api.get(f"{BASE}distributions/{listing[0]['id']}").json()
    assert sum(line["amount_cents"] for line in detail["computation"]["lines"]) == 85_000
    assert api.get(f"{BASE}distributions/nope").status_code == 404


def test_the_schema_describes_the_cooperative(api, db):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/cooperative/subscriptions" in schema
    assert "CooperativeDistributionDetail" in schema

"""Every governance endpoint is in the OpenAPI schema served at /api/schema/, with the JSON
error body among its answers."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/governance/cities/"): "governance_cities",
    ("get", "/api/v1/governance/cities/{slug}/"): "governance_city",
    ("get", "/api/v1/governance/cities/{slug}/rules/"): "governance_rules_history",
    ("get", "/api/v1/governance/cities/{slug}/memberships"): "governance_memberships_list",
    ("post", "/api/v1/governance/cities/{slug}/memberships"): "governance_membership_request",
    ("get", "/api/v1/governance/cities/{slug}/memberships/me"): "governance_membership_mine",
    (
        "post",
        "/api/v1/governance/cities/{slug}/memberships/{public_id}/approve",
    ): "governance_membership_approve",
    (
        "post",
        "/api/v1/governance/cities/{slug}/memberships/{public_id}/refuse",
    ): "governance_membership_refuse",
    (
        "post",
        "/api/v1/governance/cities/{slug}/memberships/{public_id}/revoke",
    ): "governance_membership_revoke",
    ("get", "/api/v1/governance/cities/{slug}/proposals/"): "governance_proposals",
    ("post", "/api/v1/governance/cities/{slug}/proposals/"): "governance_proposal_create",
    ("get", "/api/v1/governance/cities/{slug}/proposals/{public_id}/"): "governance_proposal",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/amend",
    ): "governance_proposal_amend",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/open",
    ): "governance_proposal_open",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/comments",
    ): "governance_comment_add",
    (
        "get",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/results",
    ): "governance_proposal_results",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/votes/prepare",
    ): "governance_vote_prepare",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/votes",
    ): "governance_vote_cast",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/projects",
    ): "governance_budget_project_add",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/budget-votes",
    ): "governance_budget_vote_cast",
    (
        "post",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/budget-votes/prepare",
    ): "governance_budget_vote_prepare",
    (
        "get",
        "/api/v1/governance/cities/{slug}/proposals/{public_id}/receipt",
    ): "governance_vote_receipt",
    ("get", "/api/v1/governance/cities/{slug}/votes/me"): "governance_votes_mine",
    ("get", "/api/v1/governance/cities/{slug}/treasury"): "governance_treasury",
}


def test_the_schema_lists_every_governance_operation_once(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    found = {
        (method, path): operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/governance/")
        for method, operation in item.items()
        if method in ("get", "post")
    }
    assert found == OPERATIONS
    vote = schema["paths"]["/api/v1/governance/cities/{slug}/proposals/{public_id}/votes"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(vote["responses"])
    assert vote["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiError"
    }

"""The contracts API is in the OpenAPI schema at the issue's paths, every refusal answered by
the JSON error body."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

M = "/api/v1/marketplace"


def test_the_data_endpoint_and_its_refusals_are_in_the_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    data = schema["paths"][f"{M}/agreements/{{public_id}}/data"]["get"]
    assert data["operationId"] == "data_agreement_data"
    assert "application/octet-stream" in data["responses"]["200"]["content"]
    for code in ("400", "401", "403", "404", "409"):
        assert data["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApiError"
        }
    operations = {
        item[method]["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith(f"{M}/")
        for method in item
        if method in ("get", "post")
    }
    assert {
        "data_offer_create",
        "data_quote_create",
        "data_quote_accept_prepare",
        "data_quote_accept",
        "data_delivery_acknowledge",
        "data_consent_decide",
        "data_purge_acknowledge",
        "data_invoice_pay_sepa",
    } <= operations


def test_the_policies_are_described_as_the_json_ld_they_are(client):
    """Found by the fuzzer (tests/fuzz): the policy endpoints answer application/ld+json, which
    the schema said was application/json."""
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path in (f"{M}/offers/{{public_id}}/policy", f"{M}/agreements/{{public_id}}/policy"):
        answers = schema["paths"][path]["get"]["responses"]
        assert list(answers["200"]["content"]) == ["application/ld+json"]
        assert list(answers["404"]["content"]) == ["application/json"]

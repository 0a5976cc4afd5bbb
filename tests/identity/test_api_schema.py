"""The identity API's refusals are in the schema (found by the fuzzer, tests/fuzz: a 401 or a
400 the schema did not list), each with the JSON error body."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

API = "/api/v1/identity"
ERROR = {"$ref": "#/components/schemas/ApiError"}


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        (f"{API}/me", "get", ("401",)),
        (f"{API}/credentials/verify", "post", ("400",)),
        (f"{API}/attestations/prepare", "post", ("400", "401", "403", "404", "409")),
        (f"{API}/attestations", "post", ("400", "401", "403", "404", "409")),
        (f"{API}/keys/prepare", "post", ("400", "401", "403", "404", "409")),
        (f"{API}/keys", "post", ("400", "401", "403", "404", "409")),
    ],
)
def test_each_refusal_is_documented_with_the_error_body(client, path, method, codes):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    answers = schema["paths"][path][method]["responses"]
    for code in codes:
        assert answers[code]["content"]["application/json"]["schema"] == ERROR


def test_an_anonymous_call_gets_the_documented_401(client):
    response = client.get(f"{API}/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"

"""A URL under /api/ that matches no route answers the API's JSON error body (found by the
fuzzer, tests/fuzz: a path parameter no route accepts, e.g. `/api/v1/governance/cities/½/`,
got Django's HTML page); elsewhere the usual page."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/governance/cities/%C2%BD/", "/api/v1/nowhere", "/api/v1/ledger/chains/a/b/c"]
)
def test_an_api_url_without_a_route_answers_json(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_page_without_a_route_answers_html(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

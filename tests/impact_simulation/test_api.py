"""The simulation API: JSON errors with the right status, CSV, and the OpenAPI schema."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from impact.simulation.models import Scenario, ScenarioAttachment
from tests.governance.helpers import draft
from tests.impact_api.support import assert_error

from .helpers import cycling

API = "/api/v1/impact/simulation/cities/bourg"


def impact(**changes) -> dict:
    """A cycling impact; its methodology is filled in by `body` (no query at collection)."""
    return {
        "methodology": None,
        "low": {"distance_km": "30000"},
        "expected": {"distance_km": "50000"},
        "high": {"distance_km": "70000"},
        "fallback_price_cents": 8,
        **changes,
    }


def body(**overrides) -> dict:
    data = {
        "title": "Piste cyclable du centre",
        "kind": "cycle_lane",
        "cost_cents": 1_000_000,
        "annual_savings_cents": 100_000,
        "start_year": 2027,
        "years": 3,
        "ramp_years": 2,
        "districts": ["centre"],
        "seed": 7,
        "impacts": [impact()],
        **overrides,
    }
    for item in data["impacts"]:
        if isinstance(item, dict) and item.get("methodology") is None:
            item["methodology"] = cycling().public_id
    return data


def test_staff_create_a_scenario_and_read_its_results(as_, mayor, resident):
    response = as_(mayor).post(f"{API}/scenarios", body())
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["results"]["impacts"][0]["total"]["expected"] == 24125
    assert created["results"]["with_impact"]["roi_bp"] == -5070
    detail = as_(resident).get(f"{API}/scenarios/{created['public_id']}")
    assert detail.status_code == 200
    assert detail.json()["results_digest"] == created["results_digest"]
    listed = as_(resident).get(f"{API}/scenarios").json()
    assert [row["public_id"] for row in listed] == [created["public_id"]]


def test_a_revision_gets_the_next_version(as_, mayor, scenario):
    response = as_(mayor).post(
        f"{API}/scenarios/{scenario.public_id}/revisions", body(cost_cents=500_000)
    )
    assert response.status_code == 201, response.content
    assert (response.json()["code"], response.json()["version"]) == (scenario.code, 2)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"impacts": [impact(expected={})]}, "invalid_parameters"),
        ({"impacts": [impact(low={"distance_km": 5.5})]}, None),
        ({"impacts": [impact(methodology="nope")]}, "invalid"),
        ({"years": "many"}, None),
        ({"kind": "castle"}, None),
        ({"cost_cents": 0}, "invalid"),
    ],
)
def test_bad_input_is_a_400_json_error(as_, mayor, overrides, code):
    assert_error(as_(mayor).post(f"{API}/scenarios", body(**overrides)), 400, code)
    assert not Scenario.objects.exists()


def test_a_missing_parameter_names_it(as_, mayor):
    bad = impact(high={})
    error = assert_error(as_(mayor).post(f"{API}/scenarios", body(impacts=[bad])), 400)
    assert "distance_km" in error["message"]


def test_not_json_is_a_400(as_, mayor):
    response = as_(mayor).post(f"{API}/scenarios", raw="{not json")
    assert_error(response, 400)


def test_a_resident_may_not_create_and_an_outsider_may_not_read(
    as_, resident, outsider, scenario, anonymous
):
    assert_error(as_(resident).post(f"{API}/scenarios", body()), 403)
    assert_error(as_(outsider).get(f"{API}/scenarios/{scenario.public_id}"), 404)
    assert_error(as_(outsider).get(f"{API}/scenarios"), 403)
    assert_error(anonymous.get(f"{API}/scenarios"), 401)
    assert_error(as_(resident).get(f"{API}/scenarios/nope"), 404)
    assert_error(as_(resident).get("/api/v1/impact/simulation/cities/nowhere/scenarios"), 404)


def test_compare_in_json_and_csv(as_, resident, mayor, scenario):
    other = as_(mayor).post(f"{API}/scenarios", body(cost_cents=500_000)).json()
    ids = f"{scenario.public_id},{other['public_id']}"
    rows = as_(resident).get(f"{API}/scenarios/compare", {"scenarios": ids}).json()
    assert [row["impact_roi_bp"] for row in rows] == [-5070, -140]
    response = as_(resident).get(f"{API}/scenarios/compare.csv", {"scenarios": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["cost_cents"] for row in table] == ["1000000", "500000"]
    assert table[0]["expected"] == "24125"
    assert_error(as_(resident).get(f"{API}/scenarios/compare", {"scenarios": ""}), 400)
    assert_error(as_(resident).get(f"{API}/scenarios/compare.csv", {"scenarios": "nope"}), 404)


def test_forecast_vs_certified(as_, resident, scenario):
    rows = as_(resident).get(f"{API}/scenarios/{scenario.public_id}/forecast-vs-certified")
    assert rows.status_code == 200
    assert [(row["year"], row["forecast"], row["certified"]) for row in rows.json()] == [
        (2027, 4825, 0),
        (2028, 9650, 0),
        (2029, 9650, 0),
    ]


def test_attach_to_a_proposal_and_read_it_from_the_proposal(as_, mayor, resident, scenario):
    proposal = draft(mayor, "fund_project", amount_cents=1_000, recipient=resident.identity.did)
    url = f"{API}/scenarios/{scenario.public_id}/attachments"
    assert_error(as_(resident).post(url, {"proposal": proposal.public_id}), 403)
    assert_error(as_(mayor).post(url, {"proposal": "nope"}), 404)
    response = as_(mayor).post(url, {"proposal": proposal.public_id})
    assert response.status_code == 201, response.content
    assert response.json()["results_digest"] == scenario.results_digest
    assert_error(as_(mayor).post(url, {"proposal": proposal.public_id}), 409)
    assert ScenarioAttachment.objects.count() == 1
    shown = as_(resident).get(f"{API}/proposals/{proposal.public_id}/scenarios").json()
    assert [row["scenario"]["public_id"] for row in shown] == [scenario.public_id]


def test_the_schema_is_valid_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/impact/simulation/cities/{slug}/scenarios/compare.csv" in target.read_text()


def test_the_list_costs_the_same_queries_for_one_or_several_scenarios(
    as_, resident, city, staff, scenario
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .helpers import known_scenario

    client = as_(resident)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{API}/scenarios").json()) == 1
    known_scenario(city, staff, revises=scenario)
    known_scenario(city, staff)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(f"{API}/scenarios").json()) == 3
    assert len(three) == len(one)


@pytest.mark.parametrize("bad", [{"title": ""}, {"years": "many"}, {}])
def test_a_member_who_is_not_staff_gets_403_whatever_the_body(as_, resident, scenario, bad):
    revise = f"{API}/scenarios/{scenario.public_id}/revisions"
    assert_error(as_(resident).post(revise, bad), 403)
    assert_error(as_(resident).post(f"{API}/scenarios", bad), 403)
    assert_error(as_(resident).post(revise, raw="{not json"), 403)
    assert Scenario.objects.count() == 1

"""Reading simulations: side by side, and forecast against certified impact."""

from __future__ import annotations

import copy

from impact.catalogue import catalogue_data
from impact.models import Claim
from impact.services import methodology_publish
from impact.simulation.selectors import (
    COMPARE_COLUMNS,
    forecast_vs_certified,
    scenario_compare,
)
from tests.impact.helpers import approve, submitted_claim

from .helpers import cycling_impact, known_scenario


def test_compare_puts_scenarios_side_by_side(city, staff, scenario):
    cheaper = known_scenario(
        city, staff, title="Piste courte", cost_cents=500_000, revises=scenario
    )
    rows = scenario_compare(scenarios=[scenario, cheaper])
    assert [row["scenario"] for row in rows] == [scenario.public_id, cheaper.public_id]
    assert all(list(row) == COMPARE_COLUMNS for row in rows)
    assert [row["cost_cents"] for row in rows] == [1_000_000, 500_000]
    assert rows[0]["expected"] == rows[1]["expected"] == 24125
    assert rows[0]["impact_roi_bp"] == -5070
    # (300000 + 193000 − 500000) / 500000 = −1.40 %
    assert rows[1]["impact_roi_bp"] == -140


def _publish_cycling_v2(operator):
    definition = copy.deepcopy(
        next(m for m in catalogue_data()["methodologies"] if m["code"] == "cycling-instead-of-car")
    )
    definition["version"] = 2
    for factor in definition["factors"]:
        if factor["name"] == "car_kgco2e_per_km":
            factor["value"] = "0.218"
    return methodology_publish(by=operator, definition=definition)


def test_forecast_and_certified_use_the_same_methodology_version(
    city, staff, operator, resident, neighbour, curator_member
):
    # Forecast with the values a resident will later measure: 1000 km a year, in 2026.
    forecast = known_scenario(
        city,
        staff,
        start_year=2026,
        years=2,
        ramp_years=1,
        impacts=[
            cycling_impact(
                low={"distance_km": "800"},
                expected={"distance_km": "1000"},
                high={"distance_km": "1200"},
            )
        ],
    )
    certified = approve(submitted_claim(resident, "1000", district_code="centre"), curator_member)
    approve(submitted_claim(neighbour, "500", district_code="nord"), curator_member)  # elsewhere
    submitted_claim(neighbour, "700", district_code="centre")  # not approved yet
    v2 = _publish_cycling_v2(operator)
    approve(
        submitted_claim(neighbour, "300", district_code="centre", methodology=v2), curator_member
    )

    claim = Claim.objects.get(pk=certified.claim_id)
    # The same computation: the forecast's year of full effect is the claim's quantity.
    assert forecast.results["impacts"][0]["full_year"] == claim.quantity == 193
    rows = forecast_vs_certified(scenario=forecast)
    assert [(row["year"], row["forecast"], row["certified"]) for row in rows] == [
        (2026, 193, 193),
        (2027, 193, 0),
    ]
    assert {row["methodology_version"] for row in rows} == {claim.methodology.version} == {1}

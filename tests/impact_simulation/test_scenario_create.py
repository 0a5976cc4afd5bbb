"""A scenario: simulated like a claim, checked, versioned, on the ledger."""

from __future__ import annotations

import pytest

from impact.errors import InvalidInput, InvalidParameters, NotAllowed
from impact.models import Methodology
from impact.services import offer_create
from impact.simulation.models import Scenario
from impact.simulation.services import scenario_create
from ledger.models import Transaction
from tests.impact.helpers import approve, portfolio, submitted_claim, tco2e

from .helpers import cycling_impact, known_scenario, renovation_impact, scenario_fields


def test_a_known_scenario_matches_the_hand_computed_values(scenario):
    results = scenario.results
    (impact,) = results["impacts"]
    assert impact["full_year"] == 9650
    assert [year["year"] for year in impact["years"]] == [2027, 2028, 2029]
    assert [year["expected"] for year in impact["years"]] == [4825, 9650, 9650]
    assert impact["total"]["expected"] == 24125
    assert impact["price_source"] == "scenario" and impact["price_cents"] == 8
    assert impact["total"]["value_cents"] == 193000
    assert results["value_cents"]["expected"] == 193000
    assert results["financial"] == {
        "cost_cents": 1_000_000,
        "returns_cents": 300_000,
        "roi_bp": -7000,
    }
    assert results["with_impact"] == {"returns_cents": 493_000, "roi_bp": -5070}


def test_the_ranges_bracket_the_expected_value(scenario):
    (impact,) = scenario.results["impacts"]
    for row in [*impact["years"], impact["total"]]:
        assert row["p5"] <= row["expected"] <= row["p95"], row
        assert row["p5"] <= row["p50"] <= row["p95"], row
        assert row["p5"] < row["p95"]
    value = scenario.results["value_cents"]
    assert value["p5"] <= value["expected"] <= value["p95"]


def test_the_same_seed_gives_the_same_results_and_another_seed_other_ranges(city, staff):
    first = known_scenario(city, staff)
    again = known_scenario(city, staff)
    other = known_scenario(city, staff, seed=8)
    assert first.results == again.results
    assert first.results_digest == again.results_digest
    assert first.inputs_digest == again.inputs_digest
    assert other.results["impacts"][0]["total"]["expected"] == 24125
    assert other.results_digest != first.results_digest


def test_the_market_price_wins_over_the_scenario_price(city, staff, resident, curator_member):
    approve(submitted_claim(resident, "1000"), curator_member)
    offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
        unit_price_cents=11,
    )
    scenario = known_scenario(city, staff)
    (impact,) = scenario.results["impacts"]
    assert (impact["price_source"], impact["price_cents"]) == ("market", 11)
    assert impact["total"]["value_cents"] == 24125 * 11


def test_without_any_price_the_value_is_zero_and_says_so(city, staff):
    scenario = known_scenario(city, staff, impacts=[cycling_impact(fallback_price_cents=None)])
    (impact,) = scenario.results["impacts"]
    assert impact["price_source"] == "none"
    assert scenario.results["value_cents"]["expected"] == 0


def test_the_ledger_holds_the_digests_and_no_free_text(scenario):
    entry = Transaction.objects.get(pk=scenario.entry_id)
    assert entry.kind == "impact.scenario.create"
    assert entry.payload["inputs"] == scenario.inputs_digest
    assert entry.payload["results"] == scenario.results_digest
    assert entry.payload["scenario"] == scenario.public_id
    assert "Piste" not in str(entry.payload)


def test_a_revision_is_a_new_version_with_the_same_code(city, staff, scenario):
    revised = known_scenario(city, staff, cost_cents=800_000, revises=scenario)
    assert (revised.code, revised.version) == (scenario.code, 2)
    assert Scenario.objects.get(pk=scenario.pk).cost_cents == 1_000_000


@pytest.mark.parametrize(
    ("impact", "message"),
    [
        ({"expected": {}}, "distance_km"),
        ({"low": {"distance_km": "30000", "speed": "3"}}, "distance_km"),
        ({"high": {"distance_km": "lots"}}, "decimal"),
        ({"low": {"distance_km": "60000"}}, "low ≤ expected ≤ high"),
    ],
)
def test_a_missing_parameter_or_an_impossible_value_gets_a_clear_error(
    city, staff, impact, message
):
    before = Transaction.objects.count()
    with pytest.raises(InvalidParameters) as caught:
        known_scenario(city, staff, impacts=[cycling_impact(**impact)])
    assert message in caught.value.message
    assert Transaction.objects.count() == before
    assert not Scenario.objects.exists()


def test_values_that_give_a_negative_quantity_are_refused(city, staff):
    energy = {
        "methodology": Methodology.objects.get(code="energy-saved", version=1),
        "low": {"baseline_kwh": "100", "metered_kwh": "200"},
        "expected": {"baseline_kwh": "1000", "metered_kwh": "200"},
        "high": {"baseline_kwh": "2000", "metered_kwh": "300"},
    }
    with pytest.raises(InvalidParameters) as caught:
        known_scenario(city, staff, impacts=[energy])
    assert "negative" in caught.value.message


def test_a_bound_of_the_methodology_is_enforced(city, staff):
    with pytest.raises(InvalidParameters) as caught:
        known_scenario(city, staff, impacts=[cycling_impact(low={"distance_km": "-5"})])
    assert "distance_km is at least" in caught.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {"cost_cents": 0},
        {"cost_cents": 10.5},
        {"years": 0},
        {"ramp_years": 4},
        {"kind": "castle"},
        {"districts": ["centre ville"]},
        {"impacts": []},
        {"draws": 10**6},
        {"title": " "},
    ],
)
def test_bad_plan_inputs_are_refused(city, staff, fields):
    with pytest.raises(InvalidInput):
        scenario_create(city=city, by=staff, **scenario_fields(**fields))


def test_only_municipality_staff_create_scenarios(city, resident):
    with pytest.raises(NotAllowed):
        scenario_create(city=city, by=resident.user, **scenario_fields())


def test_a_cycle_lane_and_a_renovation_in_one_scenario_by_hand(city, staff):
    """Two methodologies in one plan (3 years from 2027, ramp 2 years):

    cycling   50000 × 0.193 = 9650 kg/yr → 4825, 9650, 9650 = 24125 kg × 8 c = 193000 c
    renovation 100000 − 60000 = 40000 kWh/yr → 20000, 40000, 40000 = 100000 kWh × 2 c
                                                                      = 200000 c
    value     193000 + 200000 = 393000 c
    ROI       (300000 − 1000000) / 1000000 = −7000 bp without the impact value;
              (300000 + 393000 − 1000000) / 1000000 = −30.70 % → −3070 bp with it.
    """
    scenario = known_scenario(
        city,
        staff,
        title="Piste et rénovation",
        impacts=[cycling_impact(), renovation_impact()],
    )
    cycling, renovation = scenario.results["impacts"]
    assert (cycling["indicator"], renovation["indicator"]) == ("13.2.2", "7.3.1")
    assert [year["expected"] for year in cycling["years"]] == [4825, 9650, 9650]
    assert [year["expected"] for year in renovation["years"]] == [20000, 40000, 40000]
    assert (renovation["unit"], renovation["total"]["expected"]) == ("kWh", 100_000)
    assert renovation["total"]["value_cents"] == 200_000
    assert scenario.results["value_cents"]["expected"] == 393_000
    assert scenario.results["financial"]["roi_bp"] == -7000
    assert scenario.results["with_impact"] == {"returns_cents": 693_000, "roi_bp": -3070}
    for impact in (cycling, renovation):
        for row in [*impact["years"], impact["total"]]:
            assert row["p5"] <= row["expected"] <= row["p95"], (impact["code"], row)
    value = scenario.results["value_cents"]
    assert value["p5"] <= value["expected"] <= value["p95"]
    assert [i.methodology.code for i in scenario.impacts.all()] == [
        "cycling-instead-of-car",
        "energy-saved",
    ]
    entry = Transaction.objects.get(pk=scenario.entry_id)
    assert len(entry.payload["methodologies"]) == 2


def test_a_missing_parameter_of_the_second_methodology_is_named(city, staff):
    bad = renovation_impact(high={"baseline_kwh": "110000"})
    with pytest.raises(InvalidParameters) as error:
        known_scenario(city, staff, impacts=[cycling_impact(), bad])
    assert "metered_kwh" in error.value.message
    assert not Scenario.objects.filter(city=city).exists()

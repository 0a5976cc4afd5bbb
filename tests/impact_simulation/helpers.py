"""A known scenario, computed by hand: a cycle lane that shifts 50,000 km a year from car
to bike (cycling-instead-of-car v1: km × (0.193 − 0) kg CO2e), over 3 years from 2027 with a
2-year ramp-up, its value at a fallback price of 8 cents per kg CO2e.

    full year     50000 × 0.193             = 9650 kg
    2027          9650 × 1/2                = 4825 kg
    2028, 2029    9650                      = 9650 kg each
    total                                   = 24125 kg → 24125 × 8 = 193000 cents
    financial     (3 × 100000 − 1000000) / 1000000 = −70.00 %  → −7000 bp
    with impact   (300000 + 193000 − 1000000) / 1000000 = −50.70 % → −5070 bp
"""

from __future__ import annotations

from impact.models import Methodology
from impact.simulation.services import scenario_create


def cycling() -> Methodology:
    return Methodology.objects.get(code="cycling-instead-of-car", version=1)


def cycling_impact(**overrides) -> dict:
    return {
        "methodology": cycling(),
        "low": {"distance_km": "30000"},
        "expected": {"distance_km": "50000"},
        "high": {"distance_km": "70000"},
        "fallback_price_cents": 8,
        **overrides,
    }


def scenario_fields(**overrides) -> dict:
    return {
        "title": "Piste cyclable du centre",
        "kind": "cycle_lane",
        "cost_cents": 1_000_000,
        "annual_savings_cents": 100_000,
        "start_year": 2027,
        "years": 3,
        "ramp_years": 2,
        "districts": ["centre"],
        "draws": 2000,
        "seed": 7,
        "impacts": [cycling_impact()],
        **overrides,
    }


def known_scenario(city, staff, **overrides):
    return scenario_create(city=city, by=staff, **scenario_fields(**overrides))


def renovation_impact(**overrides) -> dict:
    """A building renovation (energy-saved v1: baseline_kwh − metered_kwh, in kWh): 100,000
    kWh a year before, 60,000 after, at a fallback price of 2 cents per kWh."""
    return {
        "methodology": Methodology.objects.get(code="energy-saved", version=1),
        "low": {"baseline_kwh": "90000", "metered_kwh": "50000"},
        "expected": {"baseline_kwh": "100000", "metered_kwh": "60000"},
        "high": {"baseline_kwh": "110000", "metered_kwh": "75000"},
        "fallback_price_cents": 2,
        **overrides,
    }

"""The engine alone: the same formula in Decimal and in floats, nearest-rank percentiles,
ROI rounding, determinism."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from impact import formulas
from impact.simulation import engine

SPEC = engine.MethodologySpec(
    public_id="m1",
    code="renovation",
    version=1,
    indicator="7.3.1",
    token_class="kwh-saved",
    smallest_unit="kWh",
    precision=0,
    formula="area_m2 * (before - after) / 2 + 0.5",
    factors={"before": Decimal("180"), "after": Decimal("95")},
)


def plan(**fields) -> engine.Plan:
    return engine.Plan(**{"cost_cents": 100_000, "start_year": 2030, "years": 4, **fields})


def impact(low="800", expected="1000", high="1300", price=3) -> engine.ImpactInput:
    return engine.ImpactInput(
        methodology=SPEC,
        low={"area_m2": Decimal(low)},
        expected={"area_m2": Decimal(expected)},
        high={"area_m2": Decimal(high)},
        price_cents=price,
        price_source="scenario",
    )


def test_the_float_formula_is_the_decimal_formula():
    function = engine.compile_float(SPEC.formula)
    for area in ("0", "1", "12.5", "1000"):
        values = {"area_m2": Decimal(area), **SPEC.factors}
        exact = formulas.evaluate(SPEC.formula, values)
        floats = function({name: float(value) for name, value in values.items()})
        assert floats == pytest.approx(float(exact))


def test_the_float_formula_refuses_what_the_formulas_module_refuses():
    with pytest.raises(formulas.FormulaError):
        engine.compile_float("__import__('os')")


def test_a_known_plan_by_hand():
    # 1000 × 85 / 2 + 0.5 = 42500.5 kWh → 42500; ramp 3: 14166, 28333, 42500, 42500.
    results = engine.simulate(plan(ramp_years=3, annual_savings_cents=10_000), [impact()])
    (row,) = results["impacts"]
    assert row["full_year"] == 42500
    assert [year["expected"] for year in row["years"]] == [14166, 28333, 42500, 42500]
    assert row["total"]["value_cents"] == 127499 * 3
    # (40000 + 382497 − 100000) / 100000 = 322.497 % → 32250 bp (half to even on .3)
    assert results["financial"]["roi_bp"] == -6000
    assert results["with_impact"]["roi_bp"] == 32250


def test_percentiles_are_nearest_rank():
    ordered = list(range(1, 101))
    assert [engine.percentile(ordered, p) for p in (5, 50, 95)] == [5, 50, 95]
    assert engine.percentile([7.0], 95) == 7.0


@pytest.mark.parametrize(
    ("returns", "cost", "bp"),
    [(150, 100, 5000), (100, 100, 0), (0, 3, -10000), (1, 30000, -10000), (3, 20000, -9998)],
)
def test_roi_in_basis_points_rounds_half_to_even(returns, cost, bp):
    assert engine.roi_bp(returns_cents=returns, cost_cents=cost) == bp


def test_same_seed_same_draws_and_a_point_range_collapses():
    first = engine.simulate(plan(seed=3), [impact()])
    assert first == engine.simulate(plan(seed=3), [impact()])
    assert first != engine.simulate(plan(seed=4), [impact()])
    point = engine.simulate(plan(), [impact("1000", "1000", "1000")])
    total = point["impacts"][0]["total"]
    assert total["p5"] == total["p50"] == total["p95"] == total["expected"] == 170000


def test_draws_are_triangular_within_the_bounds():
    drawn = engine.draw_full_quantities(impact(), random.Random(1), 5000)
    assert min(drawn) >= 800 * 42.5 and max(drawn) <= 1300 * 42.5 + 1

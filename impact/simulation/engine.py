"""The simulation engine: pure Python, no database.

A scenario affects one or more methodology versions. For each, the parameters have low /
expected / high values, meant per year of full effect (e.g. km cycled per year).

- The expected quantity is computed exactly as an impact claim is: the methodology's formula
  evaluated by `impact.formulas` with `decimal.Decimal`, over the parameters and the
  methodology's emission factors, then turned into whole smallest units rounded down
  (`formulas.to_smallest_unit`). A forecast and a later certified claim with the same
  values therefore give the same integer.
- The schedule spreads it over the years: year i (0-based) gets floor(full × min(i+1, ramp)
  / ramp), so with a ramp of 3 years the effect is 1/3, 2/3, then full.
- The range comes from a Monte Carlo run with a fixed seed (`random.Random(seed)`): each
  draw picks every parameter from a triangular distribution (low, mode = expected, high) and
  keeps it for the whole life of the investment (the uncertainty is about the investment,
  not weather from one year to the next). The same formula, parsed and checked by
  `impact.formulas.parse`, is evaluated in floats for speed; each draw is rounded down to
  whole smallest units like a claim (a negative draw counts as 0) and spread over the years
  like the expected value. Percentiles P5 / P50 / P95 are nearest-rank.
  With skewed ranges the expected value (the mode) may fall outside P5–P95: both are shown.
- Money is integer cents: token value = quantity × price per smallest unit (exact); ROI is
  in basis points (1/100 of a percent), (returns − cost) × 10000 / cost rounded half to even.
"""

from __future__ import annotations

import ast
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from impact import formulas

ENGINE_VERSION = 1
PERCENTILES = (5, 50, 95)
FLOAT_TOLERANCE = 1e-12
ROUNDING = (
    "quantities: whole smallest units rounded down; value: quantity x price in cents (exact); "
    "ROI: basis points rounded half to even"
)


@dataclass(frozen=True)
class MethodologySpec:
    """What the engine needs of a methodology version (built from the model by services)."""

    public_id: str
    code: str
    version: int
    indicator: str
    token_class: str
    smallest_unit: str
    precision: int
    formula: str
    factors: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ImpactInput:
    methodology: MethodologySpec
    low: dict[str, Decimal]
    expected: dict[str, Decimal]
    high: dict[str, Decimal]
    price_cents: int | None = None  # per smallest unit
    price_source: str = "none"  # "market", "scenario" or "none"


@dataclass(frozen=True)
class Plan:
    cost_cents: int
    start_year: int
    years: int
    annual_savings_cents: int = 0
    ramp_years: int = 1
    draws: int = 2000
    seed: int = 0


def full_year_quantity(methodology: MethodologySpec, values: dict[str, Decimal]) -> int:
    """The quantity of one year of full effect, computed as a claim's quantity is
    (`impact.compute.compute_quantity`): Decimal formula, smallest units, rounded down."""
    result = formulas.evaluate(methodology.formula, {**values, **methodology.factors})
    return formulas.to_smallest_unit(result, methodology.precision)


def shares(plan: Plan) -> list[tuple[int, int]]:
    """(numerator, denominator) of the full effect reached in each year of the schedule."""
    ramp = max(1, plan.ramp_years)
    return [(min(i + 1, ramp), ramp) for i in range(plan.years)]


def compile_float(formula: str) -> Callable[[dict[str, float]], float]:
    """The formula as a float function, from the tree `impact.formulas.parse` checked (the
    same whitelist: names, numbers, + - * /, unary signs)."""
    tree = formulas.parse(formula)
    source = formula.strip()

    def build(node: ast.AST) -> Callable[[dict[str, float]], float]:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant):
            constant = float(formulas._literal(node, source))
            return lambda values: constant
        if isinstance(node, ast.Name):
            name = node.id
            return lambda values: values[name]
        if isinstance(node, ast.UnaryOp):
            operand = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda values: -operand(values)
            return operand
        if isinstance(node, ast.BinOp):
            left, right = build(node.left), build(node.right)
            if isinstance(node.op, ast.Add):
                return lambda values: left(values) + right(values)
            if isinstance(node.op, ast.Sub):
                return lambda values: left(values) - right(values)
            if isinstance(node.op, ast.Mult):
                return lambda values: left(values) * right(values)
            return lambda values: _divide(left(values), right(values))
        raise formulas.FormulaError(f"{type(node).__name__} is not allowed")  # pragma: no cover

    return build(tree)


def _divide(a: float, b: float) -> float:
    return a / b if b else 0.0


def percentile(ordered: Sequence, p: int):
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def roi_bp(*, returns_cents: int, cost_cents: int) -> int:
    """(returns − cost) / cost in basis points, rounded half to even."""
    ratio = Decimal(returns_cents - cost_cents) * 10000 / Decimal(cost_cents)
    return int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def draw_full_quantities(impact: ImpactInput, rng: random.Random, draws: int) -> list[int]:
    """`draws` Monte Carlo values of one year of full effect, in whole smallest units rounded
    down as a claim's are (a negative draw counts as 0; a relative 1e-12 absorbs the float
    error that would put an exact integer just below itself)."""
    function = compile_float(impact.methodology.formula)
    factors = {name: float(value) for name, value in impact.methodology.factors.items()}
    bounds = [
        (name, float(impact.low[name]), float(impact.high[name]), float(impact.expected[name]))
        for name in sorted(impact.expected)
    ]
    scale = 10**impact.methodology.precision * (1 + FLOAT_TOLERANCE)
    triangular, floor = rng.triangular, math.floor
    values = dict(factors)
    out = []
    for _ in range(draws):
        for name, low, high, mode in bounds:
            values[name] = low if low == high else triangular(low, high, mode)
        result = function(values)
        out.append(floor(result * scale) if result > 0 else 0)
    return out


def simulate(plan: Plan, impacts: Sequence[ImpactInput]) -> dict:
    """The results of a scenario (JSON-safe: integers and strings only): per methodology and
    year the expected quantity with P5 / P50 / P95, its token value, and the ROI with and
    without that value. Same inputs and seed, same results."""
    rng = random.Random(plan.seed)
    year_shares = shares(plan)

    def spread(full: int) -> list[int]:
        return [full * num // den for num, den in year_shares]

    value_draws = [0] * plan.draws
    rows = []
    expected_value = 0
    for impact in impacts:
        spec = impact.methodology
        full = full_year_quantity(spec, impact.expected)
        price = impact.price_cents or 0
        drawn = draw_full_quantities(impact, rng, plan.draws)
        sampled = sorted(drawn)
        # Each year's share and the total are non-decreasing in the full-year quantity, so
        # their percentiles are those of the full-year draws, spread the same way.
        ranges = {p: spread(percentile(sampled, p)) for p in PERCENTILES}
        expected_years = spread(full)
        years = [
            {
                "year": plan.start_year + index,
                "expected": quantity,
                **{f"p{p}": ranges[p][index] for p in PERCENTILES},
                "value_cents": quantity * price,
            }
            for index, quantity in enumerate(expected_years)
        ]
        total_quantity = sum(expected_years)
        total = {
            "expected": total_quantity,
            **{f"p{p}": sum(ranges[p]) for p in PERCENTILES},
            "value_cents": total_quantity * price,
        }
        expected_value += total_quantity * price
        rows.append(
            {
                "methodology": spec.public_id,
                "code": spec.code,
                "version": spec.version,
                "indicator": spec.indicator,
                "token_class": spec.token_class,
                "unit": spec.smallest_unit,
                "price_cents": impact.price_cents,
                "price_source": impact.price_source,
                "full_year": full,
                "years": years,
                "total": total,
            }
        )
        # The value's range: the same draws, summed across methodologies draw by draw.
        if price:
            for index, quantity in enumerate(drawn):
                value_draws[index] += sum(spread(quantity)) * price
    ordered_values = sorted(value_draws)
    returns = plan.annual_savings_cents * plan.years
    return {
        "engine": ENGINE_VERSION,
        "draws": plan.draws,
        "seed": plan.seed,
        "rounding": ROUNDING,
        "impacts": rows,
        "value_cents": {
            "expected": expected_value,
            **{f"p{p}": percentile(ordered_values, p) for p in PERCENTILES},
        },
        "financial": {
            "cost_cents": plan.cost_cents,
            "returns_cents": returns,
            "roi_bp": roi_bp(returns_cents=returns, cost_cents=plan.cost_cents),
        },
        "with_impact": {
            "returns_cents": returns + expected_value,
            "roi_bp": roi_bp(returns_cents=returns + expected_value, cost_cents=plan.cost_cents),
        },
    }

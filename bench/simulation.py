"""Impact simulation benchmark: simulations per second of a 20-year scenario with 10,000
Monte Carlo draws (`impact.simulation.engine.simulate`), against a baseline measured in the
same run.

Run from the repository root:

    .venv/bin/python bench/simulation.py            # 10,000 draws, 20 years
    .venv/bin/python bench/simulation.py --quick    # 1,000 draws

No database and no Django: the engine is pure Python. The scenario is the catalogue's
`cycling-instead-of-car` v1 (its formula and emission factors from impact/data/sdg.json) with
a 3-year ramp-up, plus `energy-saved` v1: two methodologies, 20 years, N draws.

Two baselines, measured in the same run on the same scenario:

- numpy (pinned in the dev extras): the same computation vectorised, i.e. each parameter's
  10,000 triangular draws in one call (`numpy.random.Generator.triangular`, seeded), the
  formula evaluated on whole arrays (the tree `impact.formulas.parse` checked, walked once),
  floor to smallest units, sort, nearest-rank P5/P50/P95, the 20-year ramp as a
  draws x years integer matrix, the value summed per draw across methodologies and its
  percentiles. Another generator than `random.Random`, so the draws differ: the table shows
  both P50s of the value, which agree within the Monte Carlo error;
- a hand-written tight loop over floats for these two formulas (the same `random.Random`
  draws): what the engine's generality costs over hand-written pure Python.

Nothing here asserts on time; the table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from impact.simulation import engine  # noqa: E402

YEARS, RAMP = 20, 3


def _spec(definition: dict, classes: dict) -> engine.MethodologySpec:
    token_class = classes[definition["token_class"]]
    return engine.MethodologySpec(
        public_id=f"{definition['code']}-v{definition['version']}",
        code=definition["code"],
        version=definition["version"],
        indicator=definition["indicator"],
        token_class=token_class["code"],
        smallest_unit=token_class["smallest_unit"],
        precision=token_class["precision"],
        formula=definition["formula"],
        factors={f["name"]: Decimal(f["value"]) for f in definition.get("factors", [])},
    )


def scenario(draws: int) -> tuple[engine.Plan, list[engine.ImpactInput]]:
    data = json.loads((REPO / "impact/data/sdg.json").read_text())
    classes = {c["code"]: c for c in data["token_classes"]}
    specs = {m["code"]: _spec(m, classes) for m in data["methodologies"]}
    plan = engine.Plan(
        cost_cents=250_000_000,
        start_year=2027,
        years=YEARS,
        annual_savings_cents=4_000_000,
        ramp_years=RAMP,
        draws=draws,
        seed=2026,
    )
    impacts = [
        engine.ImpactInput(
            methodology=specs["cycling-instead-of-car"],
            low={"distance_km": Decimal("30000")},
            expected={"distance_km": Decimal("50000")},
            high={"distance_km": Decimal("80000")},
            price_cents=8,
            price_source="scenario",
        ),
        engine.ImpactInput(
            methodology=specs["energy-saved"],
            low={"baseline_kwh": Decimal("90000"), "metered_kwh": Decimal("50000")},
            expected={"baseline_kwh": Decimal("100000"), "metered_kwh": Decimal("60000")},
            high={"baseline_kwh": Decimal("110000"), "metered_kwh": Decimal("75000")},
            price_cents=2,
            price_source="scenario",
        ),
    ]
    return plan, impacts


def baseline(draws: int) -> int:
    """The same draws and arithmetic, written by hand for these two formulas."""
    rng = random.Random(2026)
    triangular, floor = rng.triangular, math.floor
    shares = [(min(i + 1, RAMP), RAMP) for i in range(YEARS)]
    scale = 1 + engine.FLOAT_TOLERANCE
    values = [0] * draws
    cycling = []
    for _ in range(draws):
        km = triangular(30000.0, 80000.0, 50000.0)
        cycling.append(floor(km * (0.193 - 0.0) / 1000 * 1000 * scale))
    energy = []
    for _ in range(draws):
        baseline_kwh = triangular(90000.0, 110000.0, 100000.0)
        metered = triangular(50000.0, 75000.0, 60000.0)
        result = baseline_kwh - metered
        energy.append(floor(result * scale) if result > 0 else 0)
    for index in range(draws):
        a, b = cycling[index], energy[index]
        values[index] = (
            sum(a * n // d for n, d in shares) * 8 + sum(b * n // d for n, d in shares) * 2
        )
    out = 0
    for series in (sorted(cycling), sorted(energy), sorted(values)):
        for p in engine.PERCENTILES:
            out += series[max(1, math.ceil(p / 100 * draws)) - 1]
    return out


def compile_numpy(formula: str):
    """The formula as a function of numpy arrays, from the tree `impact.formulas.parse`
    checked (a division by zero gives 0, as in the engine)."""
    import ast

    import numpy as np

    from impact import formulas

    tree = formulas.parse(formula)
    source = formula.strip()

    def build(node):
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
            return (lambda values: -operand(values)) if isinstance(node.op, ast.USub) else operand
        left, right = build(node.left), build(node.right)
        if isinstance(node.op, ast.Add):
            return lambda values: left(values) + right(values)
        if isinstance(node.op, ast.Sub):
            return lambda values: left(values) - right(values)
        if isinstance(node.op, ast.Mult):
            return lambda values: left(values) * right(values)

        def divide(values):
            a, b = np.broadcast_arrays(np.asarray(left(values), float), right(values))
            return np.divide(a, b, out=np.zeros_like(a), where=b != 0)

        return divide

    return build(tree)


def vectorised(plan: engine.Plan, impacts: list[engine.ImpactInput]) -> dict:
    """The engine's computation with numpy arrays (see the module docstring)."""
    import numpy as np

    rng = np.random.default_rng(plan.seed)
    draws = plan.draws
    ramp = max(1, plan.ramp_years)
    numerators = np.minimum(np.arange(1, plan.years + 1), ramp).astype(np.int64)
    ranks = [max(1, math.ceil(p / 100 * draws)) - 1 for p in engine.PERCENTILES]
    value_draws = np.zeros(draws, dtype=np.int64)
    rows = []
    for impact in impacts:
        spec = impact.methodology
        values = {name: float(value) for name, value in spec.factors.items()}
        for name in sorted(impact.expected):
            low, high = float(impact.low[name]), float(impact.high[name])
            mode = float(impact.expected[name])
            values[name] = (
                np.full(draws, low) if low == high else rng.triangular(low, mode, high, draws)
            )
        result = np.broadcast_to(compile_numpy(spec.formula)(values), (draws,))
        scale = 10**spec.precision * (1 + engine.FLOAT_TOLERANCE)
        full = np.where(result > 0, np.floor(result * scale), 0).astype(np.int64)
        years = full[:, None] * numerators[None, :] // ramp  # draws x years
        ordered = np.sort(full)
        percentiles = {p: ordered[r] for p, r in zip(engine.PERCENTILES, ranks, strict=True)}
        by_year = {p: q * numerators // ramp for p, q in percentiles.items()}
        expected = engine.full_year_quantity(spec, impact.expected)
        rows.append(
            {
                "code": spec.code,
                "expected": (expected * numerators // ramp).tolist(),
                **{f"p{p}": by_year[p].tolist() for p in engine.PERCENTILES},
            }
        )
        if impact.price_cents:
            value_draws += years.sum(axis=1) * impact.price_cents
    value_draws.sort()
    return {
        "impacts": rows,
        "value_cents": {
            f"p{p}": int(value_draws[r]) for p, r in zip(engine.PERCENTILES, ranks, strict=True)
        },
    }


def rate(function, *, seconds: float) -> tuple[float, int]:
    """Calls per second of `function()` over at least `seconds` (and 3 calls)."""
    function()  # warm-up
    count, started = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and count >= 3:
            return count / elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    draws = 1_000 if args.quick else 10_000
    seconds = 2.0 if args.quick else 6.0
    plan, impacts = scenario(draws)
    results = engine.simulate(plan, impacts)
    assert results == engine.simulate(plan, impacts), "the same seed gave other results"
    print(f"[simulation] engine, {draws} draws x {YEARS} years ...", file=sys.stderr, flush=True)
    engine_rate, engine_calls = rate(lambda: engine.simulate(plan, impacts), seconds=seconds)
    try:
        import numpy
    except ImportError:  # the dev extras pin it; say so rather than fail
        numpy = None
    numpy_rate = numpy_calls = None
    if numpy is not None:
        print("[simulation] numpy vectorised baseline ...", file=sys.stderr, flush=True)
        fast = vectorised(plan, impacts)
        numpy_rate, numpy_calls = rate(lambda: vectorised(plan, impacts), seconds=seconds)
    print("[simulation] hand-written baseline ...", file=sys.stderr, flush=True)
    base_rate, base_calls = rate(lambda: baseline(draws), seconds=seconds)
    print(
        f"# impact simulation benchmark ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}"
        f"{', numpy ' + numpy.__version__ if numpy is not None else ', numpy missing'})"
    )
    print(f"scenario: 2 methodologies, {YEARS} years, ramp {RAMP}, {draws} draws, seed 2026")
    print(f"{'what':<46} {'sims/s':>10} {'calls':>7} {'draws/s':>12}")
    measured = [
        ("engine.simulate (parsed formula, Decimal exp.)", engine_rate, engine_calls),
        ("numpy vectorised baseline", numpy_rate, numpy_calls),
        ("hand-written tight float loop", base_rate, base_calls),
    ]
    for label, value, calls in measured:
        if value is None:
            print(f"{label:<46} {'n/a (pip install the dev extras)':>31}")
            continue
        print(f"{label:<46} {value:>10.2f} {calls:>7} {value * draws * len(impacts):>12.0f}")
    if numpy_rate is not None:
        print(f"numpy / engine: {numpy_rate / engine_rate:.1f}x faster")
        print(
            f"value P50, engine vs numpy (other generator): {results['value_cents']['p50']} vs "
            f"{fast['value_cents']['p50']} cents"
        )
    print(f"hand-written loop / engine: {base_rate / engine_rate:.2f}x")
    with_impact = results["with_impact"]["roi_bp"] / 100
    print(
        f"results: value P5/P50/P95 = {results['value_cents']['p5']}/"
        f"{results['value_cents']['p50']}/{results['value_cents']['p95']} cents, "
        f"expected {results['value_cents']['expected']}; ROI {results['financial']['roi_bp'] / 100}"
        f" % plain, {with_impact} % with impact"
    )


if __name__ == "__main__":
    main()

"""Impact simulation benchmark: simulations per second of a 20-year scenario with 10,000
Monte Carlo draws (`impact.simulation.engine.simulate`), against a baseline measured in the
same run.

Run from the repository root:

    .venv/bin/python bench/simulation.py            # 10,000 draws, 20 years
    .venv/bin/python bench/simulation.py --quick    # 1,000 draws

No database and no Django: the engine is pure Python. The scenario is the catalogue's
`cycling-instead-of-car` v1 (its formula and emission factors from impact/data/sdg.json) with
a 3-year ramp-up, plus `energy-saved` v1: two methodologies, 20 years, N draws.

The baseline: numpy is not installed (and not pinned for this), so the "vectorised" baseline
is the same arithmetic written by hand in one tight loop over floats (triangular draws from
the same `random.Random`, the formula inlined, floor, sort, percentiles): what the engine
costs over hand-written code for this formula. It is not a numpy figure. Nothing here asserts
on time; the table goes to stdout, progress to stderr.
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
    print("[simulation] hand-written baseline ...", file=sys.stderr, flush=True)
    base_rate, base_calls = rate(lambda: baseline(draws), seconds=seconds)
    print(
        f"# impact simulation benchmark ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()})"
    )
    print(f"scenario: 2 methodologies, {YEARS} years, ramp {RAMP}, {draws} draws, seed 2026")
    print(f"{'what':<44} {'sims/s':>10} {'calls':>7} {'draws/s':>12}")
    for label, value, calls in (
        ("engine.simulate (parsed formula, Decimal exp.)", engine_rate, engine_calls),
        ("baseline: same arithmetic, tight float loop", base_rate, base_calls),
    ):
        print(f"{label:<44} {value:>10.2f} {calls:>7} {value * draws * len(impacts):>12.0f}")
    print(f"engine / baseline: {engine_rate / base_rate:.2f}")
    with_impact = results["with_impact"]["roi_bp"] / 100
    print(
        f"results: value P5/P50/P95 = {results['value_cents']['p5']}/"
        f"{results['value_cents']['p50']}/{results['value_cents']['p95']} cents, "
        f"expected {results['value_cents']['expected']}; ROI {results['financial']['roi_bp'] / 100}"
        f" % plain, {with_impact} % with impact"
    )


if __name__ == "__main__":
    main()

"""The distribution of a year's result to investors: integers and exact fractions only.

    cap = floor(result × rate_basis_points / 10000)        (0 when the result is not positive)
    weight of a holding = shares × horizon weight (percent, from the rules' degressive schedule)
    exact share = cap × weight / Σ weights
    each holding gets floor(exact share); the cents left over (fewer than the holdings) go
    one each to the largest remainders (ties: larger weight, then the order of the lines)

so the amounts sum exactly to the cap (nothing lost, nothing created), or to 0 when no
investor holds shares (the cap then stays undistributed). Standard library only, so the
arithmetic can be re-run from the JSON the pages and the API publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from .rules import horizon_weight_percent


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def compute_distribution(
    *,
    result_cents: int,
    rate_basis_points: int,
    schedule: list[dict],
    lines: Sequence[dict],
) -> dict:
    """`lines`: dicts with `holding`, `member`, `shares`, `horizon_years`, in a fixed order."""
    cap = result_cents * rate_basis_points // 10000 if result_cents > 0 else 0
    rows = []
    for line in lines:
        weight_percent = horizon_weight_percent(schedule, line["horizon_years"])
        rows.append(
            {
                "holding": line["holding"],
                "member": line["member"],
                "shares": line["shares"],
                "horizon_years": line["horizon_years"],
                "weight_percent": weight_percent,
                "weight": line["shares"] * weight_percent,
            }
        )
    total = sum(row["weight"] for row in rows)
    for row in rows:
        if total:
            floor, remainder = divmod(cap * row["weight"], total)
            row["exact"] = fraction_text(Fraction(cap * row["weight"], total))
            row["remainder"] = fraction_text(Fraction(remainder, total))
            row["_remainder"] = remainder
        else:
            floor = 0
            row["exact"] = "0/1"
            row["remainder"] = "0/1"
            row["_remainder"] = 0
        row["floor_cents"] = floor
    floors = sum(row["floor_cents"] for row in rows)
    leftover = cap - floors if total else 0
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["_remainder"], -rows[i]["weight"], i))
    lucky = set(order[:leftover])
    for index, row in enumerate(rows):
        row["extra_cent"] = index in lucky
        row["amount_cents"] = row["floor_cents"] + (1 if index in lucky else 0)
        del row["_remainder"]
    distributed = sum(row["amount_cents"] for row in rows)
    return {
        "result_cents": result_cents,
        "rate_basis_points": rate_basis_points,
        "rate": fraction_text(Fraction(rate_basis_points, 10000)),
        "cap_cents": cap,
        "schedule": [dict(step) for step in schedule],
        "total_weight": total,
        "floors_cents": floors,
        "leftover_cents": leftover,
        "distributed_cents": distributed,
        "undistributed_cents": cap - distributed,
        "lines": rows,
    }

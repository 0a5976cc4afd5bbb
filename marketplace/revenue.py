"""How a fee is split between the operator, data owners and local projects, in cents.

The rounding rule (largest remainder, Hamilton's method):

1. each share gets the floor of `amount_cents * percent / 100`;
2. the cents left over (at most two: there are three shares) go one each to the shares with
   the largest remainders `amount_cents * percent mod 100`;
3. equal remainders are served in the fixed order operator, data_owners, local_projects.

So the shares always sum to the amount (no cent is lost or created), each share is within
one cent of its exact value, and the same amount and percents always give the same split.
"""

from __future__ import annotations

from governance.rules import REVENUE_SHARES


def split_amount(amount_cents: int, percents: dict[str, int]) -> dict[str, int]:
    """Split `amount_cents` (a non-negative integer) by whole `percents` summing to 100."""
    if type(amount_cents) is not int or amount_cents < 0:
        raise ValueError("an amount is a non-negative integer of cents")
    if set(percents) != set(REVENUE_SHARES) or sum(percents.values()) != 100:
        raise ValueError("the percents name operator, data_owners, local_projects and sum 100")
    shares = {name: amount_cents * percents[name] // 100 for name in REVENUE_SHARES}
    left = amount_cents - sum(shares.values())
    by_remainder = sorted(
        REVENUE_SHARES,
        key=lambda name: (-(amount_cents * percents[name] % 100), REVENUE_SHARES.index(name)),
    )
    for name in by_remainder[:left]:
        shares[name] += 1
    return shares

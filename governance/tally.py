"""The tally of a vote, from counts alone, and the electorate digest (standard library only:
`ledger.canonical.jcs_stdlib` is itself standard library).

Shared by the server (`governance.services`) and by `python -m governance.retally`, which
recomputes both from a ledger export with no Django: both print the same numbers.

Per college: turnout = ballots / electorate; the college counts when its turnout reaches its
quorum and at least one ballot is not an abstention. The weighted result is
Σ weight × yes / (yes + no) over counting colleges, divided by the sum of their weights.
The proposal is accepted when at least one college counts and the weighted result is strictly
above the approval threshold. Exact fractions throughout; decimals are shown as strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from fractions import Fraction

from ledger.canonical import jcs_stdlib

CHOICES = ("yes", "no", "abstain")


def electorate_digest(rows: Iterable[Sequence[str]]) -> str:
    """SHA-256 (hex) of the RFC 8785 JCS of the sorted [college, DID] pairs of an electorate.

    The open transaction of a vote records it; anyone re-derives it from the membership
    transactions before that one."""
    return hashlib.sha256(jcs_stdlib(sorted([list(row) for row in rows]))).hexdigest()


def percent_text(value: Fraction) -> str:
    """A fraction as a percentage with two decimals, rounded half up: "66.67"."""
    hundredths = (value * 10000 + Fraction(1, 2)).__floor__()
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def compute_tally(
    *, rules: dict, electorate: dict[str, int], counts: dict[str, dict[str, int]]
) -> dict:
    """`electorate`: college -> members when the vote opened; `counts`: college -> choice -> n."""
    colleges = {}
    weighted = Fraction(0)
    weights = 0
    for slug, college_rules in rules["colleges"].items():
        size = electorate.get(slug, 0)
        tally = {choice: counts.get(slug, {}).get(choice, 0) for choice in CHOICES}
        voted = sum(tally.values())
        quorum = college_rules["quorum_percent"]
        quorum_met = size > 0 and voted * 100 >= quorum * size
        expressed = tally["yes"] + tally["no"]
        weight = college_rules["weight"]
        counting = quorum_met and expressed > 0 and weight > 0
        support = Fraction(tally["yes"], expressed) if expressed else Fraction(0)
        if counting:
            weighted += weight * support
            weights += weight
        colleges[slug] = {
            **tally,
            "electorate": size,
            "voted": voted,
            "turnout_percent": percent_text(Fraction(voted, size)) if size else "0.00",
            "quorum_percent": quorum,
            "quorum_met": quorum_met,
            "weight": weight,
            "support_percent": percent_text(support),
            "counts": counting,
        }
    result = weighted / weights if weights else Fraction(0)
    threshold = rules["approval_threshold_percent"]
    accepted = weights > 0 and result * 100 > threshold
    return {
        "colleges": colleges,
        "counting_weight": weights,
        "weighted_result": f"{result.numerator}/{result.denominator}",
        "weighted_result_percent": percent_text(result),
        "approval_threshold_percent": threshold,
        "accepted": accepted,
    }

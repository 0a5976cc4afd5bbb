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


def compute_budget_tally(
    *,
    rules: dict,
    electorate: dict[str, int],
    voters: dict[str, int],
    supporters: dict[str, dict[str, int]],
    projects: Sequence[dict],
    budget_cents: int,
) -> dict:
    """The tally of a participatory budget (knapsack ballots).

    `voters`: college -> ballots cast (an empty selection is a ballot supporting nothing);
    `supporters`: project id -> college -> ballots that picked it; `projects`: dicts with
    `id`, `cost_cents`, `position`. A college counts when its turnout reaches its quorum, it
    cast at least one ballot and its weight is positive. A project's weighted support is
    Σ weight × supporters / voters over counting colleges, divided by the sum of their
    weights. Projects are ranked by weighted support (ties: lower cost, then position) and
    funded in that order while the budget lasts: one that no longer fits is skipped and
    cheaper ones after it may still be funded. A project nobody supports is never funded.
    The call is accepted when at least one project is funded.
    """
    colleges = {}
    counting: list[tuple[str, int, int]] = []  # (college, weight, voters)
    for slug, college_rules in rules["colleges"].items():
        size = electorate.get(slug, 0)
        voted = voters.get(slug, 0)
        quorum = college_rules["quorum_percent"]
        quorum_met = size > 0 and voted * 100 >= quorum * size
        weight = college_rules["weight"]
        counts = quorum_met and voted > 0 and weight > 0
        if counts:
            counting.append((slug, weight, voted))
        colleges[slug] = {
            "electorate": size,
            "voted": voted,
            "turnout_percent": percent_text(Fraction(voted, size)) if size else "0.00",
            "quorum_percent": quorum,
            "quorum_met": quorum_met,
            "weight": weight,
            "counts": counts,
        }
    weights = sum(weight for _slug, weight, _voted in counting)
    scored = []
    for project in projects:
        support = supporters.get(project["id"], {})
        weighted = sum(
            (weight * Fraction(support.get(slug, 0), voted) for slug, weight, voted in counting),
            Fraction(0),
        )
        if weights:
            weighted /= weights
        scored.append((weighted, project))
    scored.sort(key=lambda row: (-row[0], row[1]["cost_cents"], row[1]["position"]))
    remaining = budget_cents
    ranking = []
    funded = []
    for rank, (weighted, project) in enumerate(scored, start=1):
        fits = weighted > 0 and project["cost_cents"] <= remaining
        if fits:
            remaining -= project["cost_cents"]
            funded.append(project["id"])
        ranking.append(
            {
                "rank": rank,
                "project": project["id"],
                "cost_cents": project["cost_cents"],
                "position": project["position"],
                "supporters": {
                    slug: supporters.get(project["id"], {}).get(slug, 0) for slug in colleges
                },
                "weighted_support": f"{weighted.numerator}/{weighted.denominator}",
                "weighted_support_percent": percent_text(weighted),
                "funded": fits,
            }
        )
    return {
        "budget": True,
        "colleges": colleges,
        "counting_weight": weights,
        "budget_cents": budget_cents,
        "ranking": ranking,
        "funded": funded,
        "funded_cents": budget_cents - remaining,
        "accepted": bool(funded),
    }

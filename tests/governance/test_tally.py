"""The tally: per college yes / no / abstain and turnout against the snapshot; a college below
its quorum, or with no yes/no ballot, does not count; the weighted result is
Σ weight × yes / (yes + no) over counting colleges, normalised by their weights; accepted when
strictly above the threshold and at least one college counts. Exact fractions, no float; the
server counts ballots in one aggregate query."""

from __future__ import annotations

from fractions import Fraction

import pytest

from governance.rules import default_rules
from governance.services import ballot_counts
from governance.tally import compute_tally, percent_text

from .helpers import cast, close, draft, join_many, open_vote


def rules(threshold: int = 50, **colleges) -> dict:
    """Default rules with colleges given as slug=(weight, quorum %)."""
    result = default_rules()
    result["approval_threshold_percent"] = threshold
    if colleges:
        result["colleges"] = {
            slug: {"weight": weight, "quorum_percent": quorum}
            for slug, (weight, quorum) in colleges.items()
        }
    return result


def floats_in(value) -> list:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in floats_in(item)]
    if isinstance(value, list):
        return [f for item in value for f in floats_in(item)]
    return []


def test_a_tally_computed_by_hand():
    """residents 40: 10 members, 3 yes 1 no 1 abstain -> turnout 50 %, support 3/4;
    providers 30: 4 members, 1 yes 1 no -> turnout 50 %, support 1/2;
    municipality 30: 2 members, 0 yes 2 no -> support 0.
    (40 × 3/4 + 30 × 1/2 + 30 × 0) / 100 = 45/100 = 9/20 = 45 % -> rejected."""
    tally = compute_tally(
        rules=rules(),
        electorate={"residents": 10, "providers": 4, "municipality": 2},
        counts={
            "residents": {"yes": 3, "no": 1, "abstain": 1},
            "providers": {"yes": 1, "no": 1},
            "municipality": {"no": 2},
        },
    )
    assert tally == {
        "colleges": {
            "residents": {
                "yes": 3,
                "no": 1,
                "abstain": 1,
                "electorate": 10,
                "voted": 5,
                "turnout_percent": "50.00",
                "quorum_percent": 10,
                "quorum_met": True,
                "weight": 40,
                "support_percent": "75.00",
                "counts": True,
            },
            "providers": {
                "yes": 1,
                "no": 1,
                "abstain": 0,
                "electorate": 4,
                "voted": 2,
                "turnout_percent": "50.00",
                "quorum_percent": 10,
                "quorum_met": True,
                "weight": 30,
                "support_percent": "50.00",
                "counts": True,
            },
            "municipality": {
                "yes": 0,
                "no": 2,
                "abstain": 0,
                "electorate": 2,
                "voted": 2,
                "turnout_percent": "100.00",
                "quorum_percent": 10,
                "quorum_met": True,
                "weight": 30,
                "support_percent": "0.00",
                "counts": True,
            },
        },
        "counting_weight": 100,
        "weighted_result": "9/20",
        "weighted_result_percent": "45.00",
        "approval_threshold_percent": 50,
        "accepted": False,
    }
    assert floats_in(tally) == []


def test_weights_are_renormalised_over_the_counting_colleges():
    """Providers miss their quorum: (40 × 2/3 + 30 × 1/1) / 70 = (80/3 + 30) / 70 = 17/21."""
    tally = compute_tally(
        rules=rules(),
        electorate={"residents": 3, "providers": 100, "municipality": 1},
        counts={
            "residents": {"yes": 2, "no": 1},
            "providers": {"yes": 9},
            "municipality": {"yes": 1},
        },
    )
    assert tally["colleges"]["providers"]["quorum_met"] is False
    assert tally["colleges"]["providers"]["counts"] is False
    assert tally["counting_weight"] == 70
    assert Fraction(tally["weighted_result"]) == Fraction(17, 21)
    assert tally["weighted_result_percent"] == "80.95"
    assert tally["accepted"] is True


@pytest.mark.parametrize(
    ("members", "quorum", "voted", "met"),
    [
        (10, 10, 1, True),  # exactly at the quorum counts
        (10, 20, 1, False),  # one below does not
        (10, 20, 2, True),
        (3, 25, 1, True),  # 1/3 >= 25 %
        (4, 25, 1, True),  # exactly 25 %
        (5, 25, 1, False),  # 20 % < 25 %
        (7, 100, 6, False),
        (7, 100, 7, True),
        (5, 0, 0, True),  # a zero quorum is met without a ballot...
    ],
)
def test_quorum_edges(members, quorum, voted, met):
    tally = compute_tally(
        rules=rules(residents=(100, quorum)),
        electorate={"residents": members},
        counts={"residents": {"yes": voted}} if voted else {},
    )
    college = tally["colleges"]["residents"]
    assert (college["voted"], college["quorum_met"]) == (voted, met)
    assert college["counts"] is (met and voted > 0)
    assert tally["accepted"] is (met and voted > 0)


def test_a_zero_quorum_college_without_yes_or_no_does_not_count():
    tally = compute_tally(rules=rules(residents=(100, 0)), electorate={"residents": 5}, counts={})
    assert tally["colleges"]["residents"]["counts"] is False
    assert tally["accepted"] is False


def test_a_college_with_no_members_does_not_count():
    tally = compute_tally(
        rules=rules(residents=(40, 0), providers=(30, 10), municipality=(30, 10)),
        electorate={"providers": 2, "municipality": 1},
        counts={"providers": {"yes": 1, "no": 1}, "municipality": {"yes": 1}},
    )
    residents = tally["colleges"]["residents"]
    assert (residents["electorate"], residents["turnout_percent"]) == (0, "0.00")
    assert (residents["quorum_met"], residents["counts"]) == (False, False)
    assert tally["counting_weight"] == 60
    assert tally["weighted_result"] == "3/4"  # (30 × 1/2 + 30 × 1) / 60


def test_an_all_abstain_college_meets_its_quorum_but_does_not_count():
    tally = compute_tally(
        rules=rules(),
        electorate={"residents": 4, "providers": 1, "municipality": 1},
        counts={"residents": {"abstain": 4}, "providers": {"no": 1}, "municipality": {"yes": 1}},
    )
    residents = tally["colleges"]["residents"]
    assert (residents["quorum_met"], residents["counts"], residents["support_percent"]) == (
        True,
        False,
        "0.00",
    )
    assert tally["counting_weight"] == 60
    assert tally["weighted_result"] == "1/2"


def test_with_no_counting_college_the_proposal_is_rejected_even_at_threshold_zero():
    tally = compute_tally(
        rules=rules(threshold=0),
        electorate={"residents": 100, "providers": 0, "municipality": 1},
        counts={"residents": {"yes": 5}, "municipality": {"abstain": 1}},
    )
    assert tally["counting_weight"] == 0
    assert (tally["weighted_result"], tally["weighted_result_percent"]) == ("0/1", "0.00")
    assert tally["accepted"] is False


def test_a_college_of_weight_zero_does_not_count():
    tally = compute_tally(
        rules=rules(residents=(100, 10), providers=(0, 10)),
        electorate={"residents": 2, "providers": 2},
        counts={"residents": {"no": 2}, "providers": {"yes": 2}},
    )
    assert tally["colleges"]["providers"]["counts"] is False
    assert tally["accepted"] is False


@pytest.mark.parametrize(
    ("yes", "no", "threshold", "accepted"),
    [
        (1, 1, 50, False),  # exactly at the threshold: not above it
        (501, 499, 50, True),  # just above
        (2, 1, 66, True),  # 66.67 % > 66 %
        (2, 1, 67, False),
        (0, 1, 0, False),  # 0 % is not above 0 %
        (1, 999, 0, True),
        (1, 0, 99, True),
    ],
)
def test_the_threshold_is_strictly_exceeded(yes, no, threshold, accepted):
    tally = compute_tally(
        rules=rules(threshold, residents=(100, 0)),
        electorate={"residents": yes + no},
        counts={"residents": {"yes": yes, "no": no}},
    )
    assert tally["accepted"] is accepted


def test_colleges_outside_the_rules_are_ignored():
    tally = compute_tally(
        rules=rules(residents=(100, 10)),
        electorate={"residents": 1, "investors": 5},
        counts={"residents": {"yes": 1}, "investors": {"no": 5}},
    )
    assert set(tally["colleges"]) == {"residents"}
    assert tally["weighted_result"] == "1/1"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.00"),
        (Fraction(1), "100.00"),
        (Fraction(1, 3), "33.33"),
        (Fraction(2, 3), "66.67"),
        (Fraction(1, 8), "12.50"),
        (Fraction(1, 800), "0.13"),  # 0.125 % rounds half up
        (Fraction(1, 80000), "0.00"),
        (Fraction(9, 20), "45.00"),
        (Fraction(17, 21), "80.95"),
    ],
)
def test_percentages_are_exact_and_rounded_half_up(value, text):
    assert percent_text(value) == text


@pytest.mark.django_db
def test_the_server_counts_ballots_in_one_aggregate_query(
    city, staff, mayor, resident, provider, django_assert_num_queries
):
    residents = [resident, *join_many(city, "residents", 4, by=staff)]
    proposal = open_vote(draft(resident))
    cast(
        proposal,
        [
            *zip(residents, ["yes", "yes", "no", "abstain", "yes"], strict=True),
            (provider, "no"),
            (mayor, "yes"),
            (residents[1], "no"),  # a change of vote: the last one counts
        ],
    )
    with django_assert_num_queries(1):
        counts = ballot_counts(proposal)
    assert counts == {
        "residents": {"yes": 2, "no": 2, "abstain": 1},
        "providers": {"no": 1},
        "municipality": {"yes": 1},
    }
    closed = close(proposal)
    assert closed.tally == compute_tally(
        rules=default_rules(),
        electorate={"residents": 5, "providers": 1, "municipality": 1},
        counts=counts,
    )
    # (40 × 2/4 + 30 × 0 + 30 × 1) / 100 = 1/2: not above 50 %
    assert (closed.tally["weighted_result"], closed.status) == ("1/2", "rejected")


@pytest.mark.django_db
def test_the_count_query_does_not_grow_with_the_ballots(
    city, staff, mayor, resident, django_assert_num_queries
):
    members = [resident, *join_many(city, "residents", 9, by=staff)]
    proposal = open_vote(draft(resident))
    cast(proposal, [(member, "yes") for member in members[:2]])
    with django_assert_num_queries(1):
        ballot_counts(proposal)
    cast(proposal, [(member, "no") for member in members[2:]])
    with django_assert_num_queries(1):
        assert ballot_counts(proposal) == {"residents": {"yes": 2, "no": 8}}

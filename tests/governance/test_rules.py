"""Governance rules: versioned, validated (whole numbers only), changed only by an accepted
amend_rules vote, and frozen with each vote when it opens."""

from __future__ import annotations

import copy

import pytest

from governance.errors import InvalidRules
from governance.models import RulesVersion
from governance.rules import ALL_KINDS, default_rules, validate_rules
from governance.services import rules_digest, rules_in_force, vote_cast

from .helpers import adopt_rules, cast, city_transactions, close, draft, open_vote, writes_nothing

pytestmark = pytest.mark.django_db

SLUGS = {"residents", "providers", "municipality"}


def test_the_default_rules_are_the_scic_defaults():
    rules = default_rules()
    assert {slug: c["weight"] for slug, c in rules["colleges"].items()} == {
        "residents": 40,
        "providers": 30,
        "municipality": 30,
    }
    assert {c["quorum_percent"] for c in rules["colleges"].values()} == {10}
    assert rules["approval_threshold_percent"] == 50
    assert rules["vote_changeable"] is True
    assert set(rules["proposers"]) == set(ALL_KINDS)
    assert validate_rules(rules, college_slugs=SLUGS) == rules


def test_validation_returns_a_copy():
    rules = default_rules()
    clean = validate_rules(rules, college_slugs=SLUGS)
    clean["colleges"]["residents"]["weight"] = 99
    assert rules["colleges"]["residents"]["weight"] == 40


def _edit(**changes):
    def apply(rules):
        for path, value in changes.items():
            *parents, leaf = path.split("__")
            target = rules
            for key in parents:
                target = target[key]
            if value is DELETE:
                del target[leaf]
            else:
                target[leaf] = value
        return rules

    return apply


DELETE = object()
BAD = {
    "weights-sum-99": _edit(colleges__residents__weight=39),
    "weights-sum-101": _edit(colleges__residents__weight=41),
    "float-weight": _edit(colleges__residents__weight=40.0),
    "bool-quorum": _edit(colleges__residents__quorum_percent=True),
    "string-weight": _edit(colleges__residents__weight="40"),
    "negative-quorum": _edit(colleges__providers__quorum_percent=-1),
    "quorum-over-100": _edit(colleges__providers__quorum_percent=101),
    "unknown-college": _edit(colleges__investors={"weight": 0, "quorum_percent": 10}),
    "no-college": _edit(colleges={}),
    "college-not-an-object": _edit(colleges__municipality=30),
    "threshold-100": _edit(approval_threshold_percent=100),
    "threshold-float": _edit(approval_threshold_percent=50.5),
    "threshold-missing": _edit(approval_threshold_percent=DELETE),
    "period-min-above-max": _edit(voting_period_hours={"min": 48, "max": 24}),
    "period-zero": _edit(voting_period_hours={"min": 0, "max": 24}),
    "period-over-a-year": _edit(voting_period_hours={"min": 1, "max": 24 * 366}),
    "period-missing": _edit(voting_period_hours=DELETE),
    "proposers-unknown-kind": _edit(proposers__lottery=["residents"]),
    "proposers-unknown-college": _edit(proposers__general=["residents", "investors"]),
    "proposers-not-a-list": _edit(proposers__general="residents"),
    "vote-changeable-not-bool": _edit(vote_changeable=1),
}


@pytest.mark.parametrize("name", BAD)
def test_invalid_rules_are_refused(name):
    rules = BAD[name](default_rules())
    with pytest.raises(InvalidRules):
        validate_rules(rules, college_slugs=SLUGS)


@pytest.mark.parametrize("rules", [None, [], "rules"])
def test_rules_are_a_json_object(rules):
    with pytest.raises(InvalidRules):
        validate_rules(rules, college_slugs=SLUGS)


def test_a_college_may_weigh_zero_and_quorum_may_be_zero():
    rules = default_rules()
    rules["colleges"]["residents"] = {"weight": 70, "quorum_percent": 0}
    rules["colleges"]["providers"]["weight"] = 0
    assert validate_rules(rules, college_slugs=SLUGS)["colleges"]["providers"]["weight"] == 0


def test_an_amendment_with_invalid_rules_is_refused_at_once(city, mayor):
    rules = default_rules()
    rules["colleges"]["residents"]["weight"] = 50
    with writes_nothing(), pytest.raises(InvalidRules):
        draft(mayor, "amend_rules", rules=rules)


def test_rules_change_only_through_an_accepted_amendment(city, mayor):
    rules = default_rules()
    rules["approval_threshold_percent"] = 66
    version = adopt_rules(city, mayor, rules)
    assert rules_in_force(city) == version
    assert (version.version, version.rules, version.digest) == (2, rules, rules_digest(rules))
    assert version.adopted_by.kind == "amend_rules"
    adopt = city_transactions(city, "governance.rules.adopt").last()
    assert adopt.actor == city.identity.did
    assert adopt.payload == {
        "city": "bourg",
        "version": 2,
        "rules": rules,
        "digest": version.digest,
        "proposal": version.adopted_by.public_id,
    }
    assert RulesVersion.objects.filter(city=city).count() == 2


def test_a_rejected_amendment_changes_nothing(city, mayor):
    rules = default_rules()
    rules["vote_changeable"] = False
    proposal = open_vote(draft(mayor, "amend_rules", rules=rules), by=mayor)
    vote_cast(proposal=proposal, member=mayor, choice="no")
    assert close(proposal).status == "rejected"
    assert rules_in_force(city).version == 1


def test_a_rules_change_does_not_alter_an_open_vote(city, mayor, resident, provider):
    """The vote opened under v1 keeps v1's weights, threshold and vote_changeable, and its
    tally is computed with them, although v2 is in force when it closes."""
    under_v1 = open_vote(draft(resident))
    frozen = copy.deepcopy(under_v1.rules.rules)
    cast(under_v1, [(resident, "yes"), (provider, "no"), (mayor, "no")])

    rules = default_rules()
    rules["colleges"] = {
        "residents": {"weight": 90, "quorum_percent": 10},
        "providers": {"weight": 5, "quorum_percent": 10},
        "municipality": {"weight": 5, "quorum_percent": 10},
    }
    rules["approval_threshold_percent"] = 20
    rules["vote_changeable"] = False
    assert adopt_rules(city, mayor, rules).version == 2

    under_v1.refresh_from_db()
    assert under_v1.rules.version == 1 and under_v1.rules.rules == frozen
    vote_cast(proposal=under_v1, member=provider, choice="yes")  # still changeable under v1
    closed = close(under_v1)
    # Under v1: 40 × 1 + 30 × 1 + 30 × 0 over 100 = 70 %; under v2 it would be 95 %.
    assert closed.tally["colleges"]["residents"]["weight"] == 40
    assert closed.tally["weighted_result"] == "7/10"
    assert closed.tally["approval_threshold_percent"] == 50
    opened = city_transactions(city, "governance.proposal.open").first()
    assert opened.payload["rules_version"] == 1 and opened.payload["rules"] == frozen

    under_v2 = open_vote(draft(resident))
    assert under_v2.rules.version == 2

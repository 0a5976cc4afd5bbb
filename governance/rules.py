"""Governance rules: their shape, defaults and validation (integers only: no floats).

A rules document:

    {
      "colleges": {"residents": {"weight": 40, "quorum_percent": 10}, ...},  # weights sum 100
      "approval_threshold_percent": 50,   # accepted when the weighted result is above it
      "voting_period_hours": {"min": 24, "max": 720},
      "proposers": {"general": ["residents", "providers", "municipality"], ...},
      "vote_changeable": true,             # the last vote counts until the close
      "revenue_split_percent": {"operator": 20, "data_owners": 30, "local_projects": 50}
    }

`revenue_split_percent` says how the treasury shares fee revenue (sum 100). Rules adopted
before it existed lack it; `revenue_split` then gives the default.

`validators` (optional) is the city chain's validator set: `{"members": [did:key, ...],
"quorum": k}` with k above half the members. Adopting rules that change it records the new
set on the chain, in force from the block after the one that seals the change
(`ledger.validators.validator_set_schedule`). Without it the chain keeps its set (at first
the platform validator alone).
"""

from __future__ import annotations

import copy

from .effects import registered_kinds
from .errors import InvalidRules

DEFAULT_COLLEGES = [
    # (slug, kind, weight, quorum %)
    ("residents", "residents", 40, 10),
    ("providers", "providers", 30, 10),
    ("municipality", "municipality", 30, 10),
]
REVENUE_SHARES = ("operator", "data_owners", "local_projects")
DEFAULT_REVENUE_SPLIT = {"operator": 20, "data_owners": 30, "local_projects": 50}
ALL_KINDS = [
    "deploy_service",
    "fund_project",
    "amend_rules",
    "become_independent",
    "maintenance_autonomy",
    "general",
]


def default_rules() -> dict:
    everyone = [slug for slug, *_ in DEFAULT_COLLEGES]
    return {
        "colleges": {
            slug: {"weight": weight, "quorum_percent": quorum}
            for slug, _kind, weight, quorum in DEFAULT_COLLEGES
        },
        "approval_threshold_percent": 50,
        "voting_period_hours": {"min": 24, "max": 720},
        "proposers": {
            "general": everyone,
            "fund_project": everyone,
            "deploy_service": everyone,
            "amend_rules": ["municipality", "residents"],
            "maintenance_autonomy": ["municipality"],
            "become_independent": ["municipality"],
        },
        "vote_changeable": True,
        "revenue_split_percent": dict(DEFAULT_REVENUE_SPLIT),
    }


def revenue_split(rules: dict) -> dict[str, int]:
    """The shares of fee revenue, in whole percent summing to 100."""
    return dict(rules.get("revenue_split_percent") or DEFAULT_REVENUE_SPLIT)


def _int_in(value, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InvalidRules(f"{what} must be a whole number from {low} to {high}")
    return value


def validate_rules(rules: dict, *, college_slugs: set[str]) -> dict:
    """Return a clean copy of `rules`, or raise InvalidRules saying what is wrong."""
    if not isinstance(rules, dict):
        raise InvalidRules("rules are a JSON object")
    clean = copy.deepcopy(rules)
    colleges = clean.get("colleges")
    if not isinstance(colleges, dict) or not colleges:
        raise InvalidRules("rules name at least one college")
    unknown = set(colleges) - college_slugs
    if unknown:
        raise InvalidRules(f"unknown colleges: {', '.join(sorted(unknown))}")
    total = 0
    for slug, college in colleges.items():
        if not isinstance(college, dict):
            raise InvalidRules(f"college {slug}: weight and quorum_percent expected")
        total += _int_in(college.get("weight"), 0, 100, f"{slug} weight")
        _int_in(college.get("quorum_percent"), 0, 100, f"{slug} quorum_percent")
    if total != 100:
        raise InvalidRules(f"college weights sum to {total}, not 100")
    _int_in(clean.get("approval_threshold_percent"), 0, 99, "approval_threshold_percent")
    period = clean.get("voting_period_hours")
    if not isinstance(period, dict):
        raise InvalidRules("voting_period_hours needs min and max")
    low = _int_in(period.get("min"), 1, 24 * 365, "minimum voting period (hours)")
    high = _int_in(period.get("max"), 1, 24 * 365, "maximum voting period (hours)")
    if low > high:
        raise InvalidRules("the minimum voting period exceeds the maximum")
    proposers = clean.get("proposers")
    # Kinds another app registered (governance.effects) may be proposed too.
    known_kinds = set(ALL_KINDS) | registered_kinds()
    if not isinstance(proposers, dict) or set(proposers) - known_kinds:
        raise InvalidRules("proposers maps proposal kinds to college slugs")
    for kind, slugs in proposers.items():
        if not isinstance(slugs, list) or not set(slugs) <= college_slugs:
            raise InvalidRules(f"proposers of {kind}: a list of this city's colleges")
    if type(clean.get("vote_changeable")) is not bool:
        raise InvalidRules("vote_changeable is true or false")
    if "revenue_split_percent" in clean:
        _validate_revenue_split(clean["revenue_split_percent"])
    if "validators" in clean:
        clean["validators"] = _validate_validators(clean["validators"])
    return clean


def _validate_validators(validators) -> dict:
    """`{"members": [did:key, ...], "quorum": k}`: distinct DIDs, more than half must sign
    (so two disjoint quorums can never finalise different blocks at one height)."""
    from ledger.quorum import InvalidValidatorSet, check_set

    if not isinstance(validators, dict) or set(validators) != {"members", "quorum"}:
        raise InvalidRules("validators names members (DIDs) and a quorum")
    try:
        checked = check_set(validators["members"], validators["quorum"], majority=True)
    except InvalidValidatorSet as error:
        raise InvalidRules(f"validators: {error}") from error
    return checked.as_dict()


def _validate_revenue_split(split) -> None:
    if not isinstance(split, dict) or set(split) != set(REVENUE_SHARES):
        raise InvalidRules("revenue_split_percent names operator, data_owners and local_projects")
    total = sum(_int_in(split[share], 0, 100, f"{share} revenue share") for share in split)
    if total != 100:
        raise InvalidRules(f"revenue shares sum to {total}, not 100")

"""The cooperative's rules: governance rules (`governance.rules`) plus a `cooperative` section.

    "cooperative": {
      "admission": "board",                  # or "vote": an `admit_member` proposal
      "distribution_rate_basis_points": 4250, # at most 4250 (42.5 % of the result)
      "horizon_weights": [                    # degressive: longer commitment, larger weight
        {"min_years": 10, "weight_percent": 100},
        {"min_years": 5, "weight_percent": 80},
        {"min_years": 3, "weight_percent": 60},
        {"min_years": 0, "weight_percent": 40}
      ],
      "max_horizon_years": 30
    }

Integers only, as every rule of the platform.
"""

from __future__ import annotations

import copy

from governance.errors import InvalidRules

# The legal ceiling: at most 42.5 % of the result goes to investors, whatever the rules say.
MAX_RATE_BASIS_POINTS = 4250
ADMISSION_MODES = ("board", "vote")

# (slug, kind, weight, quorum %): the four colleges of the operator's cooperative.
COLLEGES = [
    ("data-providers", "data_providers", 30, 10),
    ("clients", "clients", 25, 10),
    ("operators", "operators", 25, 10),
    ("investors", "investors", 20, 10),
]
NETWORK_KINDS = [
    "approve_accounts",
    "audit_standards",
    "fees_schedule",
    "admit_city",
    "city_independence",
    "admit_member",
]
DEFAULT_SECTION = {
    "admission": "board",
    "distribution_rate_basis_points": MAX_RATE_BASIS_POINTS,
    "horizon_weights": [
        {"min_years": 10, "weight_percent": 100},
        {"min_years": 5, "weight_percent": 80},
        {"min_years": 3, "weight_percent": 60},
        {"min_years": 0, "weight_percent": 40},
    ],
    "max_horizon_years": 30,
}


def default_rules() -> dict:
    everyone = [slug for slug, *_ in COLLEGES]
    return {
        "colleges": {
            slug: {"weight": weight, "quorum_percent": quorum}
            for slug, _kind, weight, quorum in COLLEGES
        },
        "approval_threshold_percent": 50,
        "voting_period_hours": {"min": 1, "max": 720},
        "proposers": {
            "general": everyone,
            "amend_rules": everyone,
            "admit_member": everyone,
            "approve_accounts": ["operators"],
            "audit_standards": ["operators"],
            "fees_schedule": ["operators"],
            "admit_city": ["operators", "clients"],
            "city_independence": ["operators", "clients"],
        },
        "vote_changeable": True,
        "cooperative": copy.deepcopy(DEFAULT_SECTION),
    }


def section(rules: dict) -> dict:
    """The cooperative section of `rules`, validated (defaults when absent)."""
    return validate_section(rules.get("cooperative", DEFAULT_SECTION))


def _int_in(value, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InvalidRules(f"{what} must be a whole number from {low} to {high}")
    return value


def validate_section(value) -> dict:
    """A clean copy of the cooperative section, or InvalidRules saying what is wrong."""
    if not isinstance(value, dict):
        raise InvalidRules("the cooperative section is a JSON object")
    clean = copy.deepcopy(value)
    if clean.get("admission") not in ADMISSION_MODES:
        raise InvalidRules("admission is board or vote")
    _int_in(
        clean.get("distribution_rate_basis_points"),
        0,
        MAX_RATE_BASIS_POINTS,
        "distribution_rate_basis_points",
    )
    longest = _int_in(clean.get("max_horizon_years"), 0, 99, "max_horizon_years")
    schedule = clean.get("horizon_weights")
    if not isinstance(schedule, list) or not schedule:
        raise InvalidRules("horizon_weights lists at least one step")
    previous = None
    for step in schedule:
        if not isinstance(step, dict):
            raise InvalidRules("each horizon step has min_years and weight_percent")
        years = _int_in(step.get("min_years"), 0, longest, "min_years")
        weight = _int_in(step.get("weight_percent"), 1, 100, "weight_percent")
        if previous is not None and not (years < previous[0] and weight <= previous[1]):
            raise InvalidRules(
                "horizon steps go from the longest to the shortest commitment, "
                "with weights that never grow"
            )
        previous = (years, weight)
    if previous[0] != 0:
        raise InvalidRules("the last horizon step starts at 0 years")
    return clean


def horizon_weight_percent(schedule: list[dict], years: int) -> int:
    """The weight of a commitment of `years`: the first step it reaches."""
    for step in schedule:
        if years >= step["min_years"]:
            return step["weight_percent"]
    raise InvalidRules("the last horizon step starts at 0 years")

"""Reads of impact simulation: the market price a forecast uses, scenarios with their access
check, side-by-side comparison, forecast against certified impact, and the scenarios shown
with a proposal."""

from __future__ import annotations

from django.db.models import F, Sum
from django.db.models.functions import ExtractYear

from governance.models import City, MembershipStatus, Proposal, ProposalStatus
from identity.models import User

from ..errors import NotFound
from ..models import Claim, ClaimState, Purchase, SellOffer, TokenClass
from .models import Scenario, ScenarioAttachment

COMPARE_COLUMNS = [
    "scenario",
    "version",
    "title",
    "kind",
    "cost_cents",
    "start_year",
    "years",
    "methodology",
    "methodology_version",
    "indicator",
    "unit",
    "expected",
    "p5",
    "p50",
    "p95",
    "price_cents",
    "price_source",
    "value_cents",
    "financial_roi_bp",
    "impact_roi_bp",
]


def market_price(*, city: City, token_class: TokenClass) -> int | None:
    """The latest unit price (cents per smallest unit) of `token_class` in `city`: the most
    recent trade or sell offer, whichever came last; None when the market never saw one."""
    offer = (
        SellOffer.objects.filter(city=city, token_class=token_class)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "unit_price_cents")
        .first()
    )
    trade = (
        Purchase.objects.filter(offer__city=city, offer__token_class=token_class)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "offer__unit_price_cents")
        .first()
    )
    latest = max((row for row in (offer, trade) if row is not None), default=None)
    return None if latest is None else latest[1]


def can_see_scenario(user: User | None, scenario: Scenario) -> bool:
    """Approved members of its city; anyone once it is shown with a proposal put to vote."""
    if (
        user is not None
        and user.is_authenticated
        and scenario.city.memberships.filter(user=user, status=MembershipStatus.APPROVED).exists()
    ):
        return True
    return scenario.attachments.exclude(proposal__status=ProposalStatus.DRAFT).exists()


def scenario_list(*, city: City) -> list[Scenario]:
    """Every version of every scenario of the city, newest version first within a code."""
    return list(
        Scenario.objects.filter(city=city)
        .select_related("entry")
        .prefetch_related("impacts__methodology")
        .order_by("code", "-version")
    )


def scenario_get_for_user(*, city: City, public_id: str, user: User | None) -> Scenario:
    """A scenario of `city` the user may see; missing and hidden raise the same NotFound."""
    scenario = (
        Scenario.objects.select_related("city", "entry")
        .prefetch_related("impacts__methodology")
        .filter(city=city, public_id=public_id)
        .first()
    )
    if scenario is None or not can_see_scenario(user, scenario):
        raise NotFound()
    return scenario


def scenario_compare(*, scenarios: list[Scenario]) -> list[dict]:
    """Side by side: one row per scenario and methodology with its totals over the schedule
    (columns `COMPARE_COLUMNS`), in the order the scenarios were given."""
    rows = []
    for scenario in scenarios:
        results = scenario.results
        for impact in results["impacts"]:
            total = impact["total"]
            rows.append(
                {
                    "scenario": scenario.public_id,
                    "version": scenario.version,
                    "title": scenario.title,
                    "kind": scenario.kind,
                    "cost_cents": scenario.cost_cents,
                    "start_year": scenario.start_year,
                    "years": scenario.years,
                    "methodology": impact["code"],
                    "methodology_version": impact["version"],
                    "indicator": impact["indicator"],
                    "unit": impact["unit"],
                    "expected": total["expected"],
                    "p5": total["p5"],
                    "p50": total["p50"],
                    "p95": total["p95"],
                    "price_cents": impact["price_cents"],
                    "price_source": impact["price_source"],
                    "value_cents": total["value_cents"],
                    "financial_roi_bp": results["financial"]["roi_bp"],
                    "impact_roi_bp": results["with_impact"]["roi_bp"],
                }
            )
    return rows


def certified_of(*, scenario: Scenario) -> list[dict]:
    """Approved claims of the scenario's city, in its districts (all, if it names none), on
    any version of the methodologies it affects, in the years of its schedule (the year
    their period ends): one row per methodology version, year and district with the summed
    quantity. One query."""
    codes = sorted({impact["code"] for impact in scenario.results["impacts"]})
    claims = Claim.objects.filter(
        city_id=scenario.city_id,
        state=ClaimState.APPROVED,
        methodology__code__in=codes,
        period_end__year__gte=scenario.start_year,
        period_end__year__lte=scenario.last_year,
    )
    if scenario.districts:
        claims = claims.filter(district_code__in=scenario.districts)
    return list(
        claims.annotate(year=ExtractYear("period_end"))
        .values(
            "year",
            "district_code",
            code=F("methodology__code"),
            version=F("methodology__version"),
        )
        .annotate(quantity=Sum("quantity"))
        .order_by("code", "version", "year", "district_code")
    )


def forecast_vs_certified(*, scenario: Scenario, certified: list[dict] | None = None) -> list[dict]:
    """Per methodology version and year of the schedule: the forecast (expected, P5, P95)
    and the certified quantity, i.e. approved claims of the city on the SAME methodology
    version, in the scenario's districts (all, if it names none), counted in the year their
    period ends. Claims certified on another version of the same methodology are not added
    in (another formula or factor): `other_versions` names those versions and
    `certified_other_versions` sums them, so a reader sees what was left out. `certified`
    is `certified_of(scenario=...)` when the caller has it already; else one query."""
    if certified is None:
        certified = certified_of(scenario=scenario)
    same, other, versions = {}, {}, {}
    simulated = _versions_of(scenario)
    for row in certified:
        key = (row["code"], row["year"])
        if (row["code"], row["version"]) in simulated:
            same[key] = same.get(key, 0) + row["quantity"]
        else:
            other[key] = other.get(key, 0) + row["quantity"]
            versions.setdefault(key, set()).add(row["version"])
    rows = []
    for result in scenario.results["impacts"]:
        code = result["code"]
        for year in result["years"]:
            key = (code, year["year"])
            rows.append(
                {
                    "methodology": code,
                    "methodology_version": result["version"],
                    "indicator": result["indicator"],
                    "unit": result["unit"],
                    "year": year["year"],
                    "forecast": year["expected"],
                    "forecast_p5": year["p5"],
                    "forecast_p95": year["p95"],
                    "certified": same.get(key, 0),
                    "certified_other_versions": other.get(key, 0),
                    "other_versions": sorted(versions.get(key, ())),
                }
            )
    return rows


FORECAST_COLUMNS = [
    "methodology",
    "methodology_version",
    "indicator",
    "unit",
    "year",
    "forecast",
    "forecast_p5",
    "forecast_p95",
    "certified",
    "certified_other_versions",
    "other_versions",
]
DISTRICT_COLUMNS = ["methodology", "methodology_version", "year", "district", "certified"]


def forecast_page(*, scenario: Scenario, indicator: str | None = None) -> dict:
    """What the forecast-against-certified page shows, per methodology version the scenario
    affects (or only the one whose code is `indicator`): its rows (`forecast_vs_certified`),
    the certified quantity per district and year (same version only), and the other versions
    whose certified claims were left out. `rows` and `districts` are its two CSV tables
    (`FORECAST_COLUMNS`, `DISTRICT_COLUMNS`). One query."""
    certified = certified_of(scenario=scenario)
    rows = forecast_vs_certified(scenario=scenario, certified=certified)
    simulated = _versions_of(scenario)
    blocks, district_rows = [], []
    for result in scenario.results["impacts"]:
        code, version = result["code"], result["version"]
        if indicator and code != indicator:
            continue
        own = [row for row in rows if row["methodology"] == code]
        by_district = [
            row for row in certified if row["code"] == code and row["version"] == version
        ]
        districts = sorted({row["district_code"] for row in by_district} | set(scenario.districts))
        cells = {(row["year"], row["district_code"]): row["quantity"] for row in by_district}
        grid = [
            {
                "year": row["year"],
                "cells": [cells.get((row["year"], district), 0) for district in districts],
            }
            for row in own
        ]
        district_rows += [
            {
                "methodology": code,
                "methodology_version": version,
                "year": row["year"],
                "district": row["district_code"],
                "certified": row["quantity"],
            }
            for row in by_district
        ]
        other_versions = sorted(
            {
                row["version"]
                for row in certified
                if row["code"] == code and (code, row["version"]) not in simulated
            }
        )
        blocks.append(
            {
                "code": code,
                "version": version,
                "indicator": result["indicator"],
                "unit": result["unit"],
                "rows": own,
                "forecast_total": sum(row["forecast"] for row in own),
                "certified_total": sum(row["certified"] for row in own),
                "other_total": sum(row["certified_other_versions"] for row in own),
                "other_versions": other_versions,
                "districts": districts,
                "grid": grid,
            }
        )
    return {
        "blocks": blocks,
        "rows": [row for block in blocks for row in block["rows"]],
        "districts": district_rows,
        "indicators": [(r["code"], r["indicator"]) for r in scenario.results["impacts"]],
    }


def _versions_of(scenario: Scenario) -> set[tuple[str, int]]:
    """The (code, version) of each methodology version the scenario was simulated with (its
    results say so: they stay true after an import, where public ids are new)."""
    return {(impact["code"], impact["version"]) for impact in scenario.results["impacts"]}


def scenarios_for_proposal(*, proposal: Proposal) -> list[ScenarioAttachment]:
    """The scenarios shown with a proposal, oldest attachment first (for its page)."""
    return list(
        ScenarioAttachment.objects.filter(proposal=proposal)
        .select_related("scenario", "entry")
        .order_by("created_at", "pk")
    )

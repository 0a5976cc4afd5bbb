"""Reads of impact simulation: the market price a forecast uses, scenarios with their access
check, side-by-side comparison, forecast against certified impact, and the scenarios shown
with a proposal."""

from __future__ import annotations

from django.db.models import Sum
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


def forecast_vs_certified(*, scenario: Scenario) -> list[dict]:
    """Per methodology version and year of the schedule: the forecast (expected, P5, P95)
    and the certified quantity, i.e. approved claims of the city on the SAME methodology
    version, in the scenario's districts (all, if it names none), counted in the year their
    period ends. One query for the certified figures."""
    impacts = list(scenario.impacts.select_related("methodology"))
    claims = Claim.objects.filter(
        city_id=scenario.city_id,
        state=ClaimState.APPROVED,
        methodology_id__in=[impact.methodology_id for impact in impacts],
        period_end__year__gte=scenario.start_year,
        period_end__year__lte=scenario.last_year,
    )
    if scenario.districts:
        claims = claims.filter(district_code__in=scenario.districts)
    certified = {
        (row["methodology_id"], row["year"]): row["quantity"]
        for row in claims.annotate(year=ExtractYear("period_end"))
        .values("methodology_id", "year")
        .annotate(quantity=Sum("quantity"))
    }
    by_public_id = {impact.methodology.public_id: impact.methodology for impact in impacts}
    rows = []
    for result in scenario.results["impacts"]:
        methodology = by_public_id[result["methodology"]]
        for year in result["years"]:
            rows.append(
                {
                    "methodology": methodology.code,
                    "methodology_version": methodology.version,
                    "indicator": result["indicator"],
                    "unit": result["unit"],
                    "year": year["year"],
                    "forecast": year["expected"],
                    "forecast_p5": year["p5"],
                    "forecast_p95": year["p95"],
                    "certified": certified.get((methodology.pk, year["year"]), 0),
                }
            )
    return rows


def scenarios_for_proposal(*, proposal: Proposal) -> list[ScenarioAttachment]:
    """The scenarios shown with a proposal, oldest attachment first (for its page)."""
    return list(
        ScenarioAttachment.objects.filter(proposal=proposal)
        .select_related("scenario", "entry")
        .order_by("created_at", "pk")
    )

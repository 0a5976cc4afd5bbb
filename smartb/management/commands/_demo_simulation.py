"""Impact simulation in the demo city: two scenarios the municipality can compare, one of
them on two methodologies at once (cycle lanes and the renovation of public lighting), over
a schedule that covers this year, so that its forecast stands next to the claims the
curator certified in the demo (cycling kilometres in several districts, the lighting's kWh
saved). The multi-methodology scenario is shown with the open vote on the school street,
so residents see its expected impact on the proposal's page.

Added once: skipped when the city has scenarios already.
"""

from __future__ import annotations

from django.utils import timezone

from governance.models import City, CollegeKind, Membership, MembershipStatus, ProposalStatus

PLAN_TITLE = "Plan vélo et éclairage public sobre"
BIKE_ONLY_TITLE = "Plan vélo seul"
OPEN_VOTE_TITLE = "Rue scolaire avenue de Toulouse"


def seed_simulation(city: City) -> None:
    from impact.models import Methodology
    from impact.simulation.models import Scenario
    from impact.simulation.services import scenario_attach, scenario_create

    if Scenario.objects.filter(city=city).exists():
        return
    staff = (
        Membership.objects.filter(
            city=city,
            status=MembershipStatus.APPROVED,
            college__kind=CollegeKind.MUNICIPALITY,
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if staff is None:
        return
    cycling = Methodology.objects.get(code="cycling-instead-of-car", version=1)
    energy = Methodology.objects.get(code="energy-saved", version=1)
    bikes = {
        "methodology": cycling,
        "low": {"distance_km": "40000"},
        "expected": {"distance_km": "60000"},
        "high": {"distance_km": "90000"},
        "fallback_price_cents": 3,
    }
    lighting = {
        "methodology": energy,
        "low": {"baseline_kwh": "210000", "metered_kwh": "150000"},
        "expected": {"baseline_kwh": "220800", "metered_kwh": "181200"},
        "high": {"baseline_kwh": "230000", "metered_kwh": "195000"},
        "fallback_price_cents": 2,
    }
    common = {
        "start_year": timezone.localdate().year,
        "years": 10,
        "ramp_years": 3,
        "districts": [],
        "draws": 2000,
        "seed": 2026,
    }
    plan = scenario_create(
        city=city,
        by=staff.user,
        title=PLAN_TITLE,
        kind="other",
        cost_cents=180_000_000,
        annual_savings_cents=9_500_000,
        impacts=[bikes, lighting],
        **common,
    )
    scenario_create(
        city=city,
        by=staff.user,
        title=BIKE_ONLY_TITLE,
        kind="cycle_lane",
        cost_cents=120_000_000,
        annual_savings_cents=4_000_000,
        impacts=[bikes],
        **common,
    )
    vote = city.proposals.filter(title=OPEN_VOTE_TITLE, status=ProposalStatus.OPEN).first()
    if vote is not None:
        scenario_attach(scenario=plan, proposal=vote, by=staff.user)

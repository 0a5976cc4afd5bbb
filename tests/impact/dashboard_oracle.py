"""The dashboard as it was computed before the roll-up, at every request from the claims,
batches and holdings (impact/selectors.py before impact.services.rollup): kept as the oracle
the roll-up's figures must equal, whatever the data."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth

from governance.models import City
from impact.models import Batch, Claim, ClaimState, Holding
from impact.selectors import Dashboard, TokenFigures, treasury_impact_inflows


def _approved(city: City, since: date | None):
    claims = Claim.objects.filter(city=city, state=ClaimState.APPROVED)
    if since is not None:
        claims = claims.filter(period_end__gte=since)
    return claims


def impact_by_month(*, city: City, since: date | None = None) -> list[dict]:
    return list(
        _approved(city, since)
        .annotate(month=TruncMonth("period_end"))
        .values(
            "month",
            goal=F("indicator__target__goal__number"),
            indicator_code=F("indicator__code"),
            token_class_code=F("token_class__code"),
            unit_name=F("unit"),
        )
        .annotate(quantity=Sum("quantity"), claims=Count("id"))
        .order_by("month", "goal", "indicator_code")
    )


def impact_by_district(*, city: City, since: date | None = None) -> list[dict]:
    return list(
        _approved(city, since)
        .values(
            "district_code",
            indicator_code=F("indicator__code"),
            token_class_code=F("token_class__code"),
            unit_name=F("unit"),
        )
        .annotate(quantity=Sum("quantity"), claims=Count("id"))
        .order_by("district_code", "indicator_code")
    )


def impact_by_service(*, city: City, since: date | None = None) -> list[dict]:
    return list(
        _approved(city, since)
        .values(
            "service_ref",
            indicator_code=F("indicator__code"),
            token_class_code=F("token_class__code"),
            unit_name=F("unit"),
        )
        .annotate(quantity=Sum("quantity"), claims=Count("id"))
        .order_by("service_ref", "indicator_code")
    )


def tokens_by_class(*, city: City) -> list[TokenFigures]:
    figures: dict[str, TokenFigures] = {}
    issued = (
        Batch.objects.filter(city=city)
        .values("token_class__code", "token_class__smallest_unit", "token_class__precision")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for row in issued:
        figures[row["token_class__code"]] = TokenFigures(
            token_class=row["token_class__code"],
            unit=row["token_class__smallest_unit"],
            precision=row["token_class__precision"],
            issued=row["total"],
        )
    states = (
        Holding.objects.filter(batch__city=city)
        .values("token_class__code", "state")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for row in states:
        setattr(figures[row["token_class__code"]], row["state"], row["total"])
    return sorted(figures.values(), key=lambda f: f.token_class)


def claims_by_state(*, city: City) -> dict[str, int]:
    rows = Claim.objects.filter(city=city).values("state").annotate(n=Count("id")).order_by()
    counts = {state: 0 for state in ClaimState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def dashboard(*, city: City, since: date | None = None) -> Dashboard:
    return Dashboard(
        by_month=impact_by_month(city=city, since=since),
        by_district=impact_by_district(city=city, since=since),
        by_service=impact_by_service(city=city, since=since),
        tokens=tokens_by_class(city=city),
        inflows=treasury_impact_inflows(city=city),
        claims_by_state=claims_by_state(city=city),
    )


ORDER = {  # the order each table promised: its rows sorted by these keys
    "by_month": ("month", "goal", "indicator_code"),
    "by_district": ("district_code", "indicator_code"),
    "by_service": ("service_ref", "indicator_code"),
}


def figures(board: Dashboard) -> dict:
    """Every figure of a dashboard, comparable whatever the order of rows that the old
    queries left unordered (ties on token class and unit) and the integer type."""

    def rows(table: str) -> list[tuple]:
        return sorted(
            tuple(sorted((k, int(v) if k in ("quantity", "claims") else v) for k, v in r.items()))
            for r in getattr(board, table)
        )

    return {
        "by_month": rows("by_month"),
        "by_district": rows("by_district"),
        "by_service": rows("by_service"),
        "tokens": [
            (
                t.token_class,
                t.unit,
                t.precision,
                int(t.issued),
                int(t.available),
                int(t.escrow),
                int(t.retired),
                int(t.redeemed),
            )
            for t in board.tokens
        ],
        "inflows": board.inflows,
        "claims_by_state": board.claims_by_state,
    }


def assert_same_dashboard(city: City, since: date | None) -> None:
    """The roll-up's dashboard has exactly the oracle's figures, its rows in the promised
    order."""
    from impact.selectors import dashboard as rolled_up

    new, old = rolled_up(city=city, since=since), dashboard(city=city, since=since)
    assert figures(new) == figures(old), since
    for table, keys in ORDER.items():
        got = [tuple(r[k] for k in keys) for r in getattr(new, table)]
        assert got == sorted(got), (table, since)

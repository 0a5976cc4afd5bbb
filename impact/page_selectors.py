"""Reads that only the impact pages need, built on `impact.selectors`: the catalogue's
source, a claim's measured values with their labels, the curator's queue with the
recomputation, a portfolio page, the retirement certificate with the claims behind its
serials, the market, and the SDG dashboard shaped into charts. Nothing here writes; each
read asks a fixed number of queries, however many rows there are.

What the domain could offer instead (so these can shrink): the claims behind a
certificate's batches, a portfolio's redemptions and payables, the recomputation on the
queue, a member looked up by DID or username, and the dashboard's labels (goal and
indicator titles, class names).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from governance.models import City, Membership, MembershipStatus
from governance.selectors import Money
from identity.models import Credential, User

from . import marketplace, selectors
from .catalogue import catalogue_data
from .compute import compute_quantity
from .errors import InvalidParameters
from .models import (
    Batch,
    Claim,
    Curator,
    Evidence,
    EvidenceKind,
    Indicator,
    Parameter,
    Payable,
    PayableStatus,
    Portfolio,
    Redemption,
    RedemptionRate,
    Retirement,
    TokenClass,
    Verification,
)

CLAIMS_PER_PAGE = 25
QUEUE_PER_PAGE = 25
HISTORY_LIMIT = 20


# --- catalogue ----------------------------------------------------------------------------


def catalogue_source() -> dict:
    """Where the SDG list comes from (the `source` of impact/data/sdg.json)."""
    return catalogue_data().get("source", {})


@dataclass
class GoalRow:
    goal: object
    indicators: list


def catalogue_goals() -> list[GoalRow]:
    """The 17 goals, each with the indicators the platform supports (3 queries)."""
    rows = []
    for goal in selectors.goal_list():
        indicators = [i for target in goal.targets.all() for i in target.indicators.all()]
        rows.append(GoalRow(goal=goal, indicators=indicators))
    return rows


# --- claims -------------------------------------------------------------------------------


def claims_page(*, user: User, city: City, state: str | None, page) -> Page:
    return Paginator(
        selectors.claims_of(user=user, city=city, state=state), CLAIMS_PER_PAGE
    ).get_page(page)


def claim_of_city(*, city: City, public_id: str, user: User) -> Claim:
    """A claim of `city` the user may see; 404 otherwise (also for another city's claim)."""
    claim = selectors.claim_get_for_user(public_id=public_id, user=user)
    if claim.city_id != city.pk:
        raise Http404
    return claim


@dataclass
class MeasuredValue:
    name: str
    label: str
    unit: str
    value: str | None


def measured_values(claim: Claim) -> list[MeasuredValue]:
    """The claim's measured values with the methodology's labels and units (one query)."""
    values = claim.parameters or {}
    parameters = Parameter.objects.filter(methodology_id=claim.methodology_id).order_by(
        "position", "name"
    )
    return [MeasuredValue(p.name, _label(p), p.unit, values.get(p.name)) for p in parameters]


def _label(row) -> str:
    language = (translation.get_language() or "fr")[:2]
    return row.label_en if language == "en" else row.label_fr


def recompute(claim: Claim) -> int | None:
    """What the methodology gives for the claim's measured values (the curator's check)."""
    try:
        return compute_quantity(claim.methodology, claim.parameters)
    except InvalidParameters:
        return None


def file_evidence_types(claim: Claim):
    """The kinds of file evidence the claim's methodology accepts (one query)."""
    from .models import EvidenceType

    return (
        EvidenceType.objects.filter(
            requirement__methodology_id=claim.methodology_id, kind=EvidenceKind.FILE
        )
        .select_related("requirement")
        .order_by("requirement__position", "code")
    )


def credential_of(claim: Claim) -> Credential | None:
    verification = (
        Verification.objects.filter(claim=claim, credential__isnull=False)
        .select_related("credential__issuer")
        .first()
    )
    return verification.credential if verification else None


def evidence_file(*, city: City, public_id: str, user: User) -> Evidence:
    evidence = selectors.evidence_get_for_user(public_id=public_id, user=user)
    if evidence.claim.city_id != city.pk or evidence.kind != EvidenceKind.FILE:
        raise Http404
    return evidence


@dataclass
class QueueRow:
    claim: Claim
    recomputed: int | None

    @property
    def matches(self) -> bool:
        return self.recomputed == self.claim.quantity


def queue_page(*, user: User, city: City, page) -> Page:
    """The curator's queue with the platform's recomputation of each claim: a fixed number
    of queries (methodologies, their factors and classes prefetched)."""
    claims = (
        selectors.claims_to_verify(user=user, city=city)
        .select_related("methodology__token_class")
        .prefetch_related("methodology__factors")
    )
    result = Paginator(claims, QUEUE_PER_PAGE).get_page(page)
    result.rows = [QueueRow(claim, recompute(claim)) for claim in result.object_list]
    return result


# --- members ------------------------------------------------------------------------------


def member_by_reference(*, city: City, reference: str) -> Membership | None:
    """The approved member of `city` named by a DID, a username or an e-mail address."""
    reference = (reference or "").strip()
    if not reference:
        return None
    matches = list(
        Membership.objects.select_related("user", "identity")
        .filter(city=city, status=MembershipStatus.APPROVED)
        .filter(
            Q(identity__did=reference)
            | Q(user__identities__did=reference)
            | Q(user__username=reference)
            | Q(user__email__iexact=reference)
        )
        .distinct()[:2]
    )
    return matches[0] if len(matches) == 1 else None


# --- portfolio ----------------------------------------------------------------------------


@dataclass
class PortfolioPage:
    portfolio: Portfolio | None
    balances: list
    holdings: list
    transfers: list
    retirements: list
    redemptions: list
    payables: list
    offers: list
    forward_orders: list

    @property
    def classes(self) -> list[TokenClass]:
        return [b.token_class for b in self.balances if b.available]


def portfolio_page(*, user: User, city: City) -> PortfolioPage:
    """A member's tokens in `city` (balances, serial ranges, history): a fixed number of
    queries. An empty page when the member has no portfolio yet."""
    portfolio = selectors.portfolio_of(user=user, city=city)
    if portfolio is None:
        return PortfolioPage(None, [], [], [], [], [], [], [], [])
    return PortfolioPage(
        portfolio=portfolio,
        balances=selectors.portfolio_balances(portfolio=portfolio),
        holdings=list(selectors.portfolio_holdings(portfolio=portfolio)),
        transfers=list(selectors.transfers_of(portfolio=portfolio)[:HISTORY_LIMIT]),
        retirements=list(selectors.retirements_of(portfolio=portfolio)[:HISTORY_LIMIT]),
        redemptions=list(
            Redemption.objects.filter(portfolio=portfolio)
            .select_related("token_class", "payable")
            .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
        ),
        payables=list(
            Payable.objects.filter(payee=portfolio).order_by("-created_at", "-pk")[:HISTORY_LIMIT]
        ),
        offers=list(
            portfolio.sell_offers.select_related("token_class").order_by("-created_at", "-pk")[
                :HISTORY_LIMIT
            ]
        ),
        forward_orders=list(selectors.forward_orders_of(user=user, city=city)),
    )


def token_classes() -> list[TokenClass]:
    return list(selectors.token_class_list())


def redemption_rates(*, city: City) -> list[RedemptionRate]:
    return list(
        RedemptionRate.objects.filter(city=city)
        .select_related("token_class")
        .order_by("token_class__code")
    )


# --- retirement certificate ---------------------------------------------------------------


@dataclass
class CertificateRange:
    batch: Batch
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        return f"{self.batch.serial_prefix}-{self.first}..{self.last}"


@dataclass
class Certificate:
    retirement: Retirement
    ranges: list[CertificateRange]
    receipt: dict | None
    credentials: list[Credential] = field(default_factory=list)


def certificate(*, city: City, public_id: str) -> Certificate:
    """A retirement of `city` with its serials, the approved claims and curators'
    credentials behind them, and the ledger receipt (None until the block is sealed)."""
    retirement = selectors.retirement_get(public_id=public_id)
    if retirement.city_id != city.pk:
        raise Http404
    base = selectors.retirement_certificate(retirement=retirement)
    batch_ids = [r.batch.public_id for r in base.ranges]
    batches = {
        b.public_id: b
        for b in Batch.objects.filter(public_id__in=batch_ids).select_related(
            "city", "token_class", "credential__issuer", "claim__indicator", "claim__methodology"
        )
    }
    ranges = [CertificateRange(batches[r.batch.public_id], r.first, r.last) for r in base.ranges]
    credentials = list({b.credential.pk: b.credential for b in batches.values()}.values())
    return Certificate(
        retirement=retirement, ranges=ranges, receipt=base.receipt, credentials=credentials
    )


def credential_public(*, city: City, public_id: str) -> Credential:
    """An impact certificate credential behind a batch of `city`: public, like the
    certificate that cites its digest (it names DIDs, ids, numbers and digests only)."""
    batch = (
        Batch.objects.select_related("credential").filter(
            city=city, credential__public_id=public_id
        )
    ).first()
    if batch is None:
        raise Http404
    return batch.credential


# --- market -------------------------------------------------------------------------------


@dataclass
class MarketPage:
    offers: list
    forward_open: list
    merchant_offers: list
    projects: list
    calls: list


def market_page(*, city: City, token_class: TokenClass | None = None) -> MarketPage:
    return MarketPage(
        offers=list(selectors.offers_open(city=city, token_class=token_class)),
        forward_open=list(selectors.forward_orders_open(city=city)),
        merchant_offers=list(selectors.merchant_offers(city=city)),
        projects=list(selectors.projects(city=city).filter(status="open")),
        calls=list(selectors.participation_calls(city=city).filter(status="open")),
    )


def participations_to_reward(*, city: City):
    from .models import Participation, ParticipationStatus

    return (
        Participation.objects.filter(call__city=city, status=ParticipationStatus.REGISTERED)
        .select_related("call__token_class", "membership__identity", "membership__user")
        .order_by("created_at", "pk")
    )


# --- dashboard ----------------------------------------------------------------------------


@dataclass
class Point:
    label: str
    value: int


@dataclass
class Series:
    """One chart: `points` in `unit`, with what to call it."""

    key: str
    title: str
    unit: str
    points: list[Point]
    money: bool = False  # values in cents, shown in euros

    @property
    def total(self) -> int:
        return sum(p.value for p in self.points)


@dataclass
class GoalBlock:
    number: int
    title: str
    charts: list[Series]


@dataclass
class Stack:
    """A token class's issued units split into available, escrow, retired, redeemed."""

    label: str
    unit: str
    issued: int
    parts: list[tuple[str, str, int]]  # (css key, label, value)


@dataclass
class DashboardPage:
    goals: list[GoalBlock]
    totals: list[dict]
    districts: list[Series]
    services: list[Series]
    tokens: list[Stack]
    inflows: Series
    raw: selectors.Dashboard
    months: list[date]
    claims_by_state: dict = field(default_factory=dict)
    payables: list[dict] = field(default_factory=list)
    curators: list = field(default_factory=list)


def _months(first: date, last: date) -> list[date]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month(value) -> date:
    return date(value.year, value.month, 1)


def month_label(value: date) -> str:
    return value.strftime("%Y-%m")


def dashboard_page(*, city: City, since: date | None = None, staff: bool = False) -> DashboardPage:
    """The dashboard's figures shaped into charts: impact per goal and indicator by month
    (months without a claim count zero), by district and by service; tokens per class;
    treasury inflows by month. A fixed number of queries: the seven of
    `selectors.dashboard`, plus labels (indicators, classes, services); staff add claims by
    state (already counted), money owed and curators."""
    board = selectors.dashboard(city=city, since=since)
    indicator_codes = {r["indicator_code"] for r in board.by_month}
    indicator_codes |= {r["indicator_code"] for r in board.by_district}
    indicators = {
        i.code: i
        for i in Indicator.objects.filter(code__in=indicator_codes).select_related("target__goal")
    }
    classes = {c.code: c for c in TokenClass.objects.all()}
    services = marketplace.service_labels(
        city=city, refs=[r["service_ref"] for r in board.by_service]
    )

    month_values = [_month(r["month"]) for r in board.by_month]
    months = []
    if month_values:
        months = _months(_month(since) if since else min(month_values), max(month_values))

    def indicator_title(code: str) -> str:
        indicator = indicators.get(code)
        return f"{code} — {indicator.title}" if indicator else code

    # impact per goal and indicator, by month
    grouped: OrderedDict = OrderedDict()
    totals: OrderedDict = OrderedDict()
    for row in board.by_month:
        key = (row["goal"], row["indicator_code"], row["unit_name"])
        grouped.setdefault(key, {})
        month = _month(row["month"])
        grouped[key][month] = grouped[key].get(month, 0) + row["quantity"]
        total = totals.setdefault(
            key,
            {
                "goal": row["goal"],
                "indicator": row["indicator_code"],
                "title": indicator_title(row["indicator_code"]),
                "token_class": row["token_class_code"],
                "unit": row["unit_name"],
                "quantity": 0,
                "claims": 0,
            },
        )
        total["quantity"] += row["quantity"]
        total["claims"] += row["claims"]
    goals: OrderedDict = OrderedDict()
    for (goal, code, unit), by_month in sorted(grouped.items(), key=lambda item: item[0]):
        indicator = indicators.get(code)
        block = goals.setdefault(
            goal,
            GoalBlock(
                number=goal,
                title=indicator.target.goal.title if indicator else "",
                charts=[],
            ),
        )
        block.charts.append(
            Series(
                key=f"month-{code}-{unit}",
                title=indicator_title(code),
                unit=unit,
                points=[Point(month_label(m), by_month.get(m, 0)) for m in months],
            )
        )

    def by(rows, field_name: str, label) -> list[Series]:
        charts: OrderedDict = OrderedDict()
        for row in rows:
            key = (row["indicator_code"], row["unit_name"])
            series = charts.setdefault(
                key,
                Series(
                    key=f"{field_name}-{row['indicator_code']}-{row['unit_name']}",
                    title=indicator_title(row["indicator_code"]),
                    unit=row["unit_name"],
                    points=[],
                ),
            )
            series.points.append(Point(label(row[field_name]), row["quantity"]))
        for series in charts.values():
            series.points.sort(key=lambda p: (-p.value, p.label))
        return list(charts.values())

    districts = by(board.by_district, "district_code", lambda code: code or _("no district"))
    by_service = by(
        board.by_service,
        "service_ref",
        lambda ref: services.get(ref, ref) if ref else _("members' own claims"),
    )

    parts = [
        ("available", _("available")),
        ("escrow", _("in escrow")),
        ("retired", _("retired")),
        ("redeemed", _("redeemed")),
    ]
    tokens = []
    for figures in board.tokens:
        token_class = classes.get(figures.token_class)
        tokens.append(
            Stack(
                label=token_class.name if token_class else figures.token_class,
                unit=figures.unit,
                issued=figures.issued,
                parts=[(key, label, getattr(figures, key)) for key, label in parts],
            )
        )
    paid = {_month(r["month"]): r["amount_cents"] for r in board.inflows}
    inflow_months = _months(min(paid), max(paid)) if paid else []
    inflows = Series(
        key="inflows",
        title=_("Treasury inflows from impact"),
        unit="€",
        points=[Point(month_label(m), paid.get(m, 0)) for m in inflow_months],
        money=True,
    )
    page = DashboardPage(
        goals=list(goals.values()),
        totals=sorted(totals.values(), key=lambda t: (t["goal"], t["indicator"])),
        districts=districts,
        services=by_service,
        tokens=tokens,
        inflows=inflows,
        raw=board,
        months=months,
    )
    if staff:
        page.claims_by_state = board.claims_by_state
        page.payables = [
            {**row, "amount": Money(row["amount_cents"])}
            for row in Payable.objects.filter(city=city, status=PayableStatus.OWED)
            .values("kind")
            .annotate(amount_cents=Sum("amount_cents"), count=Count("id"))
            .order_by("kind")
        ]
        page.curators = list(
            Curator.objects.filter(city=city, revoked_at__isnull=True)
            .select_related("membership__identity", "membership__user")
            .order_by("granted_at")
        )
    return page


def csv_rows(page: DashboardPage, table: str) -> tuple[list[str], list[list]] | None:
    """One table of the dashboard as CSV rows (header, rows): raw integers in the smallest
    unit or in cents, as open data wants them. None for an unknown table."""
    board = page.raw
    if table == "impact":
        return (
            ["month", "goal", "indicator", "token_class", "unit", "quantity", "claims"],
            [
                [
                    month_label(_month(r["month"])),
                    r["goal"],
                    r["indicator_code"],
                    r["token_class_code"],
                    r["unit_name"],
                    r["quantity"],
                    r["claims"],
                ]
                for r in board.by_month
            ],
        )
    if table == "districts":
        return (
            ["district", "indicator", "token_class", "unit", "quantity", "claims"],
            [
                [
                    r["district_code"],
                    r["indicator_code"],
                    r["token_class_code"],
                    r["unit_name"],
                    r["quantity"],
                    r["claims"],
                ]
                for r in board.by_district
            ],
        )
    if table == "services":
        return (
            ["service", "indicator", "token_class", "unit", "quantity", "claims"],
            [
                [
                    r["service_ref"],
                    r["indicator_code"],
                    r["token_class_code"],
                    r["unit_name"],
                    r["quantity"],
                    r["claims"],
                ]
                for r in board.by_service
            ],
        )
    if table == "tokens":
        return (
            ["token_class", "unit", "issued", "available", "escrow", "retired", "redeemed"],
            [
                [t.token_class, t.unit, t.issued, t.available, t.escrow, t.retired, t.redeemed]
                for t in board.tokens
            ],
        )
    if table == "inflows":
        return (
            ["month", "amount_cents", "movements"],
            [
                [month_label(_month(r["month"])), r["amount_cents"], r["movements"]]
                for r in board.inflows
            ],
        )
    return None

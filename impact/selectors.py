"""Reads of impact state, with the access checks that belong to them. Lists and dashboard
figures are one or a few queries whatever the number of rows (aggregates, no query per
row). "Missing" and "not yours" raise the same Http404."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from governance.models import City, Posting
from identity.models import User
from ledger.models import Transaction
from ledger.selectors import receipt_for

from .compute import missing_requirements
from .models import (
    Batch,
    Claim,
    ClaimCount,
    ClaimState,
    Evidence,
    EvidenceType,
    ForwardOrder,
    ForwardStatus,
    Goal,
    Holding,
    ImpactMonth,
    Indicator,
    InformationConcept,
    MerchantOffer,
    Methodology,
    MethodologyStatus,
    OfferStatus,
    ParticipationCall,
    Payable,
    PayableStatus,
    Portfolio,
    Project,
    Requirement,
    Retirement,
    SellOffer,
    TokenClass,
    TokenTotal,
    Transfer,
    Verification,
)
from .permissions import can_see_claim, curator_of, made_claim

# --- catalogue ----------------------------------------------------------------------------


def goal_list() -> QuerySet[Goal]:
    """The 17 goals, each with its supported targets and indicators (3 queries)."""
    return Goal.objects.prefetch_related(
        Prefetch("targets__indicators", queryset=Indicator.objects.order_by("code"))
    ).order_by("number")


def indicator_list() -> QuerySet[Indicator]:
    return Indicator.objects.select_related("target__goal").order_by("code")


def token_class_list() -> QuerySet[TokenClass]:
    return TokenClass.objects.select_related("indicator").order_by("code")


def methodology_list(*, active_only: bool = True) -> QuerySet[Methodology]:
    methodologies = Methodology.objects.select_related("indicator", "token_class").order_by(
        "code", "-version"
    )
    if active_only:
        methodologies = methodologies.filter(status=MethodologyStatus.ACTIVE)
    return methodologies.prefetch_related(
        "parameters",
        "factors",
        Prefetch(
            "requirements",
            queryset=Requirement.objects.prefetch_related(
                Prefetch("evidence_types", queryset=EvidenceType.objects.order_by("code")),
                Prefetch(
                    "information_concepts",
                    queryset=InformationConcept.objects.select_related("parameter"),
                ),
            ),
        ),
    )


def methodology_get(*, public_id: str) -> Methodology:
    methodology = methodology_list(active_only=False).filter(public_id=public_id).first()
    if methodology is None:
        raise Http404
    return methodology


# --- claims -------------------------------------------------------------------------------

_CLAIM_RELATED = (
    "city",
    "claimant__identity",
    "claimant__college",
    "indicator",
    "methodology",
    "token_class",
    "batch",
    "entry__chain",
)


def claims_of(*, user: User, city: City | None = None, state: str | None = None):
    """Claims the user made, created, or submitted as a service, newest first."""
    claims = Claim.objects.filter(
        Q(claimant__user=user) | Q(created_by=user) | Q(batch__submitted_by=user)
    ).select_related(*_CLAIM_RELATED)
    if city is not None:
        claims = claims.filter(city=city)
    if state:
        claims = claims.filter(state=state)
    return claims.order_by("-created_at", "-pk")


def claims_to_verify(*, user: User, city: City):
    """A curator's queue: submitted and disputed claims of the city, not their own, oldest
    first. Empty for anyone who is not a live curator of the city."""
    if curator_of(user, city) is None:
        return Claim.objects.none()
    return (
        Claim.objects.filter(city=city, state__in=[ClaimState.SUBMITTED, ClaimState.DISPUTED])
        .exclude(claimant__user=user)
        .exclude(created_by=user)
        .exclude(batch__submitted_by=user)
        .select_related(*_CLAIM_RELATED)
        .annotate(evidence_count=Count("evidence"))
        .order_by("submitted_at", "pk")
    )


def claim_get_for_user(*, public_id: str, user: User) -> Claim:
    """A claim its claimant, its creator or submitting service, the city's curators and
    staff may see; anyone else gets 404."""
    claim = Claim.objects.select_related(*_CLAIM_RELATED).filter(public_id=public_id).first()
    if claim is None or not can_see_claim(user, claim):
        raise Http404
    return claim


@dataclass
class ClaimDetail:
    claim: Claim
    evidence: list[Evidence]
    verifications: list[Verification]
    missing: list[str]
    batch: Batch | None
    can_verify: bool
    is_mine: bool

    @property
    def complete(self) -> bool:
        return not self.missing


def claim_detail(*, claim: Claim, user: User) -> ClaimDetail:
    from .permissions import can_verify

    evidence = list(
        Evidence.objects.filter(claim=claim)
        .select_related("evidence_type__requirement")
        .defer("content")
    )
    verifications = list(
        Verification.objects.filter(claim=claim)
        .select_related("curator__membership__identity", "credential", "entry__chain")
        .order_by("created_at", "pk")
    )
    batch = Batch.objects.filter(claim=claim).select_related("city", "token_class").first()
    return ClaimDetail(
        claim=claim,
        evidence=evidence,
        verifications=verifications,
        missing=missing_requirements(claim),
        batch=batch,
        can_verify=can_verify(curator_of(user, claim.city), claim),
        is_mine=made_claim(user, claim),
    )


def evidence_get_for_user(*, public_id: str, user: User) -> Evidence:
    evidence = Evidence.objects.select_related("claim").filter(public_id=public_id).first()
    if evidence is None:
        raise Http404
    claim_get_for_user(public_id=evidence.claim.public_id, user=user)
    return evidence


# --- portfolios ---------------------------------------------------------------------------


def portfolio_of(*, user: User, city: City) -> Portfolio | None:
    return Portfolio.objects.select_related("identity", "city").filter(city=city, user=user).first()


@dataclass
class ClassBalance:
    token_class: TokenClass
    available: int = 0
    escrow: int = 0
    retired: int = 0
    redeemed: int = 0

    @property
    def held(self) -> int:
        return self.available + self.escrow


def portfolio_balances(*, portfolio: Portfolio) -> list[ClassBalance]:
    """Per class: available, in escrow, retired and redeemed (two queries)."""
    rows = (
        Holding.objects.filter(portfolio=portfolio)
        .values("token_class_id", "state")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    balances: dict[int, ClassBalance] = {}
    classes = {
        c.pk: c for c in TokenClass.objects.filter(pk__in={r["token_class_id"] for r in rows})
    }
    for row in rows:
        balance = balances.setdefault(
            row["token_class_id"], ClassBalance(classes[row["token_class_id"]])
        )
        setattr(balance, row["state"], row["total"])
    return sorted(balances.values(), key=lambda b: b.token_class.code)


def portfolio_holdings(*, portfolio: Portfolio, state: str | None = None) -> QuerySet[Holding]:
    """The serial ranges a portfolio holds, per batch (one query)."""
    holdings = Holding.objects.filter(portfolio=portfolio).select_related(
        "batch__city", "batch__token_class", "token_class", "offer", "retirement"
    )
    if state:
        holdings = holdings.filter(state=state)
    return holdings.order_by("token_class__code", "batch__vintage", "batch__number", "first_serial")


def transfers_of(*, portfolio: Portfolio):
    return (
        Transfer.objects.filter(Q(sender=portfolio) | Q(recipient=portfolio))
        .select_related("token_class", "sender__identity", "recipient__identity", "entry__chain")
        .order_by("-created_at", "-pk")
    )


def batch_get(*, public_id: str) -> Batch:
    batch = (
        Batch.objects.select_related("city", "token_class", "claim", "credential", "entry__chain")
        .filter(public_id=public_id)
        .first()
    )
    if batch is None:
        raise Http404
    return batch


# --- retirement certificate ---------------------------------------------------------------


@dataclass
class SerialRange:
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
class RetirementCertificate:
    retirement: Retirement
    ranges: list[SerialRange]
    entry: Transaction
    receipt: dict | None  # the inclusion proof up to the latest checkpoint; None until sealed
    credentials: list[str] = field(default_factory=list)  # digests of the batches' credentials


def retirement_get(*, public_id: str) -> Retirement:
    """A retirement is public: it is a claim its holder makes to the world."""
    retirement = (
        Retirement.objects.select_related(
            "city", "token_class", "portfolio__identity", "entry__chain"
        )
        .filter(public_id=public_id)
        .first()
    )
    if retirement is None:
        raise Http404
    return retirement


def retirement_certificate(*, retirement: Retirement) -> RetirementCertificate:
    """What the certificate shows: the serials retired, the ledger entry that retired them
    and its inclusion proof (a receipt, once the block is sealed), and the digests of the
    curators' credentials behind the batches."""
    batch_ids = [row[0] for row in retirement.serials]
    batches = {
        b.public_id: b
        for b in Batch.objects.filter(public_id__in=batch_ids).select_related(
            "city", "token_class", "credential"
        )
    }
    ranges = [SerialRange(batches[b], first, last) for b, first, last in retirement.serials]
    return RetirementCertificate(
        retirement=retirement,
        ranges=ranges,
        entry=retirement.entry,
        receipt=receipt_for(entry=retirement.entry),
        credentials=sorted({b.credential.digest for b in batches.values()}),
    )


def retirements_of(*, portfolio: Portfolio):
    return Retirement.objects.filter(portfolio=portfolio).select_related("token_class")


# --- market and community -----------------------------------------------------------------


def offers_open(*, city: City, token_class: TokenClass | None = None):
    """Open sell offers of the city, cheapest first."""
    offers = SellOffer.objects.filter(city=city, status=OfferStatus.OPEN).select_related(
        "token_class", "seller__identity"
    )
    if token_class is not None:
        offers = offers.filter(token_class=token_class)
    return offers.order_by("unit_price_cents", "created_at", "pk")


def offer_get(*, city: City, public_id: str) -> SellOffer:
    offer = (
        SellOffer.objects.select_related("token_class", "seller__identity", "city")
        .filter(city=city, public_id=public_id)
        .first()
    )
    if offer is None:
        raise Http404
    return offer


def forward_orders_of(*, user: User, city: City):
    return ForwardOrder.objects.filter(city=city, investor__user=user).select_related("token_class")


def forward_orders_open(*, city: City):
    return ForwardOrder.objects.filter(city=city, status=ForwardStatus.OPEN).select_related(
        "token_class", "investor__identity"
    )


def merchant_offers(*, city: City, active: bool = True):
    return MerchantOffer.objects.filter(city=city, active=active).select_related(
        "token_class", "merchant__identity"
    )


def projects(*, city: City):
    return Project.objects.filter(city=city).select_related("token_class", "owner__identity")


def participation_calls(*, city: City):
    return (
        ParticipationCall.objects.filter(city=city)
        .select_related("token_class")
        .annotate(registered=Count("participations"))
    )


def payables_owed(*, city: City):
    return Payable.objects.filter(city=city, status=PayableStatus.OWED).select_related(
        "payee__identity"
    )


# --- dashboard: constant query count ------------------------------------------------------
# The figures come from the roll-up (`ImpactMonth`, `TokenTotal`, `ClaimCount`), which the
# services keep in the transaction of every change (impact.services.rollup): a few rows per
# month, whatever the number of claims, batches and holdings.

_FIGURES = ("quantity", "claims")
_LABELS = {
    "goal": F("indicator__target__goal__number"),
    "indicator_code": F("indicator__code"),
    "token_class_code": F("token_class__code"),
    "unit_name": F("unit"),
}


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _rolled_up(city: City, since: date | None):
    """The roll-up's rows for the whole months from `since` on (all of them without it)."""
    rows = ImpactMonth.objects.filter(city=city)
    if since is not None:
        rows = rows.filter(month__gte=since if since.day == 1 else _next_month(since))
    return rows


def _since_mid_month(city: City, since: date | None) -> list[dict]:
    """When `since` is not the first of a month, the approved claims of its month from that
    day on, counted live (one query; none otherwise): the roll-up holds whole months."""
    if since is None or since.day == 1:
        return []
    return list(
        Claim.objects.filter(
            city=city,
            state=ClaimState.APPROVED,
            period_end__gte=since,
            period_end__lt=_next_month(since),
        )
        .values("district_code", "service_ref", **_LABELS)
        .annotate(quantity=Sum("quantity"), claims=Count("id"))
        .order_by()
    )


def _grouped(rows, live: list[dict], keys: tuple[str, ...], **extra) -> list[dict]:
    """`rows` (grouped by `keys` in the database, in their order) with the `live` rows
    added in; integers, as the claims' own aggregates gave."""
    out = [{**row, **{f: int(row[f]) for f in _FIGURES}} for row in rows]
    if not live:
        return out
    index = {tuple(row[k] for k in keys): row for row in out}
    for part in live:
        row = {**extra, **part}
        key = tuple(row[k] for k in keys)
        if key not in index:
            index[key] = {k: row[k] for k in keys} | dict.fromkeys(_FIGURES, 0)
            out.append(index[key])
        for f in _FIGURES:
            index[key][f] += int(part[f])
    return sorted(out, key=lambda row: tuple(row[k] for k in keys))


def impact_by_month(*, city: City, since: date | None = None) -> list[dict]:
    """Approved impact per goal, indicator and month (the month the measured period ends),
    with its unit: one query (two when `since` is not the first of a month). Rows: goal,
    indicator, token_class, unit, month, quantity, claims."""
    return _by_month(city, since, _since_mid_month(city, since))


def _by_month(city: City, since: date | None, live: list[dict]) -> list[dict]:
    keys = ("month", "goal", "indicator_code", "token_class_code", "unit_name")
    rows = (
        _rolled_up(city, since)
        .values("month", **_LABELS)
        .annotate(quantity=Sum("quantity"), claims=Sum("claims"))
        .order_by(*keys)
    )
    return _grouped(rows, live, keys, month=since.replace(day=1) if live else None)


def impact_by_district(*, city: City, since: date | None = None) -> list[dict]:
    """Approved impact per district and indicator: one query (two when `since` is not the
    first of a month)."""
    return _by_dimension(city, since, _since_mid_month(city, since), "district_code")


def impact_by_service(*, city: City, since: date | None = None) -> list[dict]:
    """Approved impact per producing service (its deployment id; "" for claims made by
    members themselves) and indicator: one query (two when `since` is not the first of a
    month)."""
    return _by_dimension(city, since, _since_mid_month(city, since), "service_ref")


def _by_dimension(city: City, since: date | None, live: list[dict], dimension: str):
    keys = (dimension, "indicator_code", "token_class_code", "unit_name")
    rows = (
        _rolled_up(city, since)
        .values(dimension, **{k: v for k, v in _LABELS.items() if k != "goal"})
        .annotate(quantity=Sum("quantity"), claims=Sum("claims"))
        .order_by(*keys)
    )
    return _grouped(rows, live, keys)


@dataclass
class TokenFigures:
    token_class: str
    unit: str
    precision: int
    issued: int = 0
    available: int = 0
    escrow: int = 0
    retired: int = 0
    redeemed: int = 0

    @property
    def held(self) -> int:
        return self.available + self.escrow


def tokens_by_class(*, city: City) -> list[TokenFigures]:
    """Per token class issued in the city: issued, held (available + escrow), retired,
    redeemed. One query; issued always equals the sum of the others (holdings partition the
    batches, and the roll-up's check constraint holds it)."""
    totals = TokenTotal.objects.filter(city=city, issued__gt=0).select_related("token_class")
    figures = [
        TokenFigures(
            token_class=total.token_class.code,
            unit=total.token_class.smallest_unit,
            precision=total.token_class.precision,
            issued=total.issued,
            available=total.available,
            escrow=total.escrow,
            retired=total.retired,
            redeemed=total.redeemed,
        )
        for total in totals
    ]
    return sorted(figures, key=lambda f: f.token_class)


@dataclass
class Rollup:
    """A city's roll-up rows (unsaved when computed afresh)."""

    months: list[ImpactMonth]
    claim_counts: list[ClaimCount]
    token_totals: list[TokenTotal]

    def keyed(self) -> dict[str, dict[tuple, tuple]]:
        """Each table's rows by their unique key (database ids left out): what two roll-ups
        are compared on."""
        return {
            "months": {
                (
                    m.month,
                    m.indicator_id,
                    m.token_class_id,
                    m.unit,
                    m.district_code,
                    m.service_ref,
                ): (int(m.quantity), int(m.claims))
                for m in self.months
            },
            "claim_counts": {(c.state,): (int(c.claims),) for c in self.claim_counts if c.claims},
            "token_totals": {
                (t.token_class_id,): (t.issued, t.available, t.escrow, t.retired, t.redeemed)
                for t in self.token_totals
                if t.issued
            },
        }


def rollup_stored(*, city: City) -> Rollup:
    """The roll-up rows the dashboard reads (three queries)."""
    return Rollup(
        months=list(ImpactMonth.objects.filter(city=city)),
        claim_counts=list(ClaimCount.objects.filter(city=city)),
        token_totals=list(TokenTotal.objects.filter(city=city)),
    )


def rollup_computed(*, city: City) -> Rollup:
    """The roll-up computed afresh from the city's claims, batches and holdings (four
    aggregate queries over every row: what `rollup_rebuild` writes)."""
    months = [
        ImpactMonth(city=city, **row)
        for row in Claim.objects.filter(city=city, state=ClaimState.APPROVED)
        .annotate(month=TruncMonth("period_end"))
        .values("month", "indicator_id", "token_class_id", "unit", "district_code", "service_ref")
        .annotate(quantity=Sum("quantity"), claims=Count("id"))
        .order_by()
    ]
    counts = [
        ClaimCount(city=city, state=row["state"], claims=row["claims"])
        for row in Claim.objects.filter(city=city)
        .values("state")
        .annotate(claims=Count("id"))
        .order_by()
    ]
    totals = {
        row["token_class_id"]: TokenTotal(
            city=city, token_class_id=row["token_class_id"], issued=int(row["total"])
        )
        for row in Batch.objects.filter(city=city)
        .values("token_class_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    }
    for row in (
        Holding.objects.filter(batch__city=city)
        .values("token_class_id", "state")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        setattr(totals[row["token_class_id"]], row["state"], int(row["total"]))
    return Rollup(months=months, claim_counts=counts, token_totals=list(totals.values()))


def rollup_differences(*, city: City) -> list[str]:
    """Where the stored roll-up differs from one computed afresh: one line per differing
    row (empty when they agree)."""
    stored, computed = rollup_stored(city=city).keyed(), rollup_computed(city=city).keyed()
    lines = []
    for table, rows in computed.items():
        have = stored[table]
        for key in sorted(set(rows) | set(have), key=repr):
            if rows.get(key) != have.get(key):
                lines.append(f"{table} {key}: stored {have.get(key)}, computed {rows.get(key)}")
    return lines


def treasury_impact_inflows(*, city: City) -> list[dict]:
    """Money paid into the treasury for impact (investors' purchases and orders, project
    gifts), per month, in cents: one query over the `impact-funds` account."""
    rows = (
        Posting.objects.filter(movement__city=city, account__code="impact-funds")
        .annotate(month=TruncMonth("movement__created_at"))
        .values("month")
        .annotate(credit=Sum("amount_cents"), movements=Count("movement", distinct=True))
        .order_by("month")
    )
    return [
        {"month": row["month"], "amount_cents": -row["credit"], "movements": row["movements"]}
        for row in rows
    ]


@dataclass
class Dashboard:
    by_month: list[dict]
    by_district: list[dict]
    by_service: list[dict]
    tokens: list[TokenFigures]
    inflows: list[dict]
    claims_by_state: dict[str, int]


def claims_by_state(*, city: City) -> dict[str, int]:
    """The city's claims per state (every state, zero included): one query."""
    counts = {state: 0 for state in ClaimState.values}
    counts.update(ClaimCount.objects.filter(city=city).values_list("state", "claims"))
    return counts


def dashboard(*, city: City, since: date | None = None) -> Dashboard:
    """Every figure of the city's SDG dashboard: six queries over the roll-up and the
    treasury (seven when `since` is not the first of a month), whatever the number of
    claims, batches and holdings. Aggregates only: it is public."""
    live = _since_mid_month(city, since)
    return Dashboard(
        by_month=_by_month(city, since, live),
        by_district=_by_dimension(city, since, live, "district_code"),
        by_service=_by_dimension(city, since, live, "service_ref"),
        tokens=tokens_by_class(city=city),
        inflows=treasury_impact_inflows(city=city),
        claims_by_state=claims_by_state(city=city),
    )

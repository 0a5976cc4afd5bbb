"""Reads of governance for the pages and the API, with the object-level access checks that
go with them. Nothing here writes.

Pages never show an author's or a voter's name: a member appears as their college and DID.
A draft is visible only to its author and to the city's municipality staff; to anyone else
it does not exist (404), like a proposal that was never written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ledger.selectors import receipt_for

from . import permissions
from .models import (
    Account,
    AccountKind,
    Ballot,
    BudgetProject,
    City,
    College,
    CollegeKind,
    Comment,
    ElectorateEntry,
    Membership,
    MembershipStatus,
    Movement,
    Posting,
    Proposal,
    ProposalKind,
    ProposalStatus,
    RulesVersion,
)
from .rules import ALL_KINDS

ACTIVE = [MembershipStatus.PENDING, MembershipStatus.APPROVED]

ACCOUNT_LABELS = {
    "bank": _("Bank (money available)"),
    "fees": _("Fees received"),
    "impact-funds": _("Impact funds received"),
    "grants": _("Public grants received"),
    "project-payouts": _("Payouts to projects"),
    "operator-share": _("Operator's share"),
    "operator-payable": _("Owed to the operator (its share of fees)"),
    "data-owners-payable": _("Owed to data owners (their share of fees)"),
}

KIND_HELP = {
    ProposalKind.GENERAL: _("A question put to the members, with no automatic effect."),
    ProposalKind.FUND_PROJECT: _("If accepted, the treasury pays the project's amount."),
    ProposalKind.AMEND_RULES: _(
        "New weights, quorums or threshold; they apply to votes opened after adoption."
    ),
    ProposalKind.DEPLOY_SERVICE: _("If accepted, a service of the app store runs in the city."),
    ProposalKind.BECOME_INDEPENDENT: _("The city's governance becomes its own legal SCIC."),
    ProposalKind.MAINTENANCE_AUTONOMY: _("The city takes over the maintenance of its services."),
}


@dataclass(frozen=True)
class Money:
    """Integer cents shown as euros in the reader's language ("1 234,56 €"); no float."""

    cents: int

    @property
    def euros(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)

    def __str__(self) -> str:
        return f"{number_format(self.euros, 2, force_grouping=True)}\u00a0€"


def college_label(college: College) -> str:
    """The standard colleges are named in the reader's language; others by their name."""
    if college.kind == CollegeKind.OTHER:
        return capfirst(college.name)
    return capfirst(str(college.get_kind_display()))


def in_college_order(by_slug: dict, colleges: list[College]) -> list[tuple]:
    """(slug, value) pairs in the city's college order (JSON objects have no order once
    PostgreSQL stores them as jsonb); slugs the city does not know come last."""
    rank = {college.slug: college.position for college in colleges}
    return sorted(by_slug.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def kind_rank(kind: str) -> int:
    return ALL_KINDS.index(kind) if kind in ALL_KINDS else len(ALL_KINDS)


# --- cities and memberships ------------------------------------------------------------


def city_get(slug: str) -> City:
    city = City.objects.select_related("chain").filter(slug=slug).first()
    if city is None:
        raise Http404("no such city")
    return city


def city_list() -> QuerySet[City]:
    return City.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.APPROVED))
    ).order_by("name")


def membership_of(user, city: City) -> Membership | None:
    """The user's live membership of `city` (approved, or a pending request), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("college", "identity")
        .filter(city=city, user=user, status__in=ACTIVE)
        .first()
    )


def colleges_of(city: City) -> list[College]:
    """The city's colleges with their number of approved members: one aggregate query."""
    colleges = list(
        College.objects.filter(city=city)
        .annotate(
            member_count=Count(
                "memberships", filter=Q(memberships__status=MembershipStatus.APPROVED)
            )
        )
        .order_by("position", "slug")
    )
    for college in colleges:
        college.label = college_label(college)
    return colleges


def joinable_colleges(city: City) -> QuerySet[College]:
    """Colleges one may ask to join: municipality staff are appointed by the operator."""
    return city.colleges.exclude(kind=CollegeKind.MUNICIPALITY).order_by("position", "slug")


def pending_memberships(city: City) -> QuerySet[Membership]:
    """Requests waiting for the municipality, oldest first, with their evidence."""
    return (
        Membership.objects.filter(city=city, status=MembershipStatus.PENDING)
        .select_related("college", "identity", "user")
        .order_by("requested_at", "pk")
    )


def members(city: City) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(city=city, status=MembershipStatus.APPROVED)
        .select_related("college", "identity", "user")
        .order_by("college__position", "decided_at", "pk")
    )


def membership_get(city: City, public_id: str) -> Membership:
    membership = (
        Membership.objects.select_related("college", "identity", "city")
        .filter(city=city, public_id=public_id)
        .first()
    )
    if membership is None:
        raise Http404("no such membership")
    return membership


# --- rules -----------------------------------------------------------------------------


@dataclass
class RulesSummary:
    version: int | None
    colleges: list[dict]
    threshold: int
    period_min_hours: int
    period_max_hours: int
    proposers: list[dict]
    vote_changeable: bool


def rules_in_force(city: City) -> RulesVersion:
    return RulesVersion.objects.filter(city=city).order_by("-version").first()


def rules_summary(
    rules: dict, *, colleges: list[College], version: int | None = None
) -> RulesSummary:
    """A rules document in words the pages show: college names, kind labels."""
    labels = {college.slug: college_label(college) for college in colleges}
    kinds = dict(ProposalKind.choices)
    return RulesSummary(
        version=version,
        colleges=[
            {
                "slug": slug,
                "label": labels.get(slug, slug),
                "weight": values["weight"],
                "quorum_percent": values["quorum_percent"],
            }
            for slug, values in in_college_order(rules["colleges"], colleges)
        ],
        threshold=rules["approval_threshold_percent"],
        period_min_hours=rules["voting_period_hours"]["min"],
        period_max_hours=rules["voting_period_hours"]["max"],
        proposers=[
            {
                "kind": kind,
                "label": kinds.get(kind, kind),
                "colleges": [labels.get(s, s) for s in slugs],
            }
            for kind, slugs in sorted(rules["proposers"].items(), key=lambda kv: kind_rank(kv[0]))
        ],
        vote_changeable=rules["vote_changeable"],
    )


def rules_history(city: City) -> QuerySet[RulesVersion]:
    """Every version, newest first, with the proposal that adopted it (none for version 1)."""
    return RulesVersion.objects.filter(city=city).select_related("adopted_by").order_by("-version")


# --- proposals -------------------------------------------------------------------------


def _visible_to(proposals: QuerySet[Proposal], viewer: Membership | None) -> QuerySet[Proposal]:
    if permissions.is_staff_membership(viewer):
        return proposals
    if permissions.is_member(viewer):
        return proposals.filter(~Q(status=ProposalStatus.DRAFT) | Q(author=viewer))
    return proposals.exclude(status=ProposalStatus.DRAFT)


def proposals_of(
    city: City,
    *,
    viewer: Membership | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[Proposal]:
    """The city's proposals `viewer` may see, newest first, ready to paginate: the author
    comes with the same query (their college and DID, never their name)."""
    proposals = Proposal.objects.filter(city=city).select_related(
        "author__college", "author__identity"
    )
    proposals = _visible_to(proposals, viewer)
    if status:
        proposals = proposals.filter(status=status)
    if kind:
        proposals = proposals.filter(kind=kind)
    return proposals.order_by("-created_at", "-pk")


def proposal_get(city: City, public_id: str, *, viewer: Membership | None = None) -> Proposal:
    """A proposal of `city` that `viewer` may see; a missing one and a hidden draft are both
    404, so a page never tells a stranger what exists."""
    proposal = (
        Proposal.objects.select_related("author__college", "author__identity", "rules")
        .filter(city=city, public_id=public_id)
        .first()
    )
    if proposal is None or not permissions.can_see_proposal(viewer, proposal):
        raise Http404("no such proposal")
    proposal.city = city  # as the caller loaded it (city_get brings its chain along)
    return proposal


def comments_of(proposal: Proposal) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(proposal=proposal)
        .select_related("membership__college", "membership__identity", "entry")
        .order_by("created_at", "pk")
    )


def ballot_of(user, proposal: Proposal) -> Ballot | None:
    """The user's ballot on `proposal` (whatever their membership became since)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Ballot.objects.select_related("entry__chain", "college")
        .filter(proposal=proposal, membership__user=user)
        .first()
    )


def receipt_of(ballot: Ballot) -> dict | None:
    """The ballot's receipt up to the latest checkpoint; None until its block is sealed."""
    return receipt_for(entry=ballot.entry)


def receipt_text(receipt: dict | None) -> str:
    return json.dumps(receipt, indent=2) if receipt else ""


def my_ballots(user, city: City) -> QuerySet[Ballot]:
    """The user's ballots in `city` with their ledger entries, newest first."""
    return (
        Ballot.objects.filter(membership__user=user, proposal__city=city)
        .select_related("proposal", "college", "entry__chain")
        .order_by("-cast_at", "-pk")
    )


@dataclass(frozen=True)
class PickedProject:
    public_id: str
    title: str
    cost: Money


def ballots_picks_attach(*, ballots, city: City) -> None:
    """Give each of `ballots` (with their proposal loaded) `.picked`: on a participatory
    budget, the projects it picks (id, title, cost) in the order of its selection, `[]` for an
    abstention; on any other proposal, None. One query for the projects of all of them, none
    when no ballot picks anything."""
    wanted = {pid for ballot in ballots for pid in ballot.selection or []}
    projects = {}
    if wanted:
        rows = BudgetProject.objects.filter(proposal__city=city, public_id__in=wanted).values_list(
            "public_id", "title", "cost_cents"
        )
        projects = {pid: PickedProject(pid, title, Money(cost)) for pid, title, cost in rows}
    for ballot in ballots:
        if "budget_cents" in (ballot.proposal.parameters or {}):
            ballot.picked = [projects[pid] for pid in ballot.selection or [] if pid in projects]
        else:
            ballot.picked = None


def my_ballots_page(user, city: City, *, page: str | int | None, per_page: int = 20) -> Page:
    """A page of `my_ballots`, each ballot with `.picked` (see `ballots_picks_attach`). Two
    queries for the page and one for the projects of all its budget ballots, whatever their
    number."""
    result = Paginator(my_ballots(user, city), per_page).get_page(page)
    ballots_picks_attach(ballots=result, city=city)
    return result


@dataclass
class CollegeResult:
    slug: str
    label: str
    electorate: int
    yes: int
    no: int
    abstain: int
    voted: int
    turnout_percent: Decimal
    quorum_percent: int
    quorum_met: bool
    counts: bool
    weight: int
    support_percent: Decimal


@dataclass
class Results:
    """A recorded tally, with what a reader needs to redo the arithmetic by hand."""

    colleges: list[CollegeResult]
    counting: list[CollegeResult]
    counting_weight: int
    weighted_result: str  # the exact fraction, e.g. "25/42"
    weighted_result_percent: Decimal
    threshold: int
    accepted: bool


def results_of(proposal: Proposal, *, colleges: list[College]) -> Results | None:
    """The tally recorded when the vote closed (None before)."""
    tally = proposal.tally
    if not tally or tally.get("budget"):  # a participatory budget has its own ranking
        return None
    labels = {college.slug: college_label(college) for college in colleges}
    rows = [
        CollegeResult(
            slug=slug,
            label=labels.get(slug, slug),
            electorate=row["electorate"],
            yes=row["yes"],
            no=row["no"],
            abstain=row["abstain"],
            voted=row["voted"],
            turnout_percent=Decimal(row["turnout_percent"]),
            quorum_percent=row["quorum_percent"],
            quorum_met=row["quorum_met"],
            counts=row["counts"],
            weight=row["weight"],
            support_percent=Decimal(row["support_percent"]),
        )
        for slug, row in in_college_order(tally["colleges"], colleges)
    ]
    return Results(
        colleges=rows,
        counting=[row for row in rows if row.counts],
        counting_weight=tally["counting_weight"],
        weighted_result=tally["weighted_result"],
        weighted_result_percent=Decimal(tally["weighted_result_percent"]),
        threshold=tally["approval_threshold_percent"],
        accepted=tally["accepted"],
    )


@dataclass
class VotePanel:
    """What the vote panel of a proposal shows the viewer."""

    ballot: Ballot | None = None
    receipt: dict | None = None
    receipt_json: str = ""
    in_electorate: bool = False
    may_vote: bool = False
    vote_changeable: bool = True


@dataclass
class ProposalPage:
    proposal: Proposal
    colleges: list[College]
    comments: list[Comment] = field(default_factory=list)
    vote: VotePanel = field(default_factory=VotePanel)
    results: Results | None = None
    amount: Money | None = None
    proposed_rules: RulesSummary | None = None
    electorate: list[dict] = field(default_factory=list)


def vote_panel(proposal: Proposal, *, user, viewer: Membership | None) -> VotePanel:
    ballot = ballot_of(user, proposal)
    receipt = receipt_of(ballot) if ballot else None
    in_electorate = bool(
        permissions.can_vote(viewer, proposal)
        and ElectorateEntry.objects.filter(proposal=proposal, membership=viewer).exists()
    )
    changeable = bool(proposal.rules and proposal.rules.rules.get("vote_changeable"))
    return VotePanel(
        ballot=ballot,
        receipt=receipt,
        receipt_json=receipt_text(receipt),
        in_electorate=in_electorate,
        may_vote=in_electorate and (ballot is None or changeable),
        vote_changeable=changeable,
    )


def proposal_page(proposal: Proposal, *, user, viewer: Membership | None) -> ProposalPage:
    """Everything the proposal page shows besides its forms: debate, my vote and receipt,
    results with their arithmetic, the kind's parameters in words."""
    colleges = colleges_of(proposal.city)
    parameters = proposal.parameters or {}
    labels = {college.slug: college.label for college in colleges}
    amount = parameters.get("amount_cents")
    rules = parameters.get("rules")
    return ProposalPage(
        proposal=proposal,
        colleges=colleges,
        comments=list(comments_of(proposal)),
        vote=vote_panel(proposal, user=user, viewer=viewer),
        results=results_of(proposal, colleges=colleges),
        amount=Money(amount) if type(amount) is int else None,
        proposed_rules=rules_summary(rules, colleges=colleges) if isinstance(rules, dict) else None,
        electorate=[
            {"label": labels.get(slug, slug), "size": size}
            for slug, size in in_college_order(proposal.electorate_sizes or {}, colleges)
        ],
    )


# --- treasury --------------------------------------------------------------------------


@dataclass
class Balance:
    code: str
    label: str
    kind: str
    kind_label: str
    balance: Money


@dataclass
class Treasury:
    balances: list[Balance]
    available: Money


def account_label(account: Account) -> str:
    return str(ACCOUNT_LABELS.get(account.code, account.name))


def treasury_balances(city: City) -> Treasury:
    """Every account's balance in ONE aggregate query. Postings are debits (+) and credits
    (−); revenue and equity accounts are shown credit-positive, as an accountant reads them."""
    accounts = (
        Account.objects.filter(city=city)
        .annotate(total=Coalesce(Sum("postings__amount_cents"), 0))
        .order_by("code")
    )
    balances = []
    available = 0
    for account in accounts:
        credit_positive = (AccountKind.REVENUE, AccountKind.EQUITY, AccountKind.LIABILITY)
        sign = -1 if account.kind in credit_positive else 1
        if account.code == "bank":
            available = account.total
        balances.append(
            Balance(
                code=account.code,
                label=account_label(account),
                kind=account.kind,
                kind_label=str(account.get_kind_display()),
                balance=Money(sign * account.total),
            )
        )
    return Treasury(balances=balances, available=Money(available))


def movements_page(city: City, *, page: str | int | None, per_page: int = 25) -> Page:
    """A page of the city's movements, newest first, each with its postings in words
    (`.lines`), its size (`.amount`) and the proposal that decided it: three queries."""
    movements = (
        Movement.objects.filter(city=city)
        .select_related("proposal", "entry")
        .prefetch_related(
            Prefetch("postings", queryset=Posting.objects.select_related("account").order_by("pk"))
        )
        .order_by("-created_at", "-pk")
    )
    result = Paginator(movements, per_page).get_page(page)
    for movement in result:
        postings = list(movement.postings.all())
        movement.lines = [
            {
                "label": account_label(posting.account),
                "debit": Money(posting.amount_cents) if posting.amount_cents > 0 else None,
                "credit": Money(-posting.amount_cents) if posting.amount_cents < 0 else None,
            }
            for posting in postings
        ]
        movement.amount = Money(sum(p.amount_cents for p in postings if p.amount_cents > 0))
    return result

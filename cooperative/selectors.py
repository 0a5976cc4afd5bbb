"""Reads of the cooperative: overview, public cap table, a member's shares, distributions."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Count, Q, Sum
from django.http import Http404

from governance import permissions as gov_permissions
from governance.models import City, Membership, MembershipStatus, Proposal, ProposalStatus
from governance.services import rules_in_force
from governance.tally import percent_text

from .models import (
    Distribution,
    Holding,
    MovementStatus,
    NetworkDecision,
    ShareClass,
    ShareMovement,
)
from .rules import horizon_weight_percent, section
from .services import cooperative_body


def body_get() -> City:
    body = cooperative_body()
    if body is None:
        raise Http404("no cooperative")
    return body


def colleges_overview(body: City) -> list[dict]:
    """Each college with its weight and quorum in force and its number of members."""
    rules = rules_in_force(body).rules
    colleges = body.colleges.annotate(
        members=Count("memberships", filter=Q(memberships__status=MembershipStatus.APPROVED))
    ).order_by("position")
    return [
        {
            "college": college,
            "weight": rules["colleges"].get(college.slug, {}).get("weight", 0),
            "quorum_percent": rules["colleges"].get(college.slug, {}).get("quorum_percent", 0),
            "members": college.members,
        }
        for college in colleges
    ]


def proposals_visible(body: City, viewer: Membership | None) -> list[Proposal]:
    """Every proposal that left the draft, and the viewer's own drafts."""
    visible = Q(status__in=[s for s in ProposalStatus.values if s != ProposalStatus.DRAFT])
    if viewer is not None:
        visible |= Q(author=viewer)
    return list(
        Proposal.objects.filter(visible, city=body)
        .select_related("author__college")
        .order_by("-created_at")[:100]
    )


def proposal_get(body: City, public_id: str, viewer: Membership | None) -> Proposal:
    proposal = (
        Proposal.objects.select_related("rules", "author__college", "author__identity")
        .filter(city=body, public_id=public_id)
        .first()
    )
    if proposal is None or not gov_permissions.can_see_proposal(viewer, proposal):
        raise Http404("no such proposal")
    proposal.city = body
    return proposal


def decisions_in_force() -> dict[str, NetworkDecision]:
    """The latest network decision of each kind (audit standards, fees schedule, ...)."""
    latest: dict[str, NetworkDecision] = {}
    for decision in NetworkDecision.objects.select_related("proposal", "entry").order_by(
        "-created_at", "-pk"
    ):
        latest.setdefault(decision.kind, decision)
    return latest


@dataclass
class CapRow:
    did: str
    membership: str
    college: str
    college_slug: str
    shares: int
    capital_cents: int
    percent: str
    horizons: list[tuple[int, int]]  # (years, shares)


def cap_table(body: City) -> dict:
    """The public cap table: approved members with shares, by DID (one grouped query)."""
    rows = (
        Holding.objects.filter(
            membership__city=body,
            membership__status=MembershipStatus.APPROVED,
            shares__gt=0,
        )
        .values(
            "membership__public_id",
            "membership__identity__did",
            "membership__college__name",
            "membership__college__slug",
            "horizon_years",
        )
        .annotate(n=Sum("shares"))
        .order_by("membership__public_id", "-horizon_years")
    )
    nominal = {c.pk: c.nominal_cents for c in ShareClass.objects.all()}
    capital_rows = (
        Holding.objects.filter(
            membership__city=body, membership__status=MembershipStatus.APPROVED, shares__gt=0
        )
        .values("membership__public_id", "share_class")
        .annotate(n=Sum("shares"))
        .order_by()
    )
    capital: dict[str, int] = {}
    for row in capital_rows:
        key = row["membership__public_id"]
        capital[key] = capital.get(key, 0) + row["n"] * nominal[row["share_class"]]
    by_member: dict[str, CapRow] = {}
    for row in rows:
        key = row["membership__public_id"]
        entry = by_member.get(key)
        if entry is None:
            entry = by_member[key] = CapRow(
                did=row["membership__identity__did"],
                membership=key,
                college=row["membership__college__name"],
                college_slug=row["membership__college__slug"],
                shares=0,
                capital_cents=capital.get(key, 0),
                percent="0.00",
                horizons=[],
            )
        entry.shares += row["n"]
        entry.horizons.append((row["horizon_years"], row["n"]))
    total = sum(r.shares for r in by_member.values())
    for entry in by_member.values():
        entry.percent = percent_text(Fraction(entry.shares, total)) if total else "0.00"
    ordered = sorted(by_member.values(), key=lambda r: (-r.shares, r.did))
    return {
        "rows": ordered,
        "total_shares": total,
        "total_capital_cents": sum(r.capital_cents for r in ordered),
        "members": len(ordered),
    }


def register_movements(body: City, limit: int = 50) -> list[ShareMovement]:
    """The latest recorded movements of the register (public)."""
    return list(
        ShareMovement.objects.filter(status=MovementStatus.DONE)
        .select_related(
            "share_class",
            "entry",
            "decision_entry",
            "from_membership__identity",
            "to_membership__identity",
        )
        .order_by("-decided_at", "-pk")[:limit]
    )


def my_shares(body: City, user) -> dict:
    """A user's holdings (with their horizon weight in force), movements and pending request."""
    rules = section(rules_in_force(body).rules)
    membership = (
        Membership.objects.select_related("college", "identity")
        .filter(city=body, user=user, status=MembershipStatus.APPROVED)
        .first()
    )
    holdings = []
    if membership is not None:
        for holding in (
            Holding.objects.filter(membership=membership, shares__gt=0)
            .select_related("share_class")
            .order_by("-horizon_years")
        ):
            holding.weight_percent = horizon_weight_percent(
                rules["horizon_weights"], holding.horizon_years
            )
            holding.capital_cents = holding.shares * holding.share_class.nominal_cents
            holdings.append(holding)
    movements = list(
        ShareMovement.objects.filter(
            Q(user=user) | Q(to_membership__user=user) | Q(from_membership__user=user)
        )
        .select_related("share_class", "entry", "college")
        .distinct()
        .order_by("-created_at", "-pk")[:50]
    )
    pending = next((m for m in movements if m.status == MovementStatus.PENDING), None)
    return {
        "membership": membership,
        "holdings": holdings,
        "movements": movements,
        "pending": pending,
        "total_shares": sum(h.shares for h in holdings),
        "rules": rules,
    }


def pending_subscriptions() -> list[ShareMovement]:
    return list(
        ShareMovement.objects.filter(status=MovementStatus.PENDING)
        .select_related("share_class", "college", "entry")
        .order_by("created_at", "pk")
    )


def distributions() -> list[Distribution]:
    return list(Distribution.objects.select_related("proposal", "entry").order_by("-year"))


def distribution_get(public_id: str) -> Distribution:
    distribution = (
        Distribution.objects.select_related("proposal", "entry").filter(public_id=public_id).first()
    )
    if distribution is None:
        raise Http404("no such distribution")
    return distribution

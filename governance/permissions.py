"""Who may do what in a city: one predicate per rule, shared by the pages and the API.

Most predicates take the viewer's live membership of the city (`selectors.membership_of`:
approved or pending, or None for a visitor), so a page asks the database once and then
answers every question about the viewer from that row. The services check again: these
predicates decide what a page shows and which requests it refuses early.
"""

from __future__ import annotations

from .models import (
    CollegeKind,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
)
from .rules import ALL_KINDS

DEBATE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.OPEN)


def is_member(membership: Membership | None) -> bool:
    """An approved member of the city (a pending request is not a membership yet)."""
    return membership is not None and membership.status == MembershipStatus.APPROVED


def is_staff_membership(membership: Membership | None) -> bool:
    """An approved member of the municipality college: the city's staff."""
    return is_member(membership) and membership.college.kind == CollegeKind.MUNICIPALITY


def is_municipality_staff(user, city) -> bool:
    """`user` is approved staff of `city`'s municipality (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        city=city,
        user=user,
        status=MembershipStatus.APPROVED,
        college__kind=CollegeKind.MUNICIPALITY,
    ).exists()


def _of_city(membership: Membership | None, proposal: Proposal) -> bool:
    return membership is not None and membership.city_id == proposal.city_id


def can_see_proposal(membership: Membership | None, proposal: Proposal) -> bool:
    """Anyone reads a proposal once it left the draft; a draft only its author and staff."""
    if proposal.status != ProposalStatus.DRAFT:
        return True
    if not _of_city(membership, proposal) or not is_member(membership):
        return False
    return proposal.author_id == membership.pk or is_staff_membership(membership)


def can_propose(membership: Membership | None, kind: str, rules: dict) -> bool:
    """The rules in force say which colleges may propose which kind."""
    return is_member(membership) and membership.college.slug in rules["proposers"].get(kind, [])


def proposable_kinds(membership: Membership | None, rules: dict) -> list[str]:
    """The proposal kinds `membership`'s college may propose, in a fixed order."""
    return [kind for kind in ALL_KINDS if can_propose(membership, kind, rules)]


def can_amend(membership: Membership | None, proposal: Proposal) -> bool:
    """Only the author, and only while it is a draft."""
    return (
        is_member(membership)
        and proposal.status == ProposalStatus.DRAFT
        and proposal.author_id == membership.pk
    )


def can_open(membership: Membership | None, proposal: Proposal) -> bool:
    """The author or the city's municipality staff open the vote on a draft."""
    return (
        _of_city(membership, proposal)
        and is_member(membership)
        and proposal.status == ProposalStatus.DRAFT
        and (proposal.author_id == membership.pk or is_staff_membership(membership))
    )


def can_comment(membership: Membership | None, proposal: Proposal) -> bool:
    """Members of the city debate a proposal while it is a draft or open."""
    return (
        _of_city(membership, proposal)
        and is_member(membership)
        and proposal.status in DEBATE_STATUSES
    )


def can_vote(membership: Membership | None, proposal: Proposal) -> bool:
    """A member of the city on an open vote; the service also checks the electorate snapshot
    taken when the vote opened (`NotInElectorate`) and the deadline (`VoteClosed`)."""
    return (
        _of_city(membership, proposal)
        and is_member(membership)
        and proposal.status == ProposalStatus.OPEN
    )


def can_administer(membership: Membership | None) -> bool:
    """The municipality portal of a city: its staff only."""
    return is_staff_membership(membership)


def can_revoke(staff: Membership | None, member: Membership) -> bool:
    """Staff revoke another approved member of their city (not themselves: no lock-out)."""
    return (
        can_administer(staff)
        and member.city_id == staff.city_id
        and member.pk != staff.pk
        and member.status == MembershipStatus.APPROVED
    )

"""Who may do what with impact: one predicate per rule, shared by the pages and the API.
The services check again; these decide what a page shows and which requests are refused
early.

Curators are a role granted by the city's municipality staff to an approved member of any
college (`Curator`), revocable; not a college of their own.
"""

from __future__ import annotations

from governance.models import City, CollegeKind, Membership, MembershipStatus

from .models import Claim, ClaimState, Curator, Portfolio


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_member(membership: Membership | None) -> bool:
    return membership is not None and membership.status == MembershipStatus.APPROVED


def is_staff(user, city: City) -> bool:
    """Approved municipality staff of `city`."""
    return (
        _signed_in(user)
        and Membership.objects.filter(
            city=city,
            user=user,
            status=MembershipStatus.APPROVED,
            college__kind=CollegeKind.MUNICIPALITY,
        ).exists()
    )


def curator_of(user, city: City) -> Curator | None:
    """The user's live curator role in `city` (their membership still approved), or None."""
    if not _signed_in(user):
        return None
    return (
        Curator.objects.select_related("membership__identity", "city")
        .filter(
            city=city,
            membership__user=user,
            membership__status=MembershipStatus.APPROVED,
            revoked_at__isnull=True,
        )
        .first()
    )


def made_claim(user, claim: Claim) -> bool:
    """The user made, created or submitted (as a service) this claim."""
    if not _signed_in(user):
        return False
    if claim.claimant.user_id == user.pk or claim.created_by_id == user.pk:
        return True
    return claim.batch_id is not None and claim.batch.submitted_by_id == user.pk


def can_verify(curator: Curator | None, claim: Claim) -> bool:
    """A live curator of the claim's city, on a submitted or disputed claim, not their own."""
    return (
        curator is not None
        and curator.revoked_at is None
        and curator.city_id == claim.city_id
        and claim.state in (ClaimState.SUBMITTED, ClaimState.DISPUTED)
        and not made_claim(curator.membership.user, claim)
    )


def can_see_claim(user, claim: Claim) -> bool:
    """Its claimant, its creator or submitting service, the city's curators and staff."""
    if not _signed_in(user):
        return False
    if made_claim(user, claim):
        return True
    return curator_of(user, claim.city) is not None or is_staff(user, claim.city)


def can_edit_claim(user, claim: Claim) -> bool:
    """Evidence is added, and a draft submitted, by whoever made the claim, before the
    decision."""
    return made_claim(user, claim) and claim.state in (
        ClaimState.DRAFT,
        ClaimState.SUBMITTED,
        ClaimState.DISPUTED,
    )


def owns_portfolio(user, portfolio: Portfolio) -> bool:
    return _signed_in(user) and portfolio.user_id == user.pk


def can_redeem(membership: Membership | None) -> bool:
    """Only approved members of the providers college redeem tokens for money."""
    return is_member(membership) and membership.college.kind == CollegeKind.PROVIDERS


def can_manage_city_impact(membership: Membership | None) -> bool:
    """Municipality staff: curators, redemption rates, participation calls, bounties."""
    return is_member(membership) and membership.college.kind == CollegeKind.MUNICIPALITY

"""The signed actions of governance (see `identity.signed_actions`): a vote (yes/no, or a
participatory budget's knapsack ballot) is signed by the voter's own DID. A custodial member
lets the platform sign; a self-custody member prepares the vote, signs the canonical bytes
with their own key and submits the signature.

The API resolves the proposal and the voter's membership (with the permission checks of the
pages) before the action runs, and hands them over in `data`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from identity.errors import NoCustodialKey
from identity.models import Custody, Identity, User
from identity.signed_actions import SignedAction
from ledger.models import Chain

from . import budget, services
from .errors import NotInElectorate, VoteClosed
from .models import Ballot, ElectorateEntry, Membership, Proposal, ProposalStatus

KIND_VOTE_CAST = "governance.vote.cast"


def platform_signer(identity: Identity | None) -> Identity:
    """The identity a service signs with when the action has no client-signed form.

    A self-custody DID has no key on the platform: refuse it in plain words instead of
    failing deep inside the ledger."""
    if identity is None:
        raise NoCustodialKey(_("Your account has no active DID."))
    if identity.custody != Custody.CUSTODIAL:
        raise NoCustodialKey(
            _(
                "Your DID is self-custody, and this action has no client-signed form yet: "
                "the platform holds no key to sign it for you."
            )
        )
    return identity


def _seat(proposal: Proposal, member: Membership) -> ElectorateEntry:
    """The member's seat in the electorate of an open vote. Refused early (before anyone
    signs) when the vote is not open or the member is not in its electorate; the services
    check both again."""
    if proposal.status != ProposalStatus.OPEN:
        raise VoteClosed()
    seat = (
        ElectorateEntry.objects.select_related("college")
        .filter(proposal=proposal, membership=member)
        .first()
    )
    if seat is None:
        raise NotInElectorate()
    return seat


def vote_payload(*, proposal: Proposal, member: Membership, choice: str) -> dict:
    """The payload `services.vote_cast` records for this vote: the college comes from the
    electorate snapshot."""
    seat = _seat(proposal, member)
    return services.vote_payload(proposal=proposal, college_slug=seat.college.slug, choice=choice)


def budget_vote_payload(*, proposal: Proposal, member: Membership, project_ids: list[str]) -> dict:
    """The payload `budget.budget_vote_cast` records for this knapsack ballot (the selection
    sorted), refused early when the picks are not projects of the call within its budget."""
    seat = _seat(proposal, member)
    selection = budget.budget_selection(project_ids)
    budget.budget_selection_check(proposal, selection)
    return budget.budget_vote_payload(
        proposal=proposal, college_slug=seat.college.slug, selection=selection
    )


class CastVote(SignedAction):
    """`data`: the `proposal`, the voter's `member`ship and their `choice`."""

    kind = KIND_VOTE_CAST

    def chain_for(self, *, user: User, data: dict) -> Chain:
        return data["proposal"].city.chain

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["member"].identity.did

    def payload(self, *, user: User, data: dict) -> dict:
        return vote_payload(proposal=data["proposal"], member=data["member"], choice=data["choice"])

    def perform(self, *, user: User, data: dict, append) -> Ballot:
        return services.vote_cast(
            proposal=data["proposal"], member=data["member"], choice=data["choice"], append=append
        )


class CastBudgetVote(CastVote):
    """`data`: the `proposal` (a budget call), the voter's `member`ship and the public ids of
    the `projects` they pick (empty: an abstention)."""

    def payload(self, *, user: User, data: dict) -> dict:
        return budget_vote_payload(
            proposal=data["proposal"], member=data["member"], project_ids=data["projects"]
        )

    def perform(self, *, user: User, data: dict, append) -> Ballot:
        return budget.budget_vote_cast(
            proposal=data["proposal"],
            member=data["member"],
            project_ids=data["projects"],
            append=append,
        )

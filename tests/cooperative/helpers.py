"""Helpers the cooperative tests share: members admitted through the services, and a vote of
the general assembly carried from draft to execution."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cooperative.services import member_of, share_subscribe, subscription_admit
from governance.models import Choice, ElectorateEntry, Proposal
from governance.services import (
    proposal_close,
    proposal_create,
    proposal_execute,
    proposal_open,
    vote_cast,
)

ACCOUNTS_DIGEST = "ab" * 32


def admitted(body, user, college_slug: str, *, shares: int, horizon: int = 0, by):
    """`user` subscribes `shares` as a newcomer of `college_slug`; the board admits them."""
    movement = share_subscribe(
        user=user,
        shares=shares,
        horizon_years=horizon,
        college=body.colleges.get(slug=college_slug),
    )
    subscription_admit(movement=movement, by=by)
    return member_of(user, body)


def general_assembly(author, kind: str, parameters: dict, *, voters=(), choice=Choice.YES):
    """Draft, open, vote (every member of `voters`), close after the deadline and execute."""
    proposal = proposal_create(
        author=author, kind=kind, title=f"{kind} vote", parameters=parameters
    )
    now = timezone.now()
    proposal = proposal_open(proposal=proposal, by=author, closes_at=now + timedelta(hours=2))
    for member in voters:
        vote_cast(proposal=proposal, member=member, choice=choice)
    proposal = proposal_close(proposal=proposal, now=now + timedelta(hours=3))
    return proposal_execute(proposal=proposal)


def electorate_of(proposal: Proposal) -> int:
    return ElectorateEntry.objects.filter(proposal=proposal).count()

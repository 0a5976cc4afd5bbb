"""Who is told what about a vote, by e-mail: pure decisions and message text.

Recipients come from the electorate snapshot (a vote opened) and from the ballots (a vote
closed); nobody outside them is ever told. A message names the proposal, its city and dates,
and links to the page: never another person's name, address or vote. We keep no language per
account, so messages are in French, the platform's default language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from identity.models import NotificationMode, User

from .models import Ballot, ElectorateEntry, Membership, MembershipStatus, Proposal

MESSAGE_LANGUAGE = "fr"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def vote_opened_key(proposal: Proposal) -> str:
    return f"vote-opened:{proposal.public_id}"


def proposal_closed_key(proposal: Proposal) -> str:
    return f"proposal-closed:{proposal.public_id}"


def _reachable(users: QuerySet[User]) -> QuerySet[User]:
    """Accounts that want e-mail and can receive it."""
    return (
        users.filter(is_active=True)
        .exclude(email="")
        .exclude(notification_mode=NotificationMode.NONE)
        .order_by("pk")
    )


def vote_opened_recipients(proposal: Proposal) -> QuerySet[User]:
    """The members of the electorate snapshot who are still approved."""
    seats = ElectorateEntry.objects.filter(proposal=proposal).values("membership")
    members = Membership.objects.filter(pk__in=seats, status=MembershipStatus.APPROVED)
    return _reachable(User.objects.filter(pk__in=members.values("user")))


def proposal_closed_recipients(proposal: Proposal) -> QuerySet[User]:
    """The members who voted on the proposal."""
    voters = Membership.objects.filter(
        pk__in=Ballot.objects.filter(proposal=proposal).values("membership")
    )
    return _reachable(User.objects.filter(pk__in=voters.values("user")))


def site_url(path: str) -> str:
    return settings.SMARTB_SITE_URL.rstrip("/") + path


def proposal_url(proposal: Proposal) -> str:
    if proposal.city.is_network_body:  # the operator's cooperative has its own pages
        return site_url(reverse("cooperative:proposal", kwargs={"public_id": proposal.public_id}))
    return site_url(
        reverse(
            "governance:proposal_detail",
            kwargs={"slug": proposal.city.slug, "public_id": proposal.public_id},
        )
    )


def _one_line(text: str) -> str:
    # A subject is a mail header: no line break may reach it.
    return " ".join(text.split())


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _footer() -> str:
    return _(
        "You receive this e-mail as a member of a SMART B city. "
        "Choose how you are notified (each event, a daily digest, or nothing): %(url)s"
    ) % {"url": site_url(reverse("identity:profile"))}


def vote_opened_message(proposal: Proposal) -> Message:
    with translation.override(MESSAGE_LANGUAGE):
        values = {
            "title": _one_line(proposal.title),
            "city": _one_line(proposal.city.name),
            "closes_at": _when(proposal.closes_at),
            "url": proposal_url(proposal),
        }
        subject = _("Vote open in %(city)s: %(title)s") % values
        body = "\n\n".join(
            [
                _("A vote is open in %(city)s on the proposal “%(title)s”.") % values,
                _("It closes on %(closes_at)s.") % values,
                _("Read the proposal, join the debate and vote: %(url)s") % values,
                _footer(),
            ]
        )
    return Message(subject=subject, body=body)


def proposal_closed_message(proposal: Proposal) -> Message:
    with translation.override(MESSAGE_LANGUAGE):
        accepted = bool((proposal.tally or {}).get("accepted"))
        values = {
            "title": _one_line(proposal.title),
            "city": _one_line(proposal.city.name),
            "closed_at": _when(proposal.closed_at),
            "url": proposal_url(proposal),
        }
        if accepted:
            subject = _("Proposal accepted in %(city)s: %(title)s") % values
            outcome = _("The proposal “%(title)s” is accepted.") % values
        else:
            subject = _("Proposal rejected in %(city)s: %(title)s") % values
            outcome = _("The proposal “%(title)s” is rejected.") % values
        body = "\n\n".join(
            [
                _("The vote you took part in, in %(city)s, closed on %(closed_at)s.") % values,
                outcome,
                _("See the results and how they were counted: %(url)s") % values,
                _footer(),
            ]
        )
    return Message(subject=subject, body=body)

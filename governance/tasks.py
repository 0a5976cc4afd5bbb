"""Celery tasks of governance: closing votes at their deadline, executing accepted proposals,
e-mailing members when a vote opens or closes. Idempotent: a retry after a crash finds the
work done or does the rest."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from identity.notifications import daily_digests_send, notifications_send
from smartb.outbox import OutboxTask, fault_pause

from .models import Proposal, ProposalStatus
from .notifications import (
    proposal_closed_key,
    proposal_closed_message,
    proposal_closed_recipients,
    vote_opened_key,
    vote_opened_message,
    vote_opened_recipients,
)
from .services import due_proposals, proposal_close, proposal_execute

logger = logging.getLogger(__name__)


@shared_task
def close_due_proposals() -> list[str]:
    """Close every vote past its deadline. One proposal that cannot close (its city's key
    left with the city, a bug) is logged and left for the next run: it must not keep every
    other city's votes open."""
    closed = []
    for proposal in due_proposals():
        try:
            # The close and the tasks it owes (outbox rows) commit together, or not at all
            # when the worker dies here: the redelivered task closes it then, once.
            with transaction.atomic():
                closed.append(proposal_close(proposal=proposal).public_id)
                fault_pause("governance.tasks.close_due_proposals")
        except Exception:
            logger.exception("closing proposal %s failed; retried at the next run", proposal.pk)
    return closed


@shared_task(
    bind=True, base=OutboxTask, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def execute_proposal(self, proposal_id: int) -> str | None:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        return None
    return proposal_execute(proposal=proposal).status


@shared_task(
    bind=True,
    base=OutboxTask,
    outbox_atomic=False,  # one transaction per e-mail (identity.notifications)
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def notify_vote_opened(self, proposal_id: int) -> int:
    """E-mail the electorate that the vote is open. Returns the e-mails sent now."""
    proposal = Proposal.objects.select_related("city").filter(pk=proposal_id).first()
    if proposal is None or proposal.opens_at is None:
        return 0
    message = vote_opened_message(proposal)
    return notifications_send(
        users=vote_opened_recipients(proposal),
        key=vote_opened_key(proposal),
        subject=message.subject,
        body=message.body,
    )


@shared_task(
    bind=True,
    base=OutboxTask,
    outbox_atomic=False,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def notify_proposal_closed(self, proposal_id: int) -> int:
    """E-mail the voters the outcome. Returns the e-mails sent now."""
    proposal = Proposal.objects.select_related("city").filter(pk=proposal_id).first()
    if proposal is None or proposal.status in (ProposalStatus.DRAFT, ProposalStatus.OPEN):
        return 0
    message = proposal_closed_message(proposal)
    return notifications_send(
        users=proposal_closed_recipients(proposal),
        key=proposal_closed_key(proposal),
        subject=message.subject,
        body=message.body,
    )


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_daily_digests(self) -> int:
    """Beat, every day at 07:00 local time (`CELERY_BEAT_SCHEDULE`, `CELERY_TIMEZONE`): one
    e-mail per account in digest mode, gathering its notices. Returns the digests sent now.

    Idempotent: each notice is marked sent (`sent_at`, no longer `digest_pending`) in the
    database transaction that e-mails its digest, so a second run the same day or a retry
    after a failure half-way finds nothing left to send but the digests still owed (and the
    notices owed since); on PostgreSQL the rows are locked, so a concurrent run waits and
    then finds them sent."""
    return daily_digests_send()

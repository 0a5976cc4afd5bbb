"""Celery tasks of governance: closing votes at their deadline, executing accepted proposals.
Idempotent: a retry after a crash finds the work done or does the rest."""

from __future__ import annotations

from celery import shared_task

from .models import Proposal
from .services import due_proposals, proposal_close, proposal_execute


@shared_task
def close_due_proposals() -> list[str]:
    closed = []
    for proposal in due_proposals():
        closed.append(proposal_close(proposal=proposal).public_id)
    return closed


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def execute_proposal(self, proposal_id: int) -> str | None:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        return None
    return proposal_execute(proposal=proposal).status

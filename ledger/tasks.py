"""Celery tasks of the ledger: sealing. Idempotent, safe to retry."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F

from smartb.outbox import OutboxTask

from .models import Chain
from .services import chain_seal


@shared_task(
    bind=True, base=OutboxTask, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def seal_chain(self, chain_id: int) -> int | None:
    """Seal one chain's pending transactions; a retry after a crash finds nothing or the rest."""
    chain = Chain.objects.filter(pk=chain_id).first()
    if chain is None:
        return None
    block = chain_seal(chain=chain)
    return block.height if block else None


@shared_task
def seal_due_chains() -> list[str]:
    """Beat: seal every chain with pending transactions (the period bounds their wait)."""
    sealed = []
    for chain in Chain.objects.filter(size__gt=F("sealed_size")):
        if chain_seal(chain=chain) is not None:
            sealed.append(chain.slug)
    return sealed

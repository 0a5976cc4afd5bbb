"""Celery tasks of the project itself: relaying the transactional outbox."""

from __future__ import annotations

from celery import shared_task

from .outbox import outbox_prune, outbox_relay


@shared_task
def relay_outbox() -> int:
    """Beat, every minute: publish the outbox rows the broker could not take at their commit
    (it was down) or whose message was lost, and forget rows done a week ago. Returns how
    many were published."""
    outbox_prune()
    return outbox_relay()

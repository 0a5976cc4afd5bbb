"""Celery tasks of the witnesses app: the beat round and the alerts. Idempotent: a round
that finds nothing new changes nothing; an alert is sent once per evidence."""

from __future__ import annotations

from celery import shared_task

from identity.notifications import notifications_send
from smartb.outbox import OutboxTask

from .models import Inconsistency
from .notifications import inconsistency_key, inconsistency_message, inconsistency_recipients
from .services import witness_all as _witness_all


@shared_task
def witness_all() -> dict[str, int]:
    """Beat: one witnessing round over every active relation."""
    return _witness_all()


@shared_task(
    bind=True,
    base=OutboxTask,
    outbox_atomic=False,  # one transaction per e-mail (identity.notifications)
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def notify_inconsistency(self, inconsistency_id: int) -> int:
    evidence = (
        Inconsistency.objects.select_related("relation__witness")
        .filter(pk=inconsistency_id)
        .first()
    )
    if evidence is None:
        return 0
    subject, body = inconsistency_message(evidence)
    return notifications_send(
        users=inconsistency_recipients(evidence),
        key=inconsistency_key(evidence),
        subject=subject,
        body=body,
    )

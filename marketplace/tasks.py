"""Celery tasks of the app store. Idempotent: a retry after a crash finds the work done."""

from __future__ import annotations

from celery import shared_task

from .errors import MarketplaceError
from .models import Deployment
from .services import execution_record


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    dont_autoretry_for=(MarketplaceError,),
    retry_backoff=True,
    max_retries=5,
)
def record_platform_execution(self, deployment_id: int, reference: str) -> str | None:
    """Record an execution the platform ran for a deployed service (signed by the platform's
    validator key). The same reference is recorded, and charged, once however often it runs;
    a deployment gone or no longer active records nothing."""
    deployment = Deployment.objects.filter(pk=deployment_id, active=True).first()
    if deployment is None:
        return None
    return execution_record(deployment=deployment, reference=reference).public_id

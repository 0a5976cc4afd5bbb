"""The few things impact asks of the app store, through small calls (DESIGN: impact and
marketplace use each other's models only this way). Without the app store installed, or
without the feature, each answers None and impact falls back (see each function).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class DeployedService:
    deployment: str  # the Deployment's public id: what claims name as their service
    service: str
    provider_did: str
    owner_id: int
    active: bool


def _installed() -> bool:
    return apps.is_installed("marketplace")


def deployed_service(*, city, ref: str) -> DeployedService | None:
    """The service deployed in `city` under the Deployment public id `ref`, or None."""
    if not _installed() or not ref:
        return None
    from marketplace.models import Deployment

    deployment = (
        Deployment.objects.select_related("service__provider__identity")
        .filter(city=city, public_id=ref)
        .first()
    )
    if deployment is None:
        return None
    provider = deployment.service.provider
    return DeployedService(
        deployment=deployment.public_id,
        service=deployment.service.public_id,
        provider_did=provider.identity.did,
        owner_id=provider.owner_id,
        active=deployment.active,
    )


def dataset_digest(*, ref: str) -> str | None:
    """The SHA-256 the app store records for the dataset (version or file) `ref`, when it
    exposes `dataset_digest(ref=...)` in `marketplace.data.selectors` or
    `marketplace.selectors`; None otherwise (the claimant's declared digest is then kept as
    given, and the curator checks it)."""
    if not _installed():
        return None
    import importlib

    for module in ("marketplace.data.selectors", "marketplace.selectors"):
        try:
            lookup = getattr(importlib.import_module(module), "dataset_digest", None)
        except ImportError:
            continue
        if callable(lookup):
            return lookup(ref=ref)
    return None


def bounty_post(*, claim, by, reward_cents: int) -> str | None:
    """Post a city-paid "verify_claim" bounty for `claim` (by the city's staff `by`): the
    task's public id, or None without the app store's bounties."""
    try:
        from marketplace.services.bounties import task_create
    except ImportError:
        return None
    task = task_create(
        by=by,
        kind="verify_claim",
        title=f"Verify impact claim {claim.public_id}",
        reward_cents=reward_cents,
        payer="city",
        city=claim.city,
        work=claim,
    )
    return task.public_id


def bounty_complete(*, task_ref: str, curator_user, result: str) -> bool:
    """Give the claim's open bounty to the curator who decided and mark it completed (the
    staff then pay it with the app store's `task_pay`). False when the task cannot be
    found or is no longer open."""
    try:
        from marketplace.models import Task, TaskStatus
        from marketplace.services.bounties import task_claimed, task_completed
    except ImportError:
        return False
    task = Task.objects.select_for_update().filter(public_id=task_ref).first()
    if task is None or task.status != TaskStatus.OPEN:
        return False
    task = task_claimed(task, by=curator_user)
    task_completed(task, result=result)
    return True


def service_labels(*, city, refs) -> dict[str, str]:
    """The names of the services deployed in `city` under the Deployment ids `refs` (one
    query), for the dashboard's "by service" figures; {} without the app store."""
    refs = [ref for ref in set(refs) if ref]
    if not _installed() or not refs:
        return {}
    from marketplace.models import Deployment

    return dict(
        Deployment.objects.filter(city=city, public_id__in=refs).values_list(
            "public_id", "service__name"
        )
    )

"""The operator's audits of a service version: a technical review and a legal (DPO) review,
each a bounty (`Task`) that an operator auditor claims and completes by recording the
review, signed by the auditor's DID on the network chain."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import ledger_append

from ..errors import AlreadyAudited, InvalidInput, NotAllowed, OwnService, WrongState
from ..models import (
    Audit,
    AuditKind,
    ServiceVersion,
    Task,
    TaskKind,
    TaskPayer,
    TaskStatus,
    Verdict,
    VersionStatus,
)
from ..permissions import can_manage_service, is_operator, owns_provider
from ._common import clean_text, provider_signer, sha256_text, signer_of
from .bounties import task_claimed, task_completed, task_new

TASK_KIND_OF = {
    AuditKind.TECHNICAL: TaskKind.AUDIT_TECHNICAL,
    AuditKind.LEGAL: TaskKind.AUDIT_LEGAL,
}
DEFAULT_AUDIT_REWARD_CENTS = 0


def audit_reward_cents(kind: str) -> int:
    """The bounty of an audit, paid by the operator (`SMARTB_AUDIT_REWARD_CENTS`, a dict by
    audit kind or one integer for both)."""
    setting = getattr(settings, "SMARTB_AUDIT_REWARD_CENTS", DEFAULT_AUDIT_REWARD_CENTS)
    return int(setting.get(kind, 0) if isinstance(setting, dict) else setting)


def _version_type() -> ContentType:
    return ContentType.objects.get_for_model(ServiceVersion)


def _locked_version(version: ServiceVersion) -> ServiceVersion:
    return (
        ServiceVersion.objects.select_for_update(of=("self",))
        .select_related("service__provider__owner", "service__provider__identity")
        .get(pk=version.pk)
    )


@transaction.atomic
def audit_request(*, version: ServiceVersion, by: User) -> list[Task]:
    """The provider asks the operator to audit a draft version: it goes into audit and the
    two audit tasks open (technical and legal, paid by the operator). Recorded on the network
    chain, signed by the provider's DID."""
    version = _locked_version(version)
    if not can_manage_service(by, version.service):
        raise NotAllowed(_("Only the provider's owner asks for an audit of its service."))
    if version.status != VersionStatus.DRAFT:
        raise WrongState(_("Only a draft version is sent to audit."))
    tasks = [
        task_new(
            by=by,
            kind=TASK_KIND_OF[kind],
            title=_("%(kind)s of %(service)s %(version)s")
            % {"kind": kind.label, "service": version.service.name, "version": version.label},
            reward_cents=audit_reward_cents(kind.value),
            payer=TaskPayer.OPERATOR,
            work=version,
        )
        for kind in AuditKind
    ]
    version.status = VersionStatus.IN_AUDIT
    version.save(update_fields=["status"])
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=provider_signer(version.service.provider),
        kind="marketplace.audit.request",
        payload={
            "version": version.public_id,
            "declaration": version.declaration_digest,
            "tasks": [
                {"task": t.public_id, "kind": t.kind, "reward_cents": t.reward_cents} for t in tasks
            ],
        },
    )
    return tasks


def audit_task(version: ServiceVersion, kind: str) -> Task | None:
    return (
        Task.objects.filter(kind=TASK_KIND_OF[kind], work_type=_version_type(), work_id=version.pk)
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def audit_record(
    *,
    version: ServiceVersion,
    auditor: User,
    kind: str,
    findings: str,
    verdict: str,
    reason: str = "",
) -> Audit:
    """Record the operator's technical or legal review of a version in audit, signed by the
    auditor's DID on the network chain (digests of the findings and reason, never text).

    Only the operator audits, never a service of a provider it owns; a failed review says
    why. Recording it claims the audit task if still open (a task another auditor claimed
    stays theirs) and completes it. A failed review rejects the version (its other audit
    task is cancelled); both passed make it offerable to cities.
    """
    version = _locked_version(version)
    if not is_operator(auditor):
        raise NotAllowed(_("Only the operator audits services."))
    if owns_provider(auditor, version.service.provider):
        raise OwnService()
    if kind not in AuditKind.values:
        raise InvalidInput(_("An audit is technical or legal."))
    if verdict not in Verdict.values:
        raise InvalidInput(_("A verdict is pass or fail."))
    findings = clean_text(findings, what=_("The findings"), max_length=20000)
    reason = clean_text(reason, what=_("The reason"), max_length=5000, required=False)
    if verdict == Verdict.FAIL and not reason:
        raise InvalidInput(_("A rejection says why."))
    if version.audits.filter(kind=kind).exists():
        raise AlreadyAudited()
    if version.status != VersionStatus.IN_AUDIT:
        raise WrongState(_("This version is not awaiting an audit."))
    task = audit_task(version, kind)
    if task is not None:
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status == TaskStatus.OPEN:
            task = task_claimed(task, by=auditor)
        elif task.status != TaskStatus.CLAIMED or task.claimant_id != auditor.pk:
            raise NotAllowed(_("Another auditor claimed this review."))
    audit = Audit(
        version=version,
        kind=kind,
        auditor=auditor,
        auditor_identity=signer_of(auditor),
        findings=findings,
        verdict=verdict,
        reason=reason,
        task=task,
    )
    _apply_verdict(version, audit)
    audit.entry = ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=audit.auditor_identity,
        kind="marketplace.audit.record",
        payload={
            "audit": audit.public_id,
            "version": version.public_id,
            "service": version.service.public_id,
            "declaration": version.declaration_digest,
            "kind": kind,
            "verdict": verdict,
            "findings": sha256_text(findings),
            "reason": sha256_text(reason) if reason else None,
            "task": task.public_id if task else None,
            "version_status": version.status,
        },
    )
    audit.save()
    if task is not None:
        task_completed(task, result=audit.public_id)
    return audit


def _apply_verdict(version: ServiceVersion, audit: Audit) -> None:
    if audit.verdict == Verdict.FAIL:
        version.status = VersionStatus.REJECTED
        version.status_reason = audit.reason[:300]
        version.save(update_fields=["status", "status_reason"])
        sibling = [k for k in AuditKind.values if k != audit.kind][0]
        Task.objects.filter(
            kind=TASK_KIND_OF[sibling],
            work_type=_version_type(),
            work_id=version.pk,
            status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED],
        ).update(status=TaskStatus.CANCELLED)
        return
    passed = set(version.audits.filter(verdict=Verdict.PASS).values_list("kind", flat=True))
    if passed | {audit.kind} == set(AuditKind.values):
        version.status = VersionStatus.AUDITED
        version.audited_at = timezone.now()
        version.save(update_fields=["status", "audited_at"])


@transaction.atomic
def version_suspend(*, version: ServiceVersion, by: User, reason: str) -> ServiceVersion:
    """The operator withdraws an audited version's audit (e.g. a flaw found since): no city
    may deploy or upgrade to it any more, and pending decisions to do so fail. Cities already
    running it keep it until they vote otherwise."""
    version = _locked_version(version)
    if not is_operator(by):
        raise NotAllowed(_("Only the operator withdraws an audit."))
    if version.status != VersionStatus.AUDITED:
        raise WrongState(_("Only an audited version can lose its audit."))
    reason = clean_text(reason, what=_("The reason"), max_length=300)
    version.status = VersionStatus.SUSPENDED
    version.status_reason = reason
    version.save(update_fields=["status", "status_reason"])
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=signer_of(by),
        kind="marketplace.version.suspend",
        payload={"version": version.public_id, "reason": sha256_text(reason)},
    )
    return version

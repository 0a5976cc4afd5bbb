import pytest

from marketplace.errors import (
    AlreadyAudited,
    InvalidInput,
    NotAllowed,
    NotQualified,
    OwnService,
    WrongState,
)
from marketplace.models import Audit, Task, TaskStatus, VersionStatus
from marketplace.services import audit_record, audit_request, task_claim
from marketplace.services._common import sha256_text
from tests.factories import UserFactory, provider_make, service_make, version_make

from .helpers import writes_nothing


@pytest.fixture
def in_audit(service):
    version = version_make(service=service)
    audit_request(version=version, by=service.provider.owner)
    return version


def review(version, auditor, kind="technical", verdict="pass", reason="", findings="RAS."):
    return audit_record(
        version=version,
        auditor=auditor,
        kind=kind,
        findings=findings,
        verdict=verdict,
        reason=reason,
    )


def status_of(version):
    version.refresh_from_db()
    return version.status


def test_both_reviews_passed_make_the_version_offerable(in_audit, auditor):
    technical = review(in_audit, auditor, "technical", findings="Chiffrement au repos vérifié.")
    assert status_of(in_audit) == VersionStatus.IN_AUDIT
    legal = review(in_audit, auditor, "legal")
    assert status_of(in_audit) == VersionStatus.AUDITED
    assert in_audit.is_offerable and in_audit.audited_at is not None
    entry = technical.entry
    assert (entry.chain.slug, entry.kind, entry.actor) == (
        "network",
        "marketplace.audit.record",
        auditor.primary_identity.did,
    )
    assert entry.payload["findings"] == sha256_text("Chiffrement au repos vérifié.")
    assert entry.payload["verdict"] == "pass" and entry.payload["reason"] is None
    assert legal.entry.payload["version_status"] == "audited"


def test_recording_a_review_claims_and_completes_its_task(in_audit, auditor):
    audit = review(in_audit, auditor)
    task = Task.objects.get(pk=audit.task_id)
    assert (task.kind, task.status, task.claimant) == (
        "audit_technical",
        TaskStatus.COMPLETED,
        auditor,
    )
    kinds = list(
        in_audit.entry.chain.entries.filter(
            payload__task=task.public_id, kind__startswith="marketplace.task"
        ).values_list("kind", flat=True)
    )
    assert kinds == ["marketplace.task.claim", "marketplace.task.complete"]


def test_a_review_claimed_by_another_auditor_is_theirs(in_audit, auditor):
    task = Task.objects.get(kind="audit_legal", work_id=in_audit.pk)
    task_claim(task=task, by=auditor)
    other = UserFactory(is_staff=True)
    with writes_nothing(), pytest.raises(NotAllowed):
        review(in_audit, other, "legal")
    assert review(in_audit, auditor, "legal").task == task


def test_a_rejection_needs_a_reason_and_rejects_the_version(in_audit, auditor):
    with writes_nothing(), pytest.raises(InvalidInput):
        review(in_audit, auditor, "legal", verdict="fail", reason=" ")
    audit = review(in_audit, auditor, "legal", verdict="fail", reason="Pas de base légale.")
    assert status_of(in_audit) == VersionStatus.REJECTED
    assert in_audit.status_reason == "Pas de base légale."
    assert audit.entry.payload["reason"] == sha256_text("Pas de base légale.")
    # The other review is moot: its task is cancelled, and nothing more can be recorded.
    assert Task.objects.get(kind="audit_technical", work_id=in_audit.pk).status == "cancelled"
    with writes_nothing(), pytest.raises(WrongState):
        review(in_audit, auditor, "technical")


def test_only_the_operator_audits(in_audit, resident, staff):
    for someone in (resident.user, staff):
        with writes_nothing(), pytest.raises(NotAllowed):
            review(in_audit, someone)


def test_a_provider_never_audits_its_own_service(operator):
    # The operator's own account owns a provider: its services are audited by someone else.
    provider = provider_make(owner=operator, by=operator)
    version = version_make(service=service_make(provider=provider))
    audit_request(version=version, by=operator)
    with writes_nothing(), pytest.raises(OwnService):
        review(version, operator)
    with writes_nothing(), pytest.raises(NotQualified):
        task_claim(task=Task.objects.filter(work_id=version.pk).first(), by=operator)


def test_each_review_is_recorded_once(in_audit, auditor):
    review(in_audit, auditor)
    other = UserFactory(is_staff=True)
    with writes_nothing(), pytest.raises(AlreadyAudited):
        review(in_audit, other)
    assert Audit.objects.filter(version=in_audit).count() == 1


def test_a_draft_is_not_audited_before_it_is_sent(service, auditor):
    draft = version_make(service=service)
    with writes_nothing(), pytest.raises(WrongState):
        review(draft, auditor)


def test_a_new_version_needs_new_audits(version, auditor):
    second = version_make(service=version.service)
    assert second.status == VersionStatus.DRAFT
    assert not second.audits.exists()
    audit_request(version=second, by=version.service.provider.owner)
    review(second, auditor, "technical")
    assert status_of(second) == VersionStatus.IN_AUDIT
    assert status_of(version) == VersionStatus.AUDITED


@pytest.mark.parametrize("change", [{"kind": "vibes"}, {"verdict": "maybe"}, {"findings": ""}])
def test_a_review_is_well_formed(in_audit, auditor, change):
    with writes_nothing(), pytest.raises(InvalidInput):
        review(in_audit, auditor, **change)

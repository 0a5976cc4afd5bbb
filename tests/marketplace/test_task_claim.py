import pytest

from marketplace.errors import NotQualified, WrongState
from marketplace.models import Task, TaskStatus
from marketplace.services import audit_request, task_claim, task_create
from tests.factories import UserFactory, version_make

from .helpers import writes_nothing


@pytest.fixture
def audit_tasks(service):
    version = version_make(service=service)
    return audit_request(version=version, by=service.provider.owner)


def test_an_operator_auditor_claims_an_audit(audit_tasks, auditor):
    task = task_claim(task=audit_tasks[0], by=auditor)
    assert (task.status, task.claimant, task.claimant_identity) == (
        TaskStatus.CLAIMED,
        auditor,
        auditor.primary_identity,
    )
    entry = Task.objects.get(pk=task.pk)
    assert entry.claimed_at is not None


def test_the_provider_and_non_operators_are_not_qualified_to_audit(
    audit_tasks, service, resident, staff
):
    for someone in (service.provider.owner, resident.user, staff):
        with writes_nothing(), pytest.raises(NotQualified):
            task_claim(task=audit_tasks[0], by=someone)


def test_one_claimant_the_first(audit_tasks, auditor):
    task_claim(task=audit_tasks[0], by=auditor)
    other = UserFactory(is_staff=True)
    with writes_nothing(), pytest.raises(WrongState):
        task_claim(task=audit_tasks[0], by=other)


def test_a_city_task_is_for_the_city_members(city, other_city, staff, resident, operator):
    from tests.governance.helpers import appoint

    task = task_create(
        by=staff, kind="verify_claim", title="t", reward_cents=10, payer="city", city=city
    )
    stranger = appoint(other_city, operator).user
    with writes_nothing(), pytest.raises(NotQualified):
        task_claim(task=task, by=stranger)
    assert task_claim(task=task, by=resident.user).claimant == resident.user

import pytest

from marketplace.errors import InvalidInput, NotAllowed, WrongState
from marketplace.models import TaskStatus
from marketplace.services import audit_request, task_claim, task_complete, task_create
from tests.factories import version_make
from tests.governance.helpers import city_transactions

from .helpers import writes_nothing

DIGEST = "a" * 64


@pytest.fixture
def claimed(city, staff, resident):
    task = task_create(
        by=staff, kind="verify_claim", title="t", reward_cents=700, payer="city", city=city
    )
    return task_claim(task=task, by=resident.user)


def test_the_claimant_completes_with_the_digest_of_its_work(city, claimed, resident):
    task = task_complete(task=claimed, by=resident.user, result=DIGEST)
    assert task.status == TaskStatus.COMPLETED and task.completed_at is not None
    entry = city_transactions(city, "marketplace.task.complete").get()
    assert entry.actor == resident.identity.did
    assert entry.payload == {"task": task.public_id, "result": DIGEST}


def test_only_the_claimant_and_only_once(claimed, staff, resident):
    with writes_nothing(), pytest.raises(NotAllowed):
        task_complete(task=claimed, by=staff, result=DIGEST)
    task_complete(task=claimed, by=resident.user, result=DIGEST)
    with writes_nothing(), pytest.raises(WrongState):
        task_complete(task=claimed, by=resident.user, result=DIGEST)


def test_the_result_is_an_id_not_text(claimed, resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        task_complete(task=claimed, by=resident.user, result="J'ai tout vérifié.")


def test_an_audit_task_completes_with_its_audit(service, auditor):
    version = version_make(service=service)
    task = audit_request(version=version, by=service.provider.owner)[0]
    task_claim(task=task, by=auditor)
    with writes_nothing(), pytest.raises(WrongState):
        task_complete(task=task, by=auditor, result=DIGEST)

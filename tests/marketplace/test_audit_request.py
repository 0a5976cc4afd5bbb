import pytest
from django.test import override_settings

from marketplace.errors import NotAllowed, WrongState
from marketplace.models import TaskPayer, TaskStatus, VersionStatus
from marketplace.services import audit_request
from marketplace.services.bounties import task_work
from tests.factories import version_make

from .helpers import writes_nothing


@override_settings(SMARTB_AUDIT_REWARD_CENTS={"technical": 30_000, "legal": 20_000})
def test_asking_for_an_audit_opens_the_two_audit_tasks(service):
    version = version_make(service=service)
    tasks = audit_request(version=version, by=service.provider.owner)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_AUDIT
    assert sorted((t.kind, t.reward_cents) for t in tasks) == [
        ("audit_legal", 20_000),
        ("audit_technical", 30_000),
    ]
    for task in tasks:
        assert (task.status, task.payer, task.city) == (TaskStatus.OPEN, TaskPayer.OPERATOR, None)
        assert task_work(task) == version
    entry = version.service.provider.identity
    recorded = version.entry.chain.entries.get(kind="marketplace.audit.request")
    assert recorded.actor == entry.did
    assert recorded.payload["version"] == version.public_id
    assert recorded.payload["declaration"] == version.declaration_digest
    assert {t["task"] for t in recorded.payload["tasks"]} == {t.public_id for t in tasks}


def test_only_the_provider_asks_and_only_once(service, operator):
    version = version_make(service=service)
    with writes_nothing(), pytest.raises(NotAllowed):
        audit_request(version=version, by=operator)
    audit_request(version=version, by=service.provider.owner)
    with writes_nothing(), pytest.raises(WrongState):
        audit_request(version=version, by=service.provider.owner)

"""The Celery task that records platform-run executions: by id, idempotent."""

import pytest

from marketplace.models import ContractExecution, Deployment, Fee
from marketplace.tasks import record_platform_execution
from smartb.celery import app as celery_app

from .helpers import decide


@pytest.fixture
def eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_the_task_records_once_however_often_it_runs(city, mayor, version, eager):
    decide(mayor, version)
    deployment = Deployment.objects.get()
    first = record_platform_execution.delay(deployment.pk, "nightly-1").get()
    assert record_platform_execution.delay(deployment.pk, "nightly-1").get() == first
    assert ContractExecution.objects.get().public_id == first
    assert Fee.objects.filter(kind="execution").count() == 1
    assert record_platform_execution.delay(10**9, "nightly-1").get() is None

"""Simultaneous recordings on PostgreSQL: an execution recorded twice at once is charged
once; different executions are all charged; two decisions deploying one service deploy it
once. The city's ledger stays one gap-free log that verifies."""

from __future__ import annotations

from unittest import mock

import pytest

from governance.services import proposal_execute
from marketplace.models import ContractExecution, Deployment, Fee
from marketplace.services import execution_record
from tests.conftest import require_postgres
from tests.governance.helpers import balance, city_transactions, ledger_verifies
from tests.governance.test_concurrency import run_together

from .helpers import accept, decide, propose

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


@pytest.fixture
def deployment(city, mayor, version):
    decide(mayor, version)
    return Deployment.objects.get(city=city)


def test_one_execution_recorded_at_once_many_times_is_charged_once(city, deployment):
    owner = deployment.service.provider.owner
    failures = run_together(
        lambda n: execution_record(deployment=deployment, reference="same-run", by=owner)
    )
    assert failures == []
    assert ContractExecution.objects.count() == 1
    assert Fee.objects.filter(kind="execution").count() == 1
    assert balance(city, "bank") == 10_000 + 25
    assert city_transactions(city, "marketplace.execution.record").count() == 1


def test_different_executions_at_once_are_all_charged(city, deployment):
    owner = deployment.service.provider.owner
    failures = run_together(
        lambda n: execution_record(deployment=deployment, reference=f"run-{n}", by=owner)
    )
    assert failures == []
    assert ContractExecution.objects.count() == 8
    assert balance(city, "bank") == 10_000 + 8 * 25
    indexes = list(city_transactions(city).values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def test_two_decisions_deploying_one_service_deploy_it_once(city, mayor, version):
    # Both drafted and accepted before either runs (not executed on commit, as in production).
    drafts = [propose(mayor, version) for _ in range(2)]
    with mock.patch("governance.tasks.execute_proposal.delay"):
        proposals = [accept(proposal, [mayor]) for proposal in drafts]
    failures = run_together(lambda n: proposal_execute(proposal=proposals[n]), count=2)
    assert failures == []
    statuses = sorted(p.__class__.objects.get(pk=p.pk).status for p in proposals)
    assert statuses == ["executed", "failed"]
    assert Deployment.objects.count() == 1 and Fee.objects.count() == 1
    assert balance(city, "bank") == 10_000

import pytest

from governance.services import proposal_execute
from marketplace.errors import InvalidInput, NotAllowed, WrongState
from marketplace.models import Task, TaskStatus
from marketplace.services import task_claim, task_complete, task_create, task_pay
from tests.governance.helpers import balance, city_transactions, draft, fund

from .helpers import accept, writes_nothing

DIGEST = "b" * 64


def completed(task, by):
    task_claim(task=task, by=by)
    return task_complete(task=task, by=by, result=DIGEST)


@pytest.fixture
def city_task(city, staff, resident):
    task = task_create(
        by=staff, kind="verify_claim", title="t", reward_cents=700, payer="city", city=city
    )
    return completed(task, resident.user)


def fund_project_for(city, mayor, did, amount):
    fund(city, 100_000)
    proposal = accept(draft(mayor, "fund_project", amount_cents=amount, recipient=did), [mayor])
    return proposal_execute(proposal=proposal)


def test_the_operator_pays_its_bounty_with_a_signed_record(operator, resident):
    task = task_create(
        by=operator, kind="curate_dataset", title="t", reward_cents=5_000, payer="operator"
    )
    task = task_pay(task=completed(task, resident.user), by=operator)
    assert task.status == TaskStatus.PAID and task.paid_at is not None
    entry = task.payment_entry
    assert (entry.chain.slug, entry.kind, entry.actor) == (
        "network",
        "marketplace.task.pay",
        operator.primary_identity.did,
    )
    assert entry.payload == {
        "task": task.public_id,
        "payee": resident.identity.did,
        "amount_cents": 5_000,
        "payer": "operator",
    }


def test_a_city_without_a_decision_owes_the_reward(city, city_task, staff):
    task = task_pay(task=city_task, by=staff)
    assert task.status == TaskStatus.OWED and task.paid_at is None
    assert city_transactions(city, "marketplace.task.owe").get().payload["amount_cents"] == 700
    with writes_nothing(), pytest.raises(WrongState):
        task_pay(task=task, by=staff)


def test_a_city_pays_through_an_executed_fund_project(city, city_task, staff, mayor, resident):
    task_pay(task=city_task, by=staff)
    bank_before = balance(city, "bank")
    decision = fund_project_for(city, mayor, resident.identity.did, 700)
    assert balance(city, "bank") == bank_before + 100_000 - 700
    task = task_pay(task=Task.objects.get(pk=city_task.pk), by=staff, proposal=decision)
    assert (task.status, task.funding_proposal) == (TaskStatus.PAID, decision)
    assert task.payment_entry.payload["proposal"] == decision.public_id
    assert task.payment_entry.chain == city.chain


def test_the_decision_must_pay_this_reward_to_this_claimant(city, city_task, staff, mayor):
    wrong_payee = fund_project_for(city, mayor, mayor.identity.did, 700)
    with writes_nothing(), pytest.raises(WrongState):
        task_pay(task=city_task, by=staff, proposal=wrong_payee)


def test_a_decision_pays_one_task(city, staff, mayor, resident):
    tasks = [
        completed(
            task_create(
                by=staff, kind="verify_claim", title="t", reward_cents=700, payer="city", city=city
            ),
            resident.user,
        )
        for _ in range(2)
    ]
    decision = fund_project_for(city, mayor, resident.identity.did, 700)
    task_pay(task=tasks[0], by=staff, proposal=decision)
    with writes_nothing(), pytest.raises(WrongState):
        task_pay(task=tasks[1], by=staff, proposal=decision)


def test_an_unexecuted_decision_pays_nothing(city, city_task, staff, mayor, resident):
    proposal = draft(mayor, "fund_project", amount_cents=700, recipient=resident.identity.did)
    with writes_nothing(), pytest.raises(WrongState):
        task_pay(task=city_task, by=staff, proposal=proposal)


def test_only_the_payer_settles_and_only_completed_work(city, city_task, resident, operator):
    with writes_nothing(), pytest.raises(NotAllowed):
        task_pay(task=city_task, by=resident.user)
    with writes_nothing(), pytest.raises(NotAllowed):
        task_pay(task=city_task, by=operator)
    fresh = task_create(
        by=operator, kind="curate_dataset", title="t", reward_cents=1, payer="operator"
    )
    with writes_nothing(), pytest.raises(WrongState):
        task_pay(task=fresh, by=operator)


def test_the_operator_needs_no_city_decision(operator, resident, city, mayor):
    task = task_create(
        by=operator, kind="curate_dataset", title="t", reward_cents=1, payer="operator"
    )
    task = completed(task, resident.user)
    decision = fund_project_for(city, mayor, resident.identity.did, 1)
    with writes_nothing(), pytest.raises(InvalidInput):
        task_pay(task=task, by=operator, proposal=decision)

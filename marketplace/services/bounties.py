"""Incentive tasks (bounties): open → claimed → completed → paid (or owed, then paid).

A task's transactions go to its city's chain, or to the network chain for a network task.
The operator pays its bounties off-platform and records the payment, signed. A city pays
only through an executed `fund_project` decision paying the reward to the claimant (the
treasury moved the money when the decision was executed); until then the amount is owed.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City, Proposal, ProposalKind, ProposalStatus
from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import ledger_append

from ..errors import InvalidInput, NotAllowed, NotQualified, WrongState
from ..models import Task, TaskKind, TaskPayer, TaskStatus
from ..permissions import (
    AUDIT_TASK_KINDS,
    can_complete_task,
    can_create_task,
    can_pay_task,
    is_qualified_for,
)
from ._common import TOKEN, clean_cents, clean_text, signer_of, work_ref


def task_chain(task: Task):
    return task.city.chain if task.city_id else NETWORK_CHAIN_SLUG


def task_work(task: Task) -> models.Model | None:
    """The object the task's work is about (e.g. the ServiceVersion to audit), or None."""
    if task.work_type_id is None:
        return None
    return task.work_type.model_class()._default_manager.filter(pk=task.work_id).first()


def task_new(
    *,
    by: User,
    kind: str,
    title: str,
    reward_cents: int,
    payer: str,
    city: City | None = None,
    work: models.Model | None = None,
) -> Task:
    """Build and save a task without checks nor ledger transaction: for services that record
    the task's creation in their own transaction (e.g. `audit_request`)."""
    if kind not in TaskKind.values:
        raise InvalidInput(_("Unknown kind of task."))
    if payer not in TaskPayer.values:
        raise InvalidInput(_("A task is paid by the operator or by a city."))
    if payer == TaskPayer.CITY and city is None:
        raise InvalidInput(_("A task paid by a city names the city."))
    return Task.objects.create(
        kind=kind,
        title=clean_text(title, what=_("The title"), max_length=200),
        reward_cents=clean_cents(reward_cents, what=_("The reward")),
        payer=payer,
        city=city,
        work_type=ContentType.objects.get_for_model(work) if work is not None else None,
        work_id=work.pk if work is not None else None,
        created_by=by,
    )


def task_created_payload(task: Task, work: models.Model | None = None) -> dict:
    return {
        "task": task.public_id,
        "kind": task.kind,
        "reward_cents": task.reward_cents,
        "payer": task.payer,
        "city": task.city.slug if task.city_id else None,
        "work": work_ref(work),
    }


@transaction.atomic
def task_create(
    *,
    by: User,
    kind: str,
    title: str,
    reward_cents: int,
    payer: str,
    city: City | None = None,
    work: models.Model | None = None,
) -> Task:
    """Post a bounty: the operator posts the ones it pays, a city's municipality staff the
    city's. Recorded on the task's chain, signed by `by`."""
    if not can_create_task(by, payer=payer, city=city):
        raise NotAllowed(
            _("The operator posts the bounties it pays; a city's staff post the city's.")
        )
    task = task_new(
        by=by, kind=kind, title=title, reward_cents=reward_cents, payer=payer, city=city, work=work
    )
    ledger_append(
        chain=task_chain(task),
        actor=signer_of(by),
        kind="marketplace.task.create",
        payload=task_created_payload(task, work),
    )
    return task


def _locked(task: Task) -> Task:
    return (
        Task.objects.select_for_update(of=("self",)).select_related("city__chain").get(pk=task.pk)
    )


def task_claimed(task: Task, *, by: User) -> Task:
    """Give a locked, open task to `by` (qualification already checked) and record it."""
    identity = signer_of(by)
    task.status = TaskStatus.CLAIMED
    task.claimant = by
    task.claimant_identity = identity
    task.claimed_at = timezone.now()
    task.save(update_fields=["status", "claimant", "claimant_identity", "claimed_at"])
    ledger_append(
        chain=task_chain(task),
        actor=identity,
        kind="marketplace.task.claim",
        payload={"task": task.public_id, "claimant": identity.did},
    )
    return task


@transaction.atomic
def task_claim(*, task: Task, by: User) -> Task:
    """A qualified member takes an open task (one claimant: the first wins). For an audit, a
    qualified member is an operator auditor who is not the provider of the service."""
    task = _locked(task)
    if task.status != TaskStatus.OPEN:
        raise WrongState(_("This task is not open any more."))
    if not is_qualified_for(by, task, work=task_work(task)):
        raise NotQualified()
    return task_claimed(task, by=by)


def task_completed(task: Task, *, result: str) -> Task:
    """Mark a locked, claimed task completed, signed by its claimant; `result` names or
    digests what was delivered (an id or a SHA-256)."""
    task.status = TaskStatus.COMPLETED
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at"])
    ledger_append(
        chain=task_chain(task),
        actor=task.claimant_identity,
        kind="marketplace.task.complete",
        payload={"task": task.public_id, "result": result},
    )
    return task


@transaction.atomic
def task_complete(*, task: Task, by: User, result: str) -> Task:
    """The claimant declares the work done, naming what it delivered (`result`: an id or the
    SHA-256 of the deliverable, never text). An audit task completes when its audit is
    recorded (`audit_record`), not here."""
    task = _locked(task)
    if task.kind in AUDIT_TASK_KINDS:
        raise WrongState(_("An audit task completes when its audit is recorded."))
    if task.status != TaskStatus.CLAIMED:
        raise WrongState(_("Only a claimed task can be completed."))
    if not can_complete_task(by, task):
        raise NotAllowed(_("Only the task's claimant completes it."))
    if not isinstance(result, str) or not TOKEN.match(result):
        raise InvalidInput(_("Name the result by an id or a SHA-256 digest."))
    return task_completed(task, result=result)


def _funding_checked(task: Task, proposal: Proposal) -> Proposal:
    proposal = Proposal.objects.filter(pk=proposal.pk).first()
    if (
        proposal is None
        or proposal.city_id != task.city_id
        or proposal.kind != ProposalKind.FUND_PROJECT
        or proposal.status != ProposalStatus.EXECUTED
    ):
        raise WrongState(_("The payment needs an executed fund_project decision of this city."))
    parameters = proposal.parameters or {}
    if (
        parameters.get("recipient") != task.claimant_identity.did
        or parameters.get("amount_cents") != task.reward_cents
    ):
        raise WrongState(_("That decision did not pay this reward to this task's claimant."))
    if Task.objects.filter(funding_proposal=proposal).exists():
        raise WrongState(_("That decision already paid another task."))
    return proposal


@transaction.atomic
def task_pay(*, task: Task, by: User, proposal: Proposal | None = None) -> Task:
    """Settle a completed task, with a signed record on its chain.

    The operator pays its own bounties (off-platform) and records the payment. A city's
    staff settle a city's bounty: with `proposal`, an executed fund_project of the city that
    paid exactly the reward to the claimant's DID, the task is paid; without one, the amount
    is recorded as owed (money leaves a treasury only through an executed decision).
    """
    task = _locked(task)
    if task.status not in (TaskStatus.COMPLETED, TaskStatus.OWED):
        raise WrongState(_("Only a completed task is paid."))
    if not can_pay_task(by, task):
        raise NotAllowed(_("Only the task's payer settles it."))
    payload = {
        "task": task.public_id,
        "payee": task.claimant_identity.did,
        "amount_cents": task.reward_cents,
        "payer": task.payer,
    }
    if task.payer == TaskPayer.CITY and proposal is None:
        if task.status == TaskStatus.OWED:
            raise WrongState(_("This reward is already owed: pay it through a decision."))
        task.status = TaskStatus.OWED
        kind = "marketplace.task.owe"
    else:
        if task.payer == TaskPayer.CITY:
            proposal = _funding_checked(task, proposal)
            task.funding_proposal = proposal
            payload["proposal"] = proposal.public_id
        elif proposal is not None:
            raise InvalidInput(_("The operator pays its bounties without a city decision."))
        task.status = TaskStatus.PAID
        task.paid_at = timezone.now()
        kind = "marketplace.task.pay"
    task.payment_entry = ledger_append(
        chain=task_chain(task), actor=signer_of(by), kind=kind, payload=payload
    )
    task.save(update_fields=["status", "paid_at", "funding_proposal", "payment_entry"])
    return task

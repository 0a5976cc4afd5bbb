"""A Celery worker killed with SIGKILL in the middle of a task (sealing, sending a purge
request, closing votes, paying a project), inside the task's open database transaction.

Each test holds the task at its pause point (`smartb.outbox.fault_pause`) after the task has
written its effect but before it commits, kills the worker there, checks that nothing of the
effect is left, starts a new worker and checks that the task ran again (the message was
acknowledged late, so the broker hands it to the next worker) with its effect exactly once,
and that the city's ledger still verifies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from governance.models import Movement, Proposal
from governance.services import city_create, vote_cast
from governance.tasks import close_due_proposals
from identity.models import Notification
from ledger.models import Block, Transaction
from ledger.services import actor_register, chain_create, ledger_append
from ledger.signing import KeySigner
from marketplace.data.models import PurgeRequest
from marketplace.data.services.consents import consent_revoke
from smartb.models import OutboxMessage
from tests.factories import UserFactory, dataset_make, hosted_csv
from tests.governance.helpers import POSTAL_CODES, appoint, balance, close, draft, fund, join
from tests.governance.helpers import open_vote as vote_open
from tests.marketplace_contracts.helpers import (
    PERSONAL_POLICY,
    agree,
    answer,
    consent_of,
    download,
    offer_make,
    personal_csv,
)

from .conftest import ledger_verifies, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(module_workers):
    return module_workers


GRACE_SECONDS = 0.5  # after the effect shows, time for a stray second delivery to run


def kill_mid_task_then_restart(workers, point: str, trigger, *, nothing_left, done) -> None:
    """Hold `point`, `trigger()` the task, kill the worker when it holds, check
    `nothing_left()`, release, start another worker and wait until `done()`. The new worker
    stays up for the next test."""
    workers.hold(point)
    victim = workers.running[-1] if workers.running else workers.start()
    trigger()
    workers.wait_reached(point)
    workers.kill(victim)
    assert nothing_left(), "the killed worker's uncommitted effect is visible"
    workers.release(point)
    workers.start()
    wait_for(done, 90, f"the task to run again after the kill\n{workers.output()}")
    time.sleep(GRACE_SECONDS)


def governance_world():
    city = city_create(
        operator=UserFactory(is_staff=True), slug="faults", name="Faults", postal_codes=POSTAL_CODES
    )
    return city, appoint(city, UserFactory(is_staff=True))


def outbox_rows(task: str):
    return OutboxMessage.objects.filter(task=task)


def test_sealing(workers, settings):
    settings.SMARTB_SEAL_BATCH_SIZE = 3
    signer = KeySigner(Ed25519PrivateKey.generate())
    actor_register(did=signer.did)
    chain = chain_create(slug="faults-seal", name="Faults")
    for n in range(2):
        ledger_append(chain=chain, actor=signer, kind="test.faults.append", payload={"n": n})

    def trigger():
        with transaction.atomic():  # the third append owes the seal (an outbox row)
            ledger_append(chain=chain, actor=signer, kind="test.faults.append", payload={"n": 2})

    kill_mid_task_then_restart(
        workers,
        "ledger.tasks.seal_chain",
        trigger,
        nothing_left=lambda: not Block.objects.filter(chain=chain).exists(),
        done=lambda: not outbox_rows("ledger.tasks.seal_chain").filter(done_at=None).exists(),
    )
    (block,) = Block.objects.filter(chain=chain)
    assert (block.height, block.tree_size) == (0, 3)
    assert outbox_rows("ledger.tasks.seal_chain").count() == 1
    ledger_verifies(chain.slug)


def test_paying_a_project(workers):
    city, mayor = governance_world()
    fund(city, 10_000)
    proposal = vote_open(
        draft(mayor, "fund_project", amount_cents=2_500, recipient=mayor.identity.did), by=mayor
    )
    vote_cast(proposal=proposal, member=mayor, choice="yes")

    kill_mid_task_then_restart(
        workers,
        "governance.tasks.execute_proposal",
        lambda: close(proposal),  # accepted: owes its execution (an outbox row)
        nothing_left=lambda: not Movement.objects.filter(proposal=proposal).exists(),
        done=lambda: Proposal.objects.get(pk=proposal.pk).status == "executed",
    )
    assert Movement.objects.filter(proposal=proposal).count() == 1
    assert balance(city, "bank") == 7_500
    executions = Transaction.objects.filter(
        chain=city.chain, kind="governance.proposal.execute", payload__proposal=proposal.public_id
    )
    assert executions.count() == 1
    ledger_verifies(city.chain.slug)


def test_closing_votes(workers):
    city, mayor = governance_world()
    proposal = vote_open(draft(mayor), by=mayor)
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(seconds=1))

    kill_mid_task_then_restart(
        workers,
        "governance.tasks.close_due_proposals",
        lambda: close_due_proposals.delay(),  # what beat sends every minute
        nothing_left=lambda: Proposal.objects.get(pk=proposal.pk).status == "open",
        done=lambda: Proposal.objects.get(pk=proposal.pk).status == "executed",
    )
    for kind in ("governance.proposal.close", "governance.proposal.execute"):
        entries = Transaction.objects.filter(
            chain=city.chain, kind=kind, payload__proposal=proposal.public_id
        )
        assert entries.count() == 1, kind
    assert outbox_rows("governance.tasks.execute_proposal").count() == 1
    ledger_verifies(city.chain.slug)


def test_sending_a_purge_request(workers):
    city, mayor = governance_world()
    staff = mayor.user
    alice = join(city, "residents", by=staff)
    consumer = join(city, "providers", by=staff).user
    dataset = dataset_make(
        city=city,
        by=staff,
        is_personal=True,
        subject_dids=[alice.identity.did],
        files=[hosted_csv(personal_csv([alice]))],
    )
    agreement = agree(offer_make(dataset=dataset, by=staff, policy=PERSONAL_POLICY), consumer)
    answer(agreement, alice)
    download(agreement, consumer)

    def purge():
        return PurgeRequest.objects.filter(agreement=agreement).first()

    def notices():
        return Notification.objects.filter(key__startswith=f"data-purge:{purge().public_id}:")

    kill_mid_task_then_restart(
        workers,
        "marketplace.data.tasks.send_purge_request",
        # The revocation owes the purge request (an outbox row).
        lambda: consent_revoke(consent=consent_of(agreement, alice), user=alice.user),
        nothing_left=lambda: purge().attempts == 0 and not notices().exists(),
        done=lambda: purge().attempts >= 1,
    )
    assert (purge().status, purge().attempts) == ("sent", 1)
    assert list(notices().values_list("key", "user")) == [
        (f"data-purge:{purge().public_id}:1", consumer.pk)
    ]
    assert outbox_rows("marketplace.data.tasks.send_purge_request").get().done_at is not None
    ledger_verifies(city.chain.slug)

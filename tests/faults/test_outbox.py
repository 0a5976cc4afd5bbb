"""The transactional outbox (smartb.outbox), in-process: a task owed by a change exists if
and only if the change commits; a broker that refuses it leaves the row pending for the
relay; a message delivered twice does its work once. The same, with a real worker killed
half-way and a broker that goes away, is in test_worker_killed.py and test_redis_down.py."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from ledger.models import Block
from ledger.services import actor_register, ledger_append
from ledger.signing import KeySigner
from ledger.tasks import seal_chain
from smartb.celery import app as celery_app
from smartb.models import OutboxMessage
from smartb.outbox import (
    outbox_enqueue,
    outbox_prune,
    outbox_publish,
    outbox_relay,
    task_id_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signer(db):
    signer = KeySigner(Ed25519PrivateKey.generate())
    actor_register(did=signer.did)
    return signer


@pytest.fixture
def broker(settings):
    """Tasks go to a broker (mocked per test), not run in-process."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous


def append(chain, signer, n: int = 1) -> None:
    for position in range(n):
        ledger_append(chain=chain, actor=signer, kind="test.outbox.append", payload={"n": position})


def test_a_change_that_rolls_back_owes_no_task(chain, signer):
    with pytest.raises(RuntimeError), transaction.atomic():
        append(chain, signer)
        outbox_enqueue(seal_chain, chain.pk)
        raise RuntimeError("the service failed after the enqueue")
    assert not OutboxMessage.objects.exists()


def test_in_eager_mode_the_task_runs_at_the_commit_and_its_row_is_done(
    chain, signer, django_capture_on_commit_callbacks
):
    append(chain, signer, 3)
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(seal_chain, chain.pk)
    assert Block.objects.filter(chain=chain).count() == 1
    message.refresh_from_db()
    assert message.task == "ledger.tasks.seal_chain" and message.args == [chain.pk]
    assert message.done_at is not None and message.published_at is not None


def test_a_message_delivered_twice_does_its_work_once(chain, signer):
    append(chain, signer, 2)
    message = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    first = seal_chain.apply(args=[chain.pk], task_id=task_id_of(message.pk)).get()
    assert first == 0
    append(chain, signer)  # pending again: only the row's done mark stops a second seal
    assert seal_chain.apply(args=[chain.pk], task_id=task_id_of(message.pk)).get() is None
    assert Block.objects.filter(chain=chain).count() == 1
    # The same task outside the outbox (beat, by hand) is not held back by the row.
    assert seal_chain.apply(args=[chain.pk]).get() == 1


def test_a_task_that_fails_leaves_its_row_owed(chain, signer):
    append(chain, signer)
    message = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    with (
        mock.patch("ledger.tasks.chain_seal", side_effect=ValueError("boom")),
        pytest.raises(Retry),  # autoretry: the same task id comes back later
    ):
        seal_chain.apply(args=[chain.pk], task_id=task_id_of(message.pk), throw=True)
    message.refresh_from_db()
    assert message.done_at is None
    assert not Block.objects.filter(chain=chain).exists()


def test_a_broker_that_refuses_the_task_leaves_the_row_pending_and_the_change_stands(
    chain, signer, broker, django_capture_on_commit_callbacks
):
    append(chain, signer)
    with (
        mock.patch.object(seal_chain, "apply_async", side_effect=BrokerDown("refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = outbox_enqueue(seal_chain, chain.pk)
    message.refresh_from_db()
    assert message.published_at is None and message.done_at is None
    assert message.publish_attempts == 1 and "refused" in message.last_error
    chain.refresh_from_db()
    assert chain.size == 1


def test_the_relay_publishes_what_the_broker_refused_once_it_is_back(chain, signer, broker):
    message = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    with mock.patch.object(seal_chain, "apply_async", side_effect=BrokerDown("down")):
        assert outbox_relay(grace=timedelta(0)) == 0
    with mock.patch.object(seal_chain, "apply_async") as publish:
        assert outbox_relay(grace=timedelta(0)) == 1
    publish.assert_called_once_with(args=[chain.pk], task_id=task_id_of(message.pk), retry=False)
    message.refresh_from_db()
    assert message.published_at is not None and message.publish_attempts == 2
    # Published and not yet done: left alone until REPUBLISH_AFTER.
    with mock.patch.object(seal_chain, "apply_async") as publish:
        assert outbox_relay() == 0
    publish.assert_not_called()


def test_publishing_a_done_row_again_is_harmless(chain, signer):
    append(chain, signer)
    message = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    assert outbox_publish(message.pk, message.task, message.args)  # eager: runs now
    assert Block.objects.filter(chain=chain).count() == 1


def test_rows_done_a_week_ago_are_forgotten(chain):
    old = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    OutboxMessage.objects.filter(pk=old.pk).update(done_at=timezone.now() - timedelta(days=8))
    recent = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    OutboxMessage.objects.filter(pk=recent.pk).update(done_at=timezone.now())
    owed = OutboxMessage.objects.create(task=seal_chain.name, args=[chain.pk])
    assert outbox_prune() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, owed.pk}

"""A transactional outbox: a Celery task owed by a state change leaves the database once.

`transaction.on_commit(lambda: task.delay(...))` loses the task when the broker is down at
the moment of the commit (or the process dies between the commit and the publish), and a
broker may deliver a message twice (a worker killed after the effect committed but before
the acknowledgement). The outbox closes both gaps:

1. `outbox_enqueue(task, *args)` writes an `OutboxMessage` row in the caller's transaction:
   the task is owed if and only if the change commits.
2. After the commit it is published with the task id `outbox-<row id>`. A broker error is
   logged and leaves the row pending; `outbox_relay` (Celery beat, every minute) publishes
   pending rows again, and re-publishes rows published long ago but never done (a message
   lost by a broker restarted without persistence).
3. The task (`base=OutboxTask`) locks its row, does its work and marks the row done in one
   database transaction: a second delivery of the same row finds it done and does nothing,
   and a worker killed half-way leaves neither the effect nor the mark, so the redelivered
   message (late acknowledgement) does the work once.

Tasks whose work is not one database transaction (e-mails, each sent in its own transaction
so a crash keeps those already sent marked) set `outbox_atomic = False`: the row is marked
done after they return, and their own keys make a second run send only what is still owed.

Eager mode (no broker: the demo, most tests) runs the task in-process at the commit with
`.delay()`, as before, lets its exceptions through, and marks the row done.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

TASK_ID_PREFIX = "outbox-"
# A row published this long ago and still not done is published again (its message lost).
REPUBLISH_AFTER = timedelta(minutes=10)
# A row not yet published is left this long to its own on-commit publish before the relay
# takes it (the relay would only publish it twice; the task would run once anyway).
RELAY_GRACE = timedelta(seconds=30)
# Done rows are kept this long (to look into an incident), then deleted by the relay.
KEEP_DONE = timedelta(days=7)
# After this many publications a row is left alone (logged): a task that fails every time.
MAX_PUBLISH_ATTEMPTS = 50


def outbox_enqueue(task: Task, *args) -> OutboxMessage:
    """Owe `task(*args)` once the current transaction commits (JSON arguments only)."""
    message = OutboxMessage.objects.create(task=task.name, args=list(args))
    message_id, name, arguments = message.pk, message.task, message.args
    transaction.on_commit(lambda: outbox_publish(message_id, name, arguments))
    return message


def task_id_of(message_id: int) -> str:
    return f"{TASK_ID_PREFIX}{message_id}"


def message_id_of(task_id: str | None) -> int | None:
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    try:
        return int(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return None


def outbox_publish(message_id: int, name: str, args: list) -> bool:
    """Send one row's task to the broker. False, and the row stays pending, when the broker
    cannot take it. In eager mode the task runs here and its exceptions propagate."""
    from .celery import app

    task = app.tasks[name]
    if app.conf.task_always_eager:
        # In-process, now, exactly as `.delay()` on commit did (and tests that patch `.delay`
        # still stop it): it has run once when this returns, so the row is done.
        task.delay(*args)
        now = timezone.now()
        OutboxMessage.objects.filter(pk=message_id).update(
            published_at=now, done_at=now, publish_attempts=F("publish_attempts") + 1
        )
        return True
    try:
        # No publish retries: the relay retries, and a request must not wait for Redis.
        task.apply_async(args=args, task_id=task_id_of(message_id), retry=False)
    except Exception as error:  # any broker failure: the row is the durable record
        logger.warning(
            "outbox: publishing %s #%s failed (%s); kept pending", name, message_id, error
        )
        OutboxMessage.objects.filter(pk=message_id).update(
            publish_attempts=F("publish_attempts") + 1, last_error=str(error)[:500]
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1, last_error=""
    )
    return True


def outbox_relay(
    *,
    grace: timedelta = RELAY_GRACE,
    republish_after: timedelta = REPUBLISH_AFTER,
    limit: int = 500,
) -> int:
    """Publish the rows still owed: never published (the broker was down at the commit) or
    published long ago and never done. Returns how many the broker took."""
    now = timezone.now()
    owed = (
        OutboxMessage.objects.filter(
            done_at__isnull=True, publish_attempts__lt=MAX_PUBLISH_ATTEMPTS
        )
        .filter(
            Q(published_at__isnull=True, created_at__lte=now - grace)
            | Q(published_at__lte=now - republish_after)
        )
        .order_by("pk")
        .values_list("pk", "task", "args")[:limit]
    )
    published = 0
    for message_id, name, args in list(owed):
        if outbox_publish(message_id, name, args):
            published += 1
        else:
            break  # the broker is down: the next run tries again
    return published


def outbox_prune(*, older_than: timedelta = KEEP_DONE) -> int:
    """Delete the rows done more than `older_than` ago. Returns how many."""
    deleted, _ = OutboxMessage.objects.filter(done_at__lt=timezone.now() - older_than).delete()
    return deleted


class OutboxTask(Task):
    """Base of the tasks published through the outbox (`@shared_task(base=OutboxTask)`).

    Called with an outbox task id, the task runs once per row; called any other way
    (`.delay()`, beat, a test) it runs as a plain task."""

    outbox_atomic = True

    def __call__(self, *args, **kwargs):
        message_id = message_id_of(self.request.id)
        if message_id is None:
            return super().__call__(*args, **kwargs)
        if not self.outbox_atomic:
            result = super().__call__(*args, **kwargs)
            OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
                done_at=timezone.now()
            )
            return result
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
            if message is None or message.done_at is not None:
                return None  # delivered again: the work is done
            result = super().__call__(*args, **kwargs)
            fault_pause(self.name)
            message.done_at = timezone.now()
            message.save(update_fields=["done_at"])
        return result


def fault_pause(point: str) -> None:
    """Test hook of tests/faults: hold here, inside the task's open transaction, while the
    file `hold-<point>` exists in `SMARTB_FAULT_PAUSE_DIR`, so a test can kill the worker
    half-way. Without that setting (everywhere but those tests) it does nothing."""
    directory = getattr(settings, "SMARTB_FAULT_PAUSE_DIR", None)
    if not directory:
        return
    hold = Path(directory) / f"hold-{point}"
    if not hold.exists():
        return
    (Path(directory) / f"reached-{point}").touch()
    deadline = time.monotonic() + 120
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)

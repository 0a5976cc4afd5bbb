"""Redis (the broker) down: pages that do not need it keep working, a change made meanwhile
commits and leaves its task pending in the outbox, and when Redis returns the relay publishes
it and a worker runs it; a task whose message Redis lost when it went down is published
again too.

A private redis-server (tests/faults/servers.py) plays the broker: the machine's shared one
is never stopped."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from kombu import pools as kombu_pools

from governance.models import Proposal
from governance.notifications import vote_opened_key
from governance.services import city_create
from identity.models import Notification
from smartb.celery import app as celery_app
from smartb.models import OutboxMessage
from smartb.outbox import outbox_relay
from tests.factories import UserFactory
from tests.governance.helpers import POSTAL_CODES, appoint, draft, join
from tests.governance.helpers import open_vote as vote_open

from .conftest import wait_for
from .servers import PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOTIFY = "governance.tasks.notify_vote_opened"


def _reset_broker_pools() -> None:
    """Forget this process's broker connections (kombu keeps them in global pools)."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str):
    """This process publishes to `url` (through the broker, not in-process) meanwhile."""
    conf = celery_app.conf
    previous = (conf.get("broker_write_url"), conf.task_always_eager)
    _reset_broker_pools()
    # The write URL: `broker_url` itself prefers the CELERY_BROKER_URL of the environment.
    conf.broker_write_url, conf.task_always_eager = url, False
    try:
        yield
    finally:
        _reset_broker_pools()
        conf.broker_write_url, conf.task_always_eager = previous


@pytest.fixture
def redis_broker(tmp_path, workers):
    server = PrivateRedis(tmp_path)
    workers.extra_env.update(CELERY_BROKER_URL=server.url, CELERY_RESULT_BACKEND=server.url)
    with broker_at(server.url):
        yield server
    server.stop()


def test_work_waits_in_the_outbox_while_redis_is_down_and_runs_when_it_returns(
    redis_broker, workers
):
    city = city_create(
        operator=UserFactory(is_staff=True), slug="faults", name="Faults", postal_codes=POSTAL_CODES
    )
    mayor = appoint(city, UserFactory(is_staff=True))
    join(city, "residents", by=mayor.user)
    # Published while Redis is up, no worker yet: the message sits in Redis...
    before = vote_open(draft(mayor), by=mayor)
    assert OutboxMessage.objects.get(task=NOTIFY, args=[before.pk]).published_at is not None
    redis_broker.stop()  # ...and is lost with it (no persistence)

    client = Client(raise_request_exception=False)
    client.force_login(mayor.user)
    for page in ("/", f"/c/{city.slug}/", "/ledger/", "/api/v1/ledger/chains/"):
        assert client.get(page).status_code == 200, page
    during = draft(mayor)
    closes_at = (timezone.now() + timedelta(hours=48)).isoformat()
    response = client.post(
        f"/api/v1/governance/cities/{city.slug}/proposals/{during.public_id}/open",
        {"closes_at": closes_at},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Proposal.objects.get(pk=during.pk).status == "open"  # the change stands
    pending = OutboxMessage.objects.get(task=NOTIFY, args=[during.pk])
    assert pending.published_at is None and pending.done_at is None and pending.last_error

    redis_broker.start()  # back, empty; this process's broker connections recover by themselves
    # What beat's relay_outbox does every minute (here without waiting for the delays).
    assert outbox_relay(grace=timedelta(0), republish_after=timedelta(0)) == 2
    workers.start()
    wait_for(
        lambda: not OutboxMessage.objects.filter(done_at=None).exists(),
        60,
        f"the worker to run the relayed tasks\n{workers.output()}",
    )
    for proposal in (before, during):
        assert Notification.objects.filter(key=vote_opened_key(proposal)).exists()

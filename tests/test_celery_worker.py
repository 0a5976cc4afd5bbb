"""A real Celery worker on Redis seals blocks: the production path, not the eager one.

Needs PostgreSQL (the worker, another process, must see the committed test data) and Redis.
On a laptop without them the test skips; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import connection, transaction

from ledger.models import Block
from ledger.services import actor_register, chain_create, ledger_append
from ledger.signing import KeySigner
from ledger.tasks import seal_chain
from smartb.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _require_services() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not settings.CELERY_BROKER_URL:
        missing.append("a Redis broker (CELERY_BROKER_URL)")
    if missing:
        reason = "needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the real-worker test: {reason}")
        pytest.skip(reason)


@pytest.fixture
def worker():
    _require_services()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smartb.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_QUEUE": queue,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "smartb",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if "Traceback" in (output or ""):
            print(output)


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _chain_with_entries(count: int):
    signer = KeySigner(Ed25519PrivateKey.generate())
    actor_register(did=signer.did)
    chain = chain_create(slug=f"worker-{uuid.uuid4().hex[:8]}", name="Worker test")
    for position in range(count):
        ledger_append(chain=chain, actor=signer, kind="test.worker.append", payload={"n": position})
    return chain, signer


def test_a_worker_seals_the_chain_when_the_batch_threshold_is_reached(worker, settings):
    settings.SMARTB_SEAL_BATCH_SIZE = 5
    chain, signer = _chain_with_entries(4)
    assert not Block.objects.filter(chain=chain).exists()
    with transaction.atomic():  # the fifth append queues the seal task on commit
        ledger_append(chain=chain, actor=signer, kind="test.worker.append", payload={"n": 4})
    assert _wait_for(lambda: Block.objects.filter(chain=chain).exists()), "no block sealed"
    block = Block.objects.get(chain=chain)
    assert block.height == 0
    assert block.tree_size == 5


def test_a_seal_task_delivered_twice_seals_once(worker):
    chain, _ = _chain_with_entries(3)
    seal_chain.delay(chain.pk)
    seal_chain.delay(chain.pk)
    assert _wait_for(lambda: Block.objects.filter(chain=chain).exists())
    time.sleep(1.5)  # let the second delivery run: it must find nothing to seal
    assert Block.objects.filter(chain=chain).count() == 1
    chain.refresh_from_db()
    assert chain.sealed_size == 3

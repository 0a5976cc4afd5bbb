"""Fixtures of the fault tests: real Celery workers to start and SIGKILL, and the checks that
every fault test ends with (the ledger verifies).

Workers and the test share PostgreSQL (the worker, another process, must see the committed
test data) and a Redis broker. Without them these tests skip on a laptop; in CI (CI=true)
they fail instead."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from smartb.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def require(*, postgres: bool = True, broker: bool = True) -> None:
    missing = []
    if postgres and connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if broker and not settings.CELERY_BROKER_URL:
        missing.append("a Redis broker (CELERY_BROKER_URL)")
    if missing:
        reason = "needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the fault tests: {reason}")
        pytest.skip(reason)


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def wait_for(condition, timeout: float = 60.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def ledger_verifies(slug: str) -> None:
    out, err = StringIO(), StringIO()
    call_command("ledger_verify", "--chain", slug, stdout=out, stderr=err)
    assert f"OK {slug}" in out.getvalue(), out.getvalue() + err.getvalue()


class Workers:
    """Start Celery workers on a private queue, hold a task at its pause point, kill -9."""

    def __init__(self, pause_dir: Path, queue: str, extra_env: dict | None = None):
        self.pause_dir = pause_dir
        self.queue = queue
        self.extra_env = extra_env or {}
        self.running: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DATABASE_URL": database_url(),
            "CELERY_QUEUE": self.queue,
            "SMARTB_FAULT_PAUSE_DIR": str(self.pause_dir),
            **self.extra_env,
        }
        log = self.pause_dir / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "smartb",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    self.queue,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--prefetch-multiplier=1",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    def hold(self, point: str) -> None:
        (self.pause_dir / f"hold-{point}").touch()

    def release(self, point: str) -> None:
        (self.pause_dir / f"hold-{point}").unlink(missing_ok=True)

    def wait_reached(self, point: str, timeout: float = 60.0) -> None:
        wait_for(
            (self.pause_dir / f"reached-{point}").exists,
            timeout,
            f"a worker to reach {point}\n{self.output()}",
        )

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no cleanup, no acknowledgement, the open transaction cut off."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()

    def output(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)


@contextmanager
def workers_on_a_private_queue(pause_dir: Path):
    """Workers on a private queue; this process publishes there, through the broker."""
    require()
    queue = f"faults-{uuid.uuid4().hex[:12]}"
    harness = Workers(pause_dir, queue)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield harness
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        harness.stop_all()
        # Leave no message behind (best effort: the queue is unique to these tests).
        with celery_app.connection_for_write() as conn, suppress(Exception):
            conn.default_channel.queue_delete(queue)
        if "Traceback" in harness.output():
            print(harness.output())


@pytest.fixture
def workers(tmp_path):
    with workers_on_a_private_queue(tmp_path) as harness:
        yield harness


@pytest.fixture(scope="module")
def module_workers(tmp_path_factory):
    """The same, kept for a whole module: the worker that recovers one test's task is the
    one the next test kills (one worker start saved per test)."""
    with workers_on_a_private_queue(tmp_path_factory.mktemp("workers")) as harness:
        yield harness

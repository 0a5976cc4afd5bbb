"""PostgreSQL restarted under load: every vote request either commits, answers 201 and gets
a receipt that verifies, or answers 503 with a message and leaves nothing; the app server
recovers by itself (no restart of gunicorn).

A private PostgreSQL (tests/faults/servers.py) gets a copy of the world the test built
(a city, its mayor and residents with API tokens, an open vote); gunicorn serves the app
against it with persistent, health-checked connections, as in production. Client threads
cast one vote per resident (12) through the API, retrying on 503 as a client following
Retry-After does; a third of the way in, PostgreSQL is stopped (fast: open transactions are
cut off) and started again."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from governance.services import city_create
from tests.factories import UserFactory
from tests.governance.helpers import POSTAL_CODES, appoint, draft, join
from tests.governance.helpers import open_vote as vote_open

from .conftest import ROOT, database_url, require, wait_for
from .servers import PrivatePostgres, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESIDENTS = 12
VERIFY = "/api/v1/ledger/receipts/verify"
CLIENTS = 3
DOWN_SECONDS = 1.0
RETRY_PAUSE = 0.2
MAX_ATTEMPTS = 100
SEAL_AND_VERIFY = (
    "from django.core.management import call_command; "
    "call_command('ledger_seal', '--chain', 'faults'); "
    "call_command('ledger_verify', '--chain', 'faults')"
)
VOTES_ON_THE_CHAIN = (
    "SELECT count(*) FROM ledger_transaction t JOIN ledger_chain c ON c.id = t.chain_id "
    "WHERE c.slug = 'faults' AND t.kind = 'governance.vote.cast'"
)


@pytest.fixture
def private_postgres():
    require(broker=False)
    server = PrivatePostgres()
    yield server
    server.destroy()


def server_env(db_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(
        DJANGO_SETTINGS_MODULE="smartb.settings.test",  # tasks in-process: no broker here
        DATABASE_URL=db_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    return env


def manage(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=server_env(db_url),
        capture_output=True,
        text=True,
        timeout=120,
    )


class Gunicorn:
    def __init__(self, db_url: str, log: Path):
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [str(Path(sys.executable).parent / "gunicorn"), "smartb.wsgi"]
                + ["--workers", "1", "--threads", str(CLIENTS + 1)]
                + ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"],
                cwd=ROOT,
                env=server_env(db_url),
                stdout=out,
                stderr=out,
            )
        wait_for(self._up, 60, "gunicorn to answer /healthz")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + self.log.read_text(errors="replace"))
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def request(self, method, path, body=None, token=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1", "Accept-Language": "en"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        data = response.read()
        if own:
            conn.close()
        return response.status, (json.loads(data) if data[:1] in (b"{", b"[") else data)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def test_votes_during_a_restart_commit_with_a_receipt_or_answer_503_and_write_nothing(
    private_postgres, tmp_path
):
    city = city_create(
        operator=UserFactory(is_staff=True), slug="faults", name="Faults", postal_codes=POSTAL_CODES
    )
    mayor = appoint(city, UserFactory(is_staff=True))
    residents = [join(city, "residents", by=mayor.user) for _ in range(RESIDENTS)]
    tokens = {m.identity.did: Token.objects.create(user=m.user).key for m in residents}
    proposal = vote_open(draft(mayor), by=mayor)
    path = f"/api/v1/governance/cities/{city.slug}/proposals/{proposal.public_id}"

    private_postgres.load_copy_of(database_url())
    app = Gunicorn(private_postgres.url, tmp_path / "gunicorn.log")
    answers: dict[str, list[tuple[int, object]]] = {did: [] for did in tokens}
    created = threading.Semaphore(0)

    def client(dids: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
        for did in dids:
            for _attempt in range(MAX_ATTEMPTS):
                try:
                    status, body = app.request(
                        "POST", f"{path}/votes", {"choice": "yes"}, tokens[did], conn
                    )
                except (OSError, http.client.HTTPException) as error:
                    status, body = 0, repr(error)  # the server closed a keep-alive connection
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
                answers[did].append((status, body))
                if status not in (0, 503):
                    created.release()
                    break
                time.sleep(RETRY_PAUSE)
        conn.close()

    dids = list(tokens)
    threads = [threading.Thread(target=client, args=(dids[n::CLIENTS],)) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(RESIDENTS // 3):
            assert created.acquire(timeout=60), "no vote went through before the restart"
        private_postgres.stop()
        time.sleep(DOWN_SECONDS)
        private_postgres.start()
        for thread in threads:
            thread.join(timeout=120)
        # Seal, then verify the whole chain, in one process (one Django start, not two).
        checked = manage(private_postgres.url, "shell", "-c", SEAL_AND_VERIFY)
        assert checked.returncode == 0 and "OK faults" in checked.stdout, (
            checked.stdout + checked.stderr
        )

        refused = 0
        for did, tries in answers.items():
            *failed, (status, body) = tries
            assert status == 201, (did, tries)
            for failed_status, failed_body in failed:
                assert failed_status in (0, 503), (did, tries)
                if failed_status == 503:
                    assert failed_body["error"]["code"] == "service_unavailable", failed_body
                    refused += 1
            # The receipt of the ballot the 201 answered verifies against the signed checkpoint.
            status, receipt = app.request("GET", f"{path}/receipt", token=tokens[did])
            assert status == 200, receipt
            assert receipt["tx_hash"] == body["entry"]["tx_hash"]
            status, check = app.request(
                "POST", "/api/v1/ledger/receipts/verify", {"receipt": receipt}
            )
            assert status == 200 and check["holds"], check
        assert refused > 0, "no request met the restart: the test proved nothing"

        # A 503 left nothing: one ballot and one signed vote per resident, no more (a vote
        # that had committed behind a 503 would show as a second, changed vote).
        votes = private_postgres.psql("smartb", VOTES_ON_THE_CHAIN)
        assert int(votes) == RESIDENTS
        print(f"{refused} requests answered 503 during the restart; {RESIDENTS} votes committed")
    finally:
        app.stop()
        log = (tmp_path / "gunicorn.log").read_text(errors="replace")
        if "Traceback" in log:
            print(log[-5000:])

"""Private PostgreSQL and Redis servers for the fault tests, started and stopped by the test
itself: the shared servers of the machine are never restarted or stopped.

PostgreSQL comes from the Debian binaries (`/usr/lib/postgresql/15/bin`), run as the
`postgres` user when the tests run as root (initdb refuses root), with its data directory in
a temporary directory, trust authentication and a free port. Redis is `redis-server` with no
persistence. Without the binaries the tests skip on a laptop and fail in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("SMARTB_PG_BIN", "/usr/lib/postgresql/15/bin"))


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the fault tests: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)  # noqa: S603


class PrivatePostgres:
    """One PostgreSQL cluster of our own: `stop()`/`start()` are the restart under test."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or not shutil.which("psql"):
            missing(f"needs PostgreSQL's binaries in {PG_BIN} and psql")
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="smartb-faults-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        if self.as_root:
            os.chmod(self.base, 0o755)  # noqa: S103 - the postgres user must enter it
            shutil.chown(self.base, "postgres")
        self._as_owner(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
        self.start()

    def _as_owner(self, command: list[str]) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return _run(prefix + command)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/smartb"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_owner(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "server.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )

    def stop(self) -> None:
        """Fast shutdown: open transactions are cut off, as in a restart for maintenance."""
        self._as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def psql(self, database: str, sql: str) -> str:
        return _run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
            + ["-v", "ON_ERROR_STOP=1", "-qAtc", sql]
        ).stdout.strip()

    def load_copy_of(self, source_url: str) -> None:
        """Create database `smartb` here as a copy (schema and rows) of `source_url`."""
        self.psql("postgres", "CREATE DATABASE smartb")
        dump = _run(["pg_dump", "--no-owner", "--no-privileges", "-d", source_url]).stdout
        _run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "smartb"]
            + ["-v", "ON_ERROR_STOP=1", "-q"],
            input=dump,
        )

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    """One redis-server of our own, no persistence: `stop()` loses every message."""

    def __init__(self, directory: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            missing("needs redis-server")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        command += ["--dir", str(self.directory)]
        self.process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

"""What the HTTP benchmarks share (`bench/governance.py`, `bench/appstore.py`,
`bench/impact.py`).

- the top level: a fresh database (a PostgreSQL database created on the server that
  DATABASE_URL names and dropped at the end, even after a failure; or a temporary SQLite file),
  one subprocess of the calling script on it (`spawn`, `run_top_level`), and the table
  (`table_row`, `print_table`);
- the measuring subprocess: its environment (`bench_env`), Django on the fresh database
  (`setup_django`), gunicorn on a free local port (`gunicorn`), the keep-alive load generator
  (`load`), percentiles and the raw Ed25519 rates of the machine (`raw_ed25519`).

Nothing here asserts on time. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()
PG_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def log(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99 (and the mean) in milliseconds of samples in seconds."""
    if len(samples_s) < 2:
        samples_s = samples_s * 2 or [0.0, 0.0]
    cuts = statistics.quantiles(samples_s, n=100, method="inclusive")
    return {
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
        "mean_ms": statistics.fmean(samples_s) * 1000,
    }


def raw_ed25519(seconds: float) -> dict:
    """Raw `cryptography` Ed25519 on this machine: signatures and verifications per second of
    a 200-byte message (about the size of a ledger transaction's signed bytes), each for
    `seconds` after a warm-up. The same method as `bench/ledger.py`."""
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = hashlib.sha256(b"smartb-bench").digest() * 6 + b"12345678"  # 200 bytes

    def rate(operation) -> float:
        for _ in range(200):  # warm-up
            operation()
        done, start = 0, time.perf_counter()
        while True:
            for _ in range(250):
                operation()
            done += 250
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return done / elapsed

    signature = key.sign(message)
    log(f"raw Ed25519: signing, then verifying, {seconds:.0f} s each")
    signs = rate(lambda: key.sign(message))
    verifies = rate(lambda: public.verify(signature, message))
    return {"sign_per_s": signs, "verify_per_s": verifies, "message_bytes": len(message)}


# --------------------------------------------------------------------------------------------
# The measuring subprocess
# --------------------------------------------------------------------------------------------


def bench_env(db_url: str) -> dict[str, str]:
    """The environment of the measuring subprocess and of its gunicorn."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "smartb.settings.base"
    env["DATABASE_URL"] = db_url
    env["SMARTB_SEAL_BATCH_SIZE"] = str(10**9)  # no auto-seal inside the timings
    env.pop("CELERY_BROKER_URL", None)  # no broker: Celery runs tasks eagerly
    env.pop("CELERY_RESULT_BACKEND", None)
    env["DJANGO_DEBUG"] = "false"  # as in production: no per-query SQL capture
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # no mail on stdout
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def setup_django(db_url: str) -> None:
    """Set up Django on `db_url` (settings read DATABASE_URL at import) and migrate it."""
    os.environ.update(bench_env(db_url))
    import django

    django.setup()
    from django.core.management import call_command

    log(f"migrating a fresh database ({db_url.split('://', 1)[0]})")
    call_command("migrate", verbosity=0)


def db_version() -> str:
    """The name and version of the database Django is connected to, e.g. "SQLite 3.40.1"."""
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(port: int, requests: list[tuple[str, str, bytes | None, dict]], clients: int) -> dict:
    """Send `requests` (method, path, body, headers) from `clients` threads, each on its own
    keep-alive connection; thread t sends requests t, t + clients, ... in order."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    reconnects = [0]
    lock = threading.Lock()

    def worker(t: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes, errors, again = [], {}, [], 0
        for method, path, body, headers in requests[t::clients]:
            for attempt in range(2):
                start = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except (http.client.RemoteDisconnected, ConnectionError) as error:
                    # The server closed an idle keep-alive connection: reconnect once.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    if attempt == 0:
                        again += 1
                        continue
                    errors.append(f"{type(error).__name__}: {error}")
                    break
                mine.append(time.perf_counter() - start)
                codes[response.status] = codes.get(response.status, 0) + 1
                if not 200 <= response.status < 300 and len(errors) < 5:
                    errors.append(f"{response.status}: {payload[:200]!r}")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                break
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n
            failures.extend(errors)
            reconnects[0] += again

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= code < 300)
    return {
        "requests": len(requests),
        "answered": len(latencies),
        "clients": clients,
        "seconds": elapsed,
        "per_s": len(latencies) / elapsed,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": non_2xx,
        "transport_errors": len(requests) - len(latencies),
        "reconnects": reconnects[0],
        "samples": failures[:5],
        **percentiles(latencies),
    }


@contextlib.contextmanager
def gunicorn(
    db_url: str,
    log_path: Path,
    *,
    tag: str,
    workers: int = 2,
    threads: int = 2,
    app: str = "smartb.wsgi",
) -> Iterator[int]:
    """Run `gunicorn smartb.wsgi` (or `app`, a gunicorn application spec) on
    127.0.0.1:<free port> against `db_url` (the bench environment, DEBUG off) until GET
    /healthz answers 200; yield the port; stop it after. Its output goes to `log_path`
    (`log_tail` reads its end)."""
    port = free_port()
    env = bench_env(db_url)
    env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    command = [str(Path(sys.executable).parent / "gunicorn"), app]
    command += ["--workers", str(workers), "--threads", str(threads)]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    log(f"{tag}: starting gunicorn on 127.0.0.1:{port} ({workers} workers x {threads} threads)")
    with log_path.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "gunicorn did not start: " + log_path.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log(f"{tag}: gunicorn stopped")


def log_tail(log_path: Path, lines: int = 12) -> list[str]:
    return log_path.read_text(errors="replace").strip().splitlines()[-lines:]


# --------------------------------------------------------------------------------------------
# Orchestration (top-level process)
# --------------------------------------------------------------------------------------------


def spawn(script: str, backend: str, db_url: str, quick: bool, workdir: Path) -> dict:
    """Run `script --backend ...` on `db_url` and read the JSON it writes."""
    out = workdir / f"{backend}.json"
    command = [sys.executable, str(Path(script).resolve()), "--backend", backend]
    command += ["--db-url", db_url, "--json-out", str(out)]
    if quick:
        command.append("--quick")
    log(f"starting the {backend} run in a subprocess")
    completed = subprocess.run(command, env=bench_env(db_url), cwd=REPO, check=False)
    result = json.loads(out.read_text()) if out.exists() else {"backend": backend}
    if completed.returncode != 0:
        result["error"] = f"subprocess exited with {completed.returncode}"
    return result


def pg_admin(url: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def run_postgres(script: str, db_name: str, server_url: str, quick: bool, workdir: Path) -> dict:
    """Create `db_name` on the server of `server_url`, run the script's subprocess on it, and
    drop it (WITH (FORCE)) even after a failure."""
    parts = urlsplit(server_url)
    if parts.path.strip("/") == db_name:
        return {"backend": "postgres", "error": f"DATABASE_URL already names {db_name}"}
    bench_url = urlunsplit(parts._replace(path="/" + db_name))
    drop = f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
    try:
        pg_admin(server_url, [drop, f"CREATE DATABASE {db_name}"])
    except Exception as error:  # noqa: BLE001 - report and stop
        return {"backend": "postgres", "error": f"cannot create {db_name}: {error}"}
    try:
        return spawn(script, "postgres", bench_url, quick, workdir)
    finally:
        try:
            pg_admin(server_url, [drop])
            log(f"dropped database {db_name}")
        except Exception as error:  # noqa: BLE001
            log(f"could not drop {db_name}: {error}")


def run_top_level(
    script: str, db_name: str, quick: bool, *, sqlite_note: str, prefix: str
) -> tuple[dict, list[float]]:
    """The top level of a benchmark: PostgreSQL when DATABASE_URL names a server, else a
    temporary SQLite file (saying so with `sqlite_note`). Returns the subprocess's figures
    and the 1-minute load average at the start and at the end."""
    load_avg = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        server = os.environ.get("DATABASE_URL", "")
        if server.startswith(PG_SCHEMES):
            result = run_postgres(script, db_name, server, quick, workdir)
        else:
            log(sqlite_note)
            sqlite_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            result = spawn(script, "sqlite", sqlite_url, quick, workdir)
    load_avg.append(os.getloadavg()[0])
    return result, load_avg


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

HEADER = ("figure", "backend", "throughput", "p50 ms", "p95 ms", "p99 ms", "ratio", "")
RIGHT = {2, 3, 4, 5}


def fmt_ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def table_row(figure: str, backend: str, rate="", lat=None, ratio="", extra="") -> tuple:
    """One row: `lat` is a dict with p50_ms/p95_ms/p99_ms (or None)."""
    lat = lat or {}
    return (
        figure,
        backend,
        rate,
        fmt_ms(lat.get("p50_ms")),
        fmt_ms(lat.get("p95_ms")),
        fmt_ms(lat.get("p99_ms")),
        ratio,
        extra,
    )


def print_table(
    title: str,
    res: dict,
    rows: list[tuple],
    notes: list[str],
    *,
    quick: bool,
    load_avg: list[float],
) -> None:
    """Print "SMART B <title> benchmark, ..." with the machine, the rows, the notes, the load
    average at start and end, and the wall time."""
    import django

    name = res["backend"]
    widths = [max(len(str(r[c])) for r in [HEADER, *rows]) for c in range(len(HEADER))]

    def line(cells) -> str:
        out = [
            str(cell).rjust(widths[c]) if c in RIGHT else str(cell).ljust(widths[c])
            for c, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    print()
    print(
        f"SMART B {title} benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{'--quick' if quick else 'full run'}; nproc={os.cpu_count()}, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {res.get('version', name)}, DEBUG off"
    )
    print(line(HEADER))
    print("  ".join("-" * w for w in widths))
    for cells in rows:
        print(line(cells))
    print()
    for note in notes:
        print(f"- {note}")
    print(
        f"- 1-minute load average at start/end: {load_avg[0]:.2f} / {load_avg[1]:.2f} on "
        f"{os.cpu_count()} CPUs (other work on the machine lowers every figure)."
    )
    if "error" in res:
        print(f"- the {name} subprocess failed: {res['error']}")
    print(f"Total wall time {time.perf_counter() - T0:.0f} s.")

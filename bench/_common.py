"""What the benchmarks share (`bench/governance.py`, `bench/appstore.py`, `bench/impact.py`,
`bench/marketplace.py`, and the pieces `bench/ledger.py`, `bench/load.py` and the network
benchmarks use).

- the top level: `bench_main` (the arguments, then the measuring subprocess or the run and
  its table); a fresh database (a PostgreSQL database created on the server that DATABASE_URL
  names and dropped at the end, even after a failure; or a temporary SQLite file), one
  subprocess of the calling script on it (`spawn`, `run_postgres`, `run_top_level`), and the
  table (`table_row`, `load_row`, `load_notes`, `print_table`);
- the measuring subprocess: its environment (`bench_env`), Django on the fresh database
  (`setup_django`, `measuring`), the parts that each keep their figures or their error
  (`run_parts`, `failure`), gunicorn on a free local port (`gunicorn`), the keep-alive load
  generator (`load`), a write endpoint timed against GET /healthz under the same gunicorn
  (`api_against_healthz`), percentiles and the raw Ed25519 rates of the machine
  (`raw_ed25519`).

Nothing here asserts on time. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
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
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
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


@contextlib.contextmanager
def measuring(backend: str, db_url: str, out: Path) -> Iterator[dict]:
    """The measuring subprocess on `db_url`: Django set up and migrated, then the figures
    (`{"backend", "version"}` to start with) that the body adds to, written as JSON to `out`
    at the end."""
    setup_django(db_url)
    from django.db import connection

    result: dict = {"backend": backend, "version": db_version()}
    yield result
    out.write_text(json.dumps(result))
    connection.close()
    log(f"{backend}: done")


def failure(error: Exception) -> dict:
    """The figures of a part that raised `error`: the error, its traceback on stderr."""
    traceback.print_exc()
    return {"error": f"{type(error).__name__}: {error}"[:500]}


def prepared(
    result: dict,
    out: Path,
    name: str,
    build: Callable[[], Any],
    summary: Callable[[Any], dict] | None = None,
) -> Any:
    """What the parts need (a world built through the services): `build()`, with its
    `summary` under `result[name]`; or None, with the error there. `result` is written to
    `out` either way."""
    try:
        built = build()
    except Exception as error:  # noqa: BLE001 - report it: the parts say they could not run
        built, result[name] = None, failure(error)
    else:
        if summary is not None:
            result[name] = summary(built)
    out.write_text(json.dumps(result))
    return built


def run_parts(
    result: dict,
    out: Path,
    parts: list[tuple[str, Callable[[], dict]]],
    *,
    unless: Callable[[str], str | None] = lambda name: None,
) -> None:
    """Run each (name, call) of `parts` in turn into `result[name]`: its figures, or its
    error, and carry on with the next. `unless(name)` says why a part cannot run (recorded as
    its error), or None. `result` is written to `out` after each part, so that partial figures
    survive a later failure."""
    for name, call in parts:
        reason = unless(name)
        if reason is not None:
            result[name] = {"error": reason}
            continue
        try:
            result[name] = call()
        except Exception as error:  # noqa: BLE001 - report it, carry on with the other parts
            result[name] = failure(error)
        out.write_text(json.dumps(result))


POSTAL_CODE = "01000"  # the benchmark cities' postal code


def make_user(username: str, *, is_staff: bool = False):
    """An account (`username@example.org`, no password)."""
    from identity.models import User

    # post_save gives the account its custodial DID (and its ledger actor).
    return User.objects.create_user(
        username=username, email=f"{username}@example.org", password=None, is_staff=is_staff
    )


def join_resident(city, staff, username: str):
    """A new account's residents-college membership of `city`, requested and approved by
    `staff`, through the services."""
    from governance import services

    membership = services.membership_request(
        user=make_user(username),
        city=city,
        college=city.colleges.get(slug="residents"),
        postal_address="3 rue des Lilas",
        postal_code=POSTAL_CODE,
    )
    return services.membership_approve(membership=membership, by=staff)


def siret(n: int) -> str:
    """A valid, distinct SIRET for each n (SIREN and SIRET Luhn check digits)."""
    from stdnum import luhn

    base = f"{7_000_000 + n:08d}"
    siren = base + luhn.calc_check_digit(base)
    nic = siren + "0001"
    return nic + luhn.calc_check_digit(nic)


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


def healthz_ok(port: int) -> bool:
    """GET /healthz on 127.0.0.1:`port` answers 200."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def stop(process: subprocess.Popen, name: str, timeout: float = 20) -> None:
    """SIGTERM to a process we started (gunicorn's arbiter stops its own workers), then
    SIGKILL after `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log(f"{name} stopped (exit {process.returncode})")


@contextlib.contextmanager
def gunicorn_server(
    env: dict[str, str],
    log_path: Path,
    *,
    tag: str,
    workers: int,
    threads: int,
    app: str = "smartb.wsgi",
    options: tuple[str, ...] = (),
    start_seconds: float = 30,
    stop_seconds: float = 20,
) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run `gunicorn <app>` (more gunicorn `options` if any) on 127.0.0.1:<free port> with
    `env` until GET /healthz answers 200; yield the port and the process; stop it after. Its
    output goes to `log_path`."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), app]
    command += ["--workers", str(workers), "--threads", str(threads), *options]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    log(f"{tag}: starting gunicorn on 127.0.0.1:{port} ({workers} workers x {threads} threads)")
    with log_path.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + start_seconds
        while not healthz_ok(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "gunicorn did not start: " + log_path.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.2)
        yield port, server
    finally:
        stop(server, f"{tag}: gunicorn", stop_seconds)


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
    env = bench_env(db_url)
    env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    with gunicorn_server(env, log_path, tag=tag, workers=workers, threads=threads, app=app) as (
        port,
        _server,
    ):
        yield port


def log_tail(log_path: Path, lines: int = 12) -> list[str]:
    return log_path.read_text(errors="replace").strip().splitlines()[-lines:]


HEALTHZ = ("GET", "/healthz", None, {"Host": "127.0.0.1"})


def api_against_healthz(
    db_url: str,
    workdir: Path,
    *,
    tag: str,
    what: str,
    clients: int,
    timed: list,
    warm: list,
    healthz: int,
    counted: dict[str, Callable[[], int]] | None = None,
) -> dict:
    """An API operation timed against its raw limit in the same run: under gunicorn (2
    workers x 2 threads) on `db_url`, GET /healthz warms both workers up, then `warm` (not
    timed), then `timed` (`what` says what they are, for the progress) from `clients`
    keep-alive clients, then `healthz` GET /healthz from as many: the trivial baseline.
    `counted` are counts read before and after the timed run; their differences join its
    figures (rows written, ledger entries). Returns {"timed", "healthz", "log"}."""
    counted = counted or {}
    log_path = workdir / "gunicorn.log"
    with gunicorn(db_url, log_path, tag=tag) as port:
        load(port, [HEALTHZ] * (clients * 4), clients)  # both workers import everything
        load(port, warm, clients)  # not timed
        before = {name: count() for name, count in counted.items()}
        log(f"{tag}: {len(timed)} {what} from {clients} keep-alive clients")
        figures = load(port, timed, clients)
        figures.update({name: count() - before[name] for name, count in counted.items()})
        log(f"{tag}: {healthz} GET /healthz from {clients} keep-alive clients")
        health_figures = load(port, [HEALTHZ] * healthz, clients)
    return {"timed": figures, "healthz": health_figures, "log": log_tail(log_path)}


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


def bench_args(doc: str, quick_help: str) -> argparse.Namespace:
    """`--quick`, and the hidden arguments of the measuring subprocess (`--backend`,
    `--db-url`, `--json-out`)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def bench_main(
    script: str,
    doc: str,
    *,
    quick_help: str,
    run_backend: Callable[[str, str, bool, Path], None],
    print_report: Callable[[dict, bool, list[float]], None],
    db_name: str,
    concurrent: str,
    parts: tuple[str, ...],
    broken: Callable[[dict], bool] = lambda result: False,
) -> int:
    """The `main()` of a benchmark script (`bench_args`). With `--backend`, this is the
    measuring subprocess: `run_backend`. Otherwise, the top level:
    `run_top_level` on a fresh database (`db_name` on PostgreSQL; on SQLite, the note says
    that `concurrent` requests serialise on the database file), then `print_report`. Exits 1
    when the subprocess or one of `parts` failed, or when `broken(result)` finds a bug in the
    figures (a cent or a unit lost is a bug, not a slow figure)."""
    args = bench_args(doc, quick_help)
    if args.backend:  # subprocess: one database backend
        run_backend(args.backend, args.db_url, args.quick, args.json_out)
        return 0

    result, load_avg = run_top_level(
        script,
        db_name,
        args.quick,
        sqlite_note="DATABASE_URL is not a PostgreSQL URL: running on SQLite, where "
        f"concurrent {concurrent} serialise on the database file",
        prefix=f"smartb-bench-{Path(script).stem}-",
    )
    print_report(result, args.quick, load_avg)
    failed = "error" in result or any(
        "error" in (result.get(part) or {"error": 1}) for part in parts
    )
    return 1 if failed or broken(result) else 0


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


def table_of(res: dict) -> tuple[list[tuple], list[str], Callable[..., None]]:
    """The rows and the notes of a benchmark's table, empty, and `row(figure, rate, lat,
    ratio, extra)` that adds a row of `res`'s backend (`table_row`)."""
    rows: list[tuple] = []

    def row(figure, rate="", lat=None, ratio="", extra="") -> None:
        rows.append(table_row(figure, res["backend"], rate, lat, ratio, extra))

    return rows, [], row


def part_failed(part: dict | None) -> str | None:
    """The row text of a part that failed or did not run ("FAILED: <its error>"), else None."""
    if part is None or "error" in part:
        return "FAILED: " + (part or {}).get("error", "not run")
    return None


def load_row(
    figure: str, backend: str, f: dict, base: dict | None, extra: str, base_name: str = "healthz"
) -> tuple:
    """The row of a `load` run: "<figure>, <clients> clients (n=<requests>)", its rate and
    percentiles, and its rate as a share of `base`'s (GET /healthz in the same run, unless
    `base_name` says otherwise), or "100 % (the limit)" when it is the base."""
    ratio = f"{f['per_s'] / base['per_s']:.1%} of {base_name}" if base else "100 % (the limit)"
    return table_row(
        f"{figure}, {f['clients']} clients (n={f['requests']:,})",
        backend,
        f"{f['per_s']:,.0f} /s",
        f,
        ratio,
        extra,
    )


def http_errors(f: dict) -> str:
    return f"non-2xx {f['non_2xx']}, transport errors {f['transport_errors']}"


def load_notes(tag: str, log: list[str], *figures: dict) -> list[str]:
    """The error samples of `load` runs and, if any request failed, the end of the gunicorn
    log."""
    notes = [f"{tag}: error sample: {sample}" for f in figures for sample in f["samples"]]
    if any(f["non_2xx"] or f["transport_errors"] for f in figures):
        notes.append(f"{tag}: end of the gunicorn log:\n    " + "\n    ".join(log))
    return notes


def table_lines(header: tuple, rows: list[tuple], right: set[int]) -> list[str]:
    """`header`, a rule and `rows`, in columns (those in `right` aligned right)."""
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]

    def line(cells) -> str:
        out = [
            str(cell).rjust(widths[c]) if c in right else str(cell).ljust(widths[c])
            for c, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *map(line, rows)]


def heading(title: str, quick: bool, versions: str) -> str:
    """The first line of a table: SMART B <title> benchmark, when, which run, the machine,
    Python, Django, `versions`, DEBUG off."""
    import django

    return (
        f"SMART B {title} benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{'--quick' if quick else 'full run'}; nproc={os.cpu_count()}, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {versions}, DEBUG off"
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
    name = res["backend"]
    print()
    print(heading(title, quick, res.get("version", name)))
    print("\n".join(table_lines(HEADER, rows, RIGHT)))
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

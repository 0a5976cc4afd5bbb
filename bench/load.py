"""Load benchmark: a mixed workload on gunicorn + PostgreSQL + a Celery worker, ramped up by
steps of virtual users until the p99 of an operation passes 500 ms.

Run from the repository root (PostgreSQL and Redis must be up):

    .venv/bin/python bench/load.py            # full run, under 4 minutes on 2 cores
    .venv/bin/python bench/load.py --quick    # 6 s steps, a smaller world (about 3 minutes)
    make bench-load                           # same as the first line

What it does, alone, from nothing:

1. creates a PostgreSQL database `smartb_load` (on the server of --server-url, by default
   DATABASE_URL when it is a PostgreSQL URL, else postgres://postgres@127.0.0.1:5432/postgres),
   migrates it and builds one city through the services (`bench/_load_world.py`): approved
   residents with tokens and signed-in sessions, open proposals with their electorates, a
   personal dataset with agreements and consents, a curator and submitted claims;
2. empties its Redis database (--redis-url, DB 12 by default), starts a Celery worker and
   gunicorn (2 x cores + 1 workers, 2 threads each) with production-like settings: DEBUG off,
   persistent database connections (CONN_MAX_AGE 600), the Redis broker and cache, blocks
   sealed by the worker every 50 transactions as in production;
3. ramps closed-loop virtual users (2, 4, 8, 16, ... each step --step-seconds) over a mix of
   residents browsing and voting, the provider reading data through the data API, the curator
   approving claims, and GET /healthz; then, at the same concurrency, /healthz alone (the
   trivial view). Per step and operation: requests, throughput, p50/p95/p99, expected 409s and
   errors. It stops after the first step where the p99 of any operation passes --limit-ms;
4. checks the result: no 5xx, one `governance.vote.cast` ledger transaction per vote
   answered 201 and every ballot on its own, one delivery per data request answered 200,
   one approval per 201, and `manage.py ledger_verify` on the database; then stops gunicorn
   and the worker and drops the database (--keep-db keeps it).

The table goes to stdout, progress to stderr. It exits 1 if something failed or a check did
not hold; it never asserts on time.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
# `python bench/load.py` puts bench/ first on sys.path, where bench/governance.py and the
# others would shadow the apps: take it off and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import PG_SCHEMES, gunicorn_server, log, pg_admin, stop  # noqa: E402
from bench._load_gen import Generator, Operation, over_limit, summarise  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
QUEUE = "smartb-load"
VOTE_KIND = "governance.vote.cast"
# (full, quick)
SIZES = {
    "residents": (60, 40),
    "proposals": (4, 2),
    "agreements": (4, 2),
    "claims": (150, 60),
    "step_seconds": (15.0, 6.0),
    "healthz_seconds": (4.0, 3.0),
    "steps": ("1,2,4,8,16,32,64", "1,2,4,8,16"),
}
# The mix: (operation, weight). Weights are per cent of the draws.
MIX = [
    ("page proposals list", 25),
    ("page proposal", 20),
    ("api vote", 20),
    ("api vote receipt", 5),
    ("api data (provider)", 15),
    ("api approve claim", 5),
    ("healthz (in the mix)", 10),
]


def size(name: str, quick: bool):
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# Environment, database, servers
# --------------------------------------------------------------------------------------------


def build_env(db_url: str, data_root: Path) -> dict[str, str]:
    """The measuring process's environment: Celery eager (no broker) while it builds the
    world through the services."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="smartb.settings.base",
        DATABASE_URL=db_url,
        DJANGO_DEBUG="false",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SMARTB_DATA_ROOT=str(data_root),
        LOG_LEVEL="WARNING",
    )
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        env.pop(name, None)
    env.pop("SMARTB_SEAL_BATCH_SIZE", None)  # the default: seal every 50 transactions
    return env


def server_env(db_url: str, data_root: Path, redis_url: str) -> dict[str, str]:
    """gunicorn's and the worker's environment: production-like (DEBUG off, persistent
    connections, Redis broker and cache shared by every process)."""
    env = build_env(db_url, data_root)
    env.update(
        DATABASE_CONN_MAX_AGE="600",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        CELERY_BROKER_URL=redis_url,
        CACHE_URL=redis_url,
        CELERY_QUEUE=QUEUE,
    )
    return env


@contextlib.contextmanager
def celery_worker(env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """`celery -A smartb worker` on our queue, one process (solo pool), until it is ready."""
    command = [str(Path(sys.executable).parent / "celery"), "-A", "smartb", "worker"]
    command += ["--pool", "solo", "-Q", QUEUE, "-n", f"load-{os.getpid()}@%h"]
    command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    log("starting the Celery worker (solo pool, one process)")
    with log_path.open("wb") as out:
        worker = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start: " + log_tail(log_path))
            time.sleep(0.3)
        yield worker
    finally:
        stop(worker, "worker", timeout=30)


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path, workers: int, threads: int) -> Iterator[tuple[int, int]]:
    """gunicorn smartb.wsgi on a free local port until /healthz answers; yields (port, pid)."""
    with gunicorn_server(
        env,
        log_path,
        tag="load",
        workers=workers,
        threads=threads,
        options=("--keep-alive", "30"),
        start_seconds=60,
        stop_seconds=30,
    ) as (port, server):
        yield port, server.pid


def log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


def redis_flush(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def redis_queue_length(redis_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).llen(QUEUE))


def proc_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used, from /proc (Linux); None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU time used by the servers during a phase: gunicorn (arbiter and workers), the
    Celery worker, and the PostgreSQL backends connected to the bench database (from
    pg_stat_activity), plus the load generator itself. Unlike latencies, CPU seconds per
    request hardly depend on what else runs on the machine."""

    def __init__(self, server_url: str, db_name: str, gunicorn_pid: int, worker_pid: int):
        self.server_url, self.db_name = server_url, db_name
        self.gunicorn_pid, self.worker_pid = gunicorn_pid, worker_pid

    def _pg_pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.db_name,),
            ).fetchall()
        return [row[0] for row in rows]

    def snapshot(self) -> dict:
        groups = {
            "gunicorn": [self.gunicorn_pid, *proc_children(self.gunicorn_pid)],
            "worker": [self.worker_pid, *proc_children(self.worker_pid)],
            "postgres": self._pg_pids(),
        }
        snap = {
            name: {pid: cpu for pid in pids if (cpu := proc_cpu(pid)) is not None}
            for name, pids in groups.items()
        }
        snap["client"] = {0: time.process_time()}
        return snap

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        """CPU seconds per group between two snapshots (a process that appeared in between
        counts from zero; one that ended in between is lost)."""
        return {
            name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in after.items()
        }


# --------------------------------------------------------------------------------------------
# The workload
# --------------------------------------------------------------------------------------------


class Workload:
    """The operations of the mix over the world, and what they did (for the checks)."""

    def __init__(self, world) -> None:
        self.world = world
        self.lock = threading.Lock()
        self.claims = collections.deque(world.claims)
        self.votes_201 = 0
        # The world's first votes: every resident on the first proposal, not through HTTP.
        self.first_votes = len(world.resident_tokens)
        self.voted: set[tuple[int, int]] = {(r, 0) for r in range(self.first_votes)}
        self.data_200 = 0
        self.approved_201 = 0
        self.error_samples: list[str] = []
        self.host = {"Host": "127.0.0.1"}
        slug = world.slug
        self.vote_paths = [
            f"/api/v1/governance/cities/{slug}/proposals/{p}/votes" for p in world.proposal_ids
        ]
        self.receipt_path = (
            f"/api/v1/governance/cities/{slug}/proposals/{world.proposal_ids[0]}/receipt"
        )
        self.page_paths = [f"/c/{slug}/p/{p}/" for p in world.proposal_ids]
        self.list_path = f"/c/{slug}/proposals/"
        self.data_paths = [f"/api/v1/marketplace/agreements/{a}/data" for a in world.agreement_ids]
        self.verify_path = f"/api/v1/impact/cities/{slug}/claims/{{}}/verify"

    def token(self, key: str, json_body: bool = False) -> dict:
        headers = {"Authorization": f"Token {key}", **self.host}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def session(self, r: int) -> dict:
        return {"Cookie": f"sessionid={self.world.resident_sessions[r]}", **self.host}

    # -- requests --------------------------------------------------------------------------

    def list_page(self, rng):
        r = rng.randrange(len(self.world.resident_sessions))
        return ("GET", self.list_path, None, self.session(r))

    def proposal_page(self, rng):
        r = rng.randrange(len(self.world.resident_sessions))
        return ("GET", rng.choice(self.page_paths), None, self.session(r))

    def vote(self, rng, r: int | None = None, p: int | None = None):
        r = rng.randrange(len(self.world.resident_tokens)) if r is None else r
        p = rng.randrange(len(self.vote_paths)) if p is None else p
        body = json.dumps({"choice": rng.choice(["yes", "no", "abstain"])}).encode()
        headers = self.token(self.world.resident_tokens[r], json_body=True)
        headers["X-Bench-Voter"] = f"{r}:{p}"  # ignored by the server; read back in on_vote
        return ("POST", self.vote_paths[p], body, headers)

    def on_vote(self, request, status: int, _body: bytes) -> None:
        if status == 201:
            r, p = map(int, request[3]["X-Bench-Voter"].split(":"))
            with self.lock:
                self.votes_201 += 1
                self.voted.add((r, p))

    def receipt(self, rng):
        # Every resident voted on the first proposal when the world was built: 200 once the
        # worker has sealed the block of their latest vote, 409 until then.
        r = rng.randrange(len(self.world.resident_tokens))
        return ("GET", self.receipt_path, None, self.token(self.world.resident_tokens[r]))

    def data(self, rng):
        return ("GET", rng.choice(self.data_paths), None, self.token(self.world.provider_token))

    def on_data(self, _request, status: int, _body: bytes) -> None:
        if status == 200:
            with self.lock:
                self.data_200 += 1

    def approve(self, _rng):
        with self.lock:
            if not self.claims:
                return None  # pool empty: the user draws another operation
            public_id, quantity = self.claims.popleft()
        body = json.dumps({"decision": "approve", "recomputed_quantity": quantity}).encode()
        headers = self.token(self.world.curator_token, json_body=True)
        return ("POST", self.verify_path.format(public_id), body, headers)

    def on_approve(self, _request, status: int, _body: bytes) -> None:
        if status == 201:
            with self.lock:
                self.approved_201 += 1

    def healthz(self, _rng):
        return ("GET", "/healthz", None, self.host)

    def operations(self) -> list[Operation]:
        calls = {
            "page proposals list": (self.list_page, None, ()),
            "page proposal": (self.proposal_page, None, ()),
            "api vote": (self.vote, self.on_vote, ()),
            "api vote receipt": (self.receipt, None, (409,)),
            "api data (provider)": (self.data, self.on_data, ()),
            "api approve claim": (self.approve, self.on_approve, ()),
            "healthz (in the mix)": (self.healthz, None, ()),
        }
        return [
            Operation(name, weight, calls[name][0], calls[name][1], calls[name][2])
            for name, weight in MIX
        ]

    def healthz_only(self) -> list[Operation]:
        return [Operation("healthz (alone)", 1, self.healthz)]


def warm_up(port: int, work: Workload, users: int) -> dict:
    """Not timed: every gunicorn worker imports everything (/healthz), then each operation of
    the mix answers a few times."""
    Generator(port, work.healthz_only()).run(users, 2.0, tag=900)
    gen = Generator(port, work.operations())
    once, _ = gen.run(4, 3.0, tag=902)
    statuses: dict[str, dict[int, int]] = {}
    for sample in once:
        by_status = statuses.setdefault(sample.op, {})
        by_status[sample.status] = by_status.get(sample.status, 0) + 1
    return {"statuses": statuses, "errors": gen.error_samples}


def ramp(port: int, work: Workload, args, meter: CpuMeter) -> list[dict]:
    mixed = Generator(port, work.operations(), seed=args.seed)
    alone = Generator(port, work.healthz_only(), seed=args.seed)
    expected = {op.name: op.expected for op in work.operations()}
    steps = []
    for n, users in enumerate(args.steps):
        log(f"step {n + 1}: {users} virtual users, mix for {args.step_seconds:g} s")
        claims_before = len(work.claims)
        cpu_before = meter.snapshot()
        samples, seconds = mixed.run(users, args.step_seconds, tag=n)
        cpu = CpuMeter.used(cpu_before, meter.snapshot())
        figures = summarise(samples, seconds, expected)
        log(f"step {n + 1}: {users} virtual users, /healthz alone for {args.healthz_seconds:g} s")
        h_before = meter.snapshot()
        h_samples, h_seconds = alone.run(users, args.healthz_seconds, tag=100 + n)
        h_cpu = CpuMeter.used(h_before, meter.snapshot())
        h_figures = summarise(h_samples, h_seconds, {})["healthz (alone)"]
        over = over_limit(figures, args.limit_ms, args.min_samples)
        steps.append(
            {
                "users": users,
                "seconds": seconds,
                "requests": len(samples),
                "per_s": len(samples) / seconds,
                "ops": {op: asdict(f) for op, f in figures.items()},
                "healthz_alone": asdict(h_figures),
                "over": over,
                "cpu_seconds": cpu,
                "healthz_cpu_seconds": h_cpu,
                "claims_left": [claims_before, len(work.claims)],
                "load_avg": os.getloadavg()[0],
                "server_errors": sum(1 for s in samples + h_samples if s.status >= 500),
                "transport_errors": sum(1 for s in samples + h_samples if s.status == 0),
            }
        )
        worst = max(figures.values(), key=lambda f: f.p99_ms)
        log(
            f"step {n + 1}: {len(samples) / seconds:.0f} req/s, worst p99 {worst.p99_ms:.0f} ms "
            f"({worst.op}); healthz alone {h_figures.per_s:.0f} req/s; load avg "
            f"{os.getloadavg()[0]:.2f}"
        )
        if over:
            log(f"p99 over {args.limit_ms:g} ms for {', '.join(over)}: stopping the ramp")
            break
    mixed.error_samples.extend(alone.error_samples)
    work.error_samples = mixed.error_samples
    return steps


# --------------------------------------------------------------------------------------------
# Checks after the run
# --------------------------------------------------------------------------------------------


def wait_for_worker(redis_url: str, seconds: float = 90) -> int:
    """Until the broker's queue is empty (the worker has taken every seal task)."""
    deadline = time.monotonic() + seconds
    while (left := redis_queue_length(redis_url)) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # the task taken last runs to its end
    return left


def checks(world, work: Workload, steps: list[dict], env: dict) -> dict:
    from governance.models import Ballot
    from impact.models import Claim
    from ledger.models import Block, Chain, Transaction
    from marketplace.data.models import Delivery
    from marketplace.data.services.access import KIND_DELIVERY

    chain = Chain.objects.get(pk=world.chain_id)
    txs = Transaction.objects.filter(chain=chain)
    ballots = Ballot.objects.filter(proposal__city_id=world.city_id)
    vote_txs = txs.filter(kind=VOTE_KIND).count()
    ballots_off = ballots.exclude(entry__chain=chain, entry__kind=VOTE_KIND).count()
    shared = ballots.values("entry_id").distinct().count()
    out = {
        "server_errors": sum(s["server_errors"] for s in steps),
        "transport_errors": sum(s["transport_errors"] for s in steps),
        "votes_201": work.votes_201,
        "first_votes": work.first_votes,
        "vote_transactions": vote_txs,
        "ballots": ballots.count(),
        "ballots_expected": len(work.voted),
        "ballots_not_on_a_vote_transaction": ballots_off,
        "ballots_sharing_a_transaction": ballots.count() - shared,
        "data_200": work.data_200,
        "deliveries": Delivery.objects.filter(agreement__public_id__in=world.agreement_ids).count(),
        "delivery_receipts": txs.filter(kind=KIND_DELIVERY).count(),
        "approved_201": work.approved_201,
        "claims_approved": Claim.objects.filter(city_id=world.city_id, state="approved").count(),
        "chain_size": chain.size,
        "blocks": Block.objects.filter(chain=chain).count(),
        "pending": chain.pending_count,
    }
    log("running manage.py ledger_verify on the bench database")
    verify_env = dict(env)
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        verify_env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "ledger_verify"],
        env=verify_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    out["ledger_verify"] = {
        "exit": done.returncode,
        "output": (done.stdout + done.stderr).strip().splitlines()[-6:],
    }
    out["ok"] = (
        out["server_errors"] == 0
        and out["votes_201"] + work.first_votes == vote_txs
        and out["ballots"] == out["ballots_expected"]
        and ballots_off == 0
        and out["data_200"] == out["deliveries"] == out["delivery_receipts"]
        and out["approved_201"] == out["claims_approved"]
        and done.returncode == 0
    )
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def fmt(ms: float) -> str:
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def report_rows(steps: list[dict], limit_ms: float) -> list[tuple]:
    rows = []
    for step in steps:
        users, h = step["users"], step["healthz_alone"]
        for name, _weight in MIX:
            f = step["ops"].get(name)
            if f is None:
                continue
            ratio = ""
            if h["p50_ms"] and name != "healthz (in the mix)":
                ratio = f"p50 {f['p50_ms'] / h['p50_ms']:,.0f}x healthz alone"
            flag = " <-- p99 over" if name in step["over"] else ""
            if not flag and f["p99_ms"] > limit_ms:
                flag = " (p99 over, too few samples to stop)"
            rows.append(
                (
                    str(users),
                    name,
                    f"{f['requests']:,}",
                    f"{f['per_s']:.1f}",
                    fmt(f["p50_ms"]),
                    fmt(f["p95_ms"]),
                    fmt(f["p99_ms"]),
                    str(f["expected"]),
                    str(f["errors"]),
                    ratio + flag,
                )
            )
        rows.append(
            (
                str(users),
                "= all operations of the mix",
                f"{step['requests']:,}",
                f"{step['per_s']:.1f}",
                "",
                "",
                "",
                str(sum(f["expected"] for f in step["ops"].values())),
                str(sum(f["errors"] for f in step["ops"].values())),
                f"{step['per_s'] / h['per_s']:.1%} of healthz alone" if h["per_s"] else "",
            )
        )
        rows.append(
            (
                str(users),
                "healthz (alone, same users)",
                f"{h['requests']:,}",
                f"{h['per_s']:.1f}",
                fmt(h["p50_ms"]),
                fmt(h["p95_ms"]),
                fmt(h["p99_ms"]),
                "",
                str(h["errors"]),
                "100 % (the trivial view)",
            )
        )
    return rows


HEADER = ("VUs", "operation", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "409", "errors")


def print_report(result: dict, args) -> None:
    import django

    rows = report_rows(result.get("steps", []), args.limit_ms)
    header = (*HEADER, "ratio")
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    right = {0, 2, 3, 4, 5, 6, 7, 8}

    def line(cells) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    print()
    print(
        f"SMART B load benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{'--quick' if args.quick else 'full run'}; nproc={os.cpu_count()}, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {result.get('version', '')}, DEBUG off"
    )
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, Celery worker (solo pool), "
        f"Redis broker and cache; steps of {args.step_seconds:g} s (mix) + "
        f"{args.healthz_seconds:g} s (/healthz alone); stop when a p99 passes "
        f"{args.limit_ms:g} ms (operations answered {args.min_samples}+ times in the step)"
    )
    print(line(header))
    print("  ".join("-" * w for w in widths))
    previous = None
    for cells in rows:
        if previous is not None and cells[0] != previous:
            print()
        print(line(cells))
        previous = cells[0]
    print()
    steps = result.get("steps", [])
    under = [s for s in steps if not s["over"]]
    over = [s for s in steps if s["over"]]
    if under:
        best = under[-1]
        print(
            f"- last step under {args.limit_ms:g} ms: {best['users']} virtual users, "
            f"{best['per_s']:.0f} requests/s of the mix"
        )
    if over:
        first = over[0]
        print(
            f"- first step over: {first['users']} virtual users ("
            + ", ".join(f"{op} p99 {first['ops'][op]['p99_ms']:.0f} ms" for op in first["over"])
            + ")"
        )
    elif steps:
        print(f"- no step passed {args.limit_ms:g} ms: raise --steps")
    for step in steps:
        cpu = step.get("cpu_seconds")
        server = cpu["gunicorn"] + cpu["postgres"] + cpu["worker"] if cpu else 0.0
        if not server or not step["requests"]:
            continue
        per = server / step["requests"] * 1000
        h_cpu, h = step.get("healthz_cpu_seconds"), step["healthz_alone"]
        h_server = h_cpu["gunicorn"] + h_cpu["postgres"] + h_cpu["worker"] if h_cpu else 0.0
        h_per = h_server / h["requests"] * 1000 if h["requests"] else 0.0
        vs = f" = {per / h_per:.0f}x the {h_per:.2f} ms of /healthz alone" if h_per else ""
        print(
            f"- CPU at {step['users']} VUs: {per:.1f} ms of server CPU per request of the mix"
            f"{vs} (gunicorn {cpu['gunicorn'] / step['requests'] * 1000:.1f}, PostgreSQL "
            f"{cpu['postgres'] / step['requests'] * 1000:.1f}, worker "
            f"{cpu['worker'] / step['requests'] * 1000:.1f}; load generator "
            f"{cpu['client'] / step['requests'] * 1000:.1f}); the servers used "
            f"{server / step['seconds']:.2f} of {os.cpu_count()} cores: a CPU-bound ceiling of "
            f"about {os.cpu_count() * step['requests'] / server:,.0f} requests/s of this mix "
            f"on an idle machine"
        )
    for step in steps:
        if step["claims_left"][1] == 0:
            print(
                f"- the claims pool ran out during the step at {step['users']} VUs: no approval "
                f"after that (raise --claims)"
            )
            break
    if "migrate_seconds" in result:
        print(
            f"- migrate: {result['migrate_seconds']:.0f} s "
            f"({'a clone of the template' if args.cloned else 'an empty database'})"
        )
    world = result.get("world", {})
    if world:
        print(
            f"- world: {world['residents']} residents, {world['proposals']} open proposals, "
            f"{world['agreements']} agreements ({world['consents']} consents), "
            f"{world['claims']} claims waiting; built through the services in "
            f"{world['seconds']:.0f} s (claims {world['claims_seconds']:.0f} s)"
        )
    warm = result.get("warm_up")
    if warm:
        print(f"- warm-up (not timed): {warm['statuses']}")
    c = result.get("checks")
    if c:
        print(
            f"- checks: 5xx {c['server_errors']}, transport errors {c['transport_errors']}; "
            f"votes answered 201 {c['votes_201']:,} + first votes of the world "
            f"{c['first_votes']} = {VOTE_KIND} transactions {c['vote_transactions']:,}; "
            f"ballots {c['ballots']} (expected "
            f"{c['ballots_expected']}), not on a vote transaction "
            f"{c['ballots_not_on_a_vote_transaction']}; data answered 200 {c['data_200']:,} = "
            f"deliveries {c['deliveries']:,} = receipts {c['delivery_receipts']:,}; approvals "
            f"answered 201 {c['approved_201']} = claims approved {c['claims_approved']}"
        )
        before = result.get("before_run", {"chain_size": 0, "blocks": 0})
        print(
            f"- ledger: the city chain went from {before['chain_size']:,} to "
            f"{c['chain_size']:,} transactions and from {before['blocks']} to {c['blocks']} "
            f"blocks (sealed by the worker during the run), {c['pending']} pending; "
            f"ledger_verify exit {c['ledger_verify']['exit']}: "
            + " | ".join(c["ledger_verify"]["output"])
        )
        print(
            f"- worker: {result.get('worker_tasks', 0)} tasks ran (block seals; a seal that "
            f"finds the block already sealed still counts), "
            f"{len(result.get('worker_errors', []))} error lines in its log; queue left "
            f"{result.get('queue_left', '?')}"
        )
        print(f"- checks {'PASSED' if c['ok'] else 'FAILED'}")
    for sample in result.get("error_samples", [])[:10]:
        print(f"- error sample: {sample}")
    if result.get("error"):
        print(f"- FAILED: {result['error']}")
    la = result.get("load_avg", [])
    if la:
        print(
            f"- 1-minute load average at start/end: {la[0]:.2f} / {la[-1]:.2f} on "
            f"{os.cpu_count()} CPUs; the load generator's threads share them with gunicorn, "
            f"the worker and PostgreSQL (other work on the machine lowers every figure)"
        )
    print(f"Total wall time {result.get('wall_seconds', 0):.0f} s.")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run(args, result: dict, db_url: str, workdir: Path) -> None:
    data_root = workdir / "data"
    data_root.mkdir()
    os.environ.update(build_env(db_url, data_root))
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        os.environ.pop(name, None)
    os.environ.pop("SMARTB_SEAL_BATCH_SIZE", None)
    import django

    django.setup()
    from django.core.management import call_command

    from bench._common import db_version
    from bench._load_world import build_world

    migrate_started = time.perf_counter()
    log(f"migrating {args.db_name} ({'from the template' if args.cloned else 'empty'})")
    call_command("migrate", verbosity=0)
    result["migrate_seconds"] = time.perf_counter() - migrate_started
    if args.template and not args.cloned:
        from django.db import connections

        connections.close_all()  # CREATE DATABASE ... TEMPLATE wants no session on the source
        template_save(args)
    result["version"] = db_version()
    world = build_world(
        residents=size("residents", args.quick),
        proposals=size("proposals", args.quick),
        agreements=size("agreements", args.quick),
        claims=args.claims,
    )
    result["world"] = world.summary
    from ledger.models import Block, Chain

    chain = Chain.objects.get(pk=world.chain_id)
    result["before_run"] = {
        "chain_size": chain.size,
        "blocks": Block.objects.filter(chain=chain).count(),
    }
    from django.db import connection

    connection.close()

    env = server_env(db_url, data_root, args.redis_url)
    redis_flush(args.redis_url)
    work = Workload(world)
    with (
        celery_worker(env, workdir / "worker.log") as worker,
        gunicorn(env, workdir / "gunicorn.log", args.workers, args.threads) as (port, pid),
    ):
        meter = CpuMeter(args.server_url, args.db_name, pid, worker.pid)
        log("warm-up (not timed)")
        result["warm_up"] = warm_up(port, work, 8)
        result["steps"] = ramp(port, work, args, meter)
        result["error_samples"] = work.error_samples
        log("waiting for the worker to empty its queue")
        result["queue_left"] = wait_for_worker(args.redis_url)
    result["gunicorn_log"] = log_tail(workdir / "gunicorn.log")
    worker_log = (workdir / "worker.log").read_text(errors="replace")
    result["worker_tasks"] = worker_log.count(" succeeded in ")
    result["worker_errors"] = [
        line
        for line in (workdir / "worker.log").read_text(errors="replace").splitlines()
        if "ERROR" in line or "Traceback" in line
    ][:10]
    result["checks"] = checks(world, work, result["steps"], env)
    connection.close()


def template_name(db_name: str) -> str:
    """`<db_name>_tpl_<digest>`: the digest covers every migration file and the Django
    version, so a template is never used for another schema."""
    import hashlib

    import django

    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted(REPO.glob("*/migrations/*.py")) + sorted(REPO.glob("*/*/migrations/*.py")):
        if ".venv" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return f"{db_name}_tpl_{digest.hexdigest()[:12]}"


def database_exists(server_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def template_save(args) -> None:
    """Keep the freshly migrated, still empty database as `args.template` (and drop the
    templates of older schemas), so the next run clones it instead of migrating."""
    import psycopg

    with psycopg.connect(args.server_url, autocommit=True) as conn:
        old = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            (f"{args.db_name}_tpl_%", args.template),
        ).fetchall()
    statements = [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for (name,) in old]
    statements.append(f"CREATE DATABASE {args.template} TEMPLATE {args.db_name}")
    try:
        pg_admin(args.server_url, statements)
        log(f"kept the migrated empty database as {args.template} for the next runs")
    except Exception as error:  # noqa: BLE001 - only a cache: carry on without it
        log(f"could not keep a template: {error}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short steps, a smaller world")
    parser.add_argument(
        "--server-url",
        default=None,
        help="a PostgreSQL server URL (default: DATABASE_URL if it is one, else "
        f"{DEFAULT_SERVER}); the database --db-name is created on it",
    )
    parser.add_argument("--db-name", default="smartb_load")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="broker and cache (FLUSHed)")
    parser.add_argument("--steps", default=None, help="virtual users per step, e.g. 2,4,8,16")
    parser.add_argument("--step-seconds", type=float, default=None)
    parser.add_argument("--healthz-seconds", type=float, default=None)
    parser.add_argument("--limit-ms", type=float, default=500.0, help="stop past this p99")
    parser.add_argument(
        "--min-samples",
        type=int,
        default=20,
        help="an operation stops the ramp only if answered this many times in the step",
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--claims", type=int, default=None, help="claims waiting for approval")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--no-template",
        action="store_true",
        help="migrate an empty database every time and keep no <db-name>_tpl_<digest> "
        "template (by default the first run keeps the migrated empty database as a template "
        "that later runs of the same migrations clone, which saves the migration time)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    args.steps = [int(s) for s in (args.steps or size("steps", args.quick)).split(",")]
    args.step_seconds = args.step_seconds or size("step_seconds", args.quick)
    args.healthz_seconds = args.healthz_seconds or size("healthz_seconds", args.quick)
    args.claims = args.claims if args.claims is not None else size("claims", args.quick)
    if args.server_url is None:
        env_url = os.environ.get("DATABASE_URL", "")
        args.server_url = env_url if env_url.startswith(PG_SCHEMES) else DEFAULT_SERVER
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    result: dict = {"load_avg": [os.getloadavg()[0]]}
    parts = urlsplit(args.server_url)
    if parts.path.strip("/") == args.db_name:
        print(f"--server-url already names {args.db_name}: give the server's own database")
        return 1
    db_url = urlunsplit(parts._replace(path="/" + args.db_name))
    drop = f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)"
    args.template = None if args.no_template else template_name(args.db_name)
    args.cloned = bool(args.template) and database_exists(args.server_url, args.template)
    create = f"CREATE DATABASE {args.db_name}"
    if args.cloned:
        create += f" TEMPLATE {args.template}"
    pg_admin(args.server_url, [drop, create])
    log(f"created database {args.db_name}" + (f" from {args.template}" if args.cloned else ""))
    try:
        with tempfile.TemporaryDirectory(prefix="smartb-bench-load-") as tmp:
            run(args, result, db_url, Path(tmp))
    except Exception as error:  # noqa: BLE001 - report what was measured, then fail
        import traceback

        traceback.print_exc()
        result["error"] = f"{type(error).__name__}: {error}"[:2000]
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if args.keep_db:
            log(f"kept database {args.db_name}")
        else:
            try:
                pg_admin(args.server_url, [drop])
                log(f"dropped database {args.db_name}")
            except Exception as error:  # noqa: BLE001
                log(f"could not drop {args.db_name}: {error}")
    result["load_avg"].append(os.getloadavg()[0])
    result["wall_seconds"] = time.perf_counter() - started
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1, default=str))
    try:
        print_report(result, args)
    except Exception:  # noqa: BLE001 - a half-filled result still gets its JSON above
        import traceback

        traceback.print_exc()
        return 1
    ok = "error" not in result and result.get("checks", {}).get("ok", False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

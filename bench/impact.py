"""Impact benchmark: claims verified (credential + token batch), token transfers through the
API under concurrent clients, and the city's SDG dashboard at 1,000,000 issued batches.

Run from the repository root:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/impact.py            # full run
    .venv/bin/python bench/impact.py --quick    # smaller sizes

Without a PostgreSQL DATABASE_URL it runs on SQLite (a temporary file) and says so.

As `bench/governance.py` and `bench/appstore.py` do, the top-level invocation creates a fresh
database (`smartb_bench_impact` on the PostgreSQL server named by DATABASE_URL, dropped at the
end even after a failure; or a temporary SQLite file) and runs one subprocess of this same
script on it. The subprocess migrates, builds, measures and writes its figures as JSON; the
top level prints one table. Progress goes to stderr. Nothing here asserts on time.

1. Claims verified per second through the service (`claim_verify`, in process, one after
   another): a curator approves submitted claims, each approval issuing a W3C VC signed
   eddsa-jcs-2022 by the curator's DID and a token batch with its serial range. p50/p95/p99,
   tokens issued per second, and the ratio to the raw Ed25519 signatures/s of this machine
   measured in the same run (the number of signatures one approval makes is counted, so the
   ratio can be read against the cryptographic ceiling too).
2. Token transfers per second through the API (`POST /api/v1/impact/cities/<slug>/transfers`),
   gunicorn 2 workers x 2 threads, 16 keep-alive clients, the holders of step 1 sending to
   each other (every sender shared by two clients), against GET /healthz under the same load.
   Afterwards: the transfers are replayed in ledger order to check that no balance was ever
   negative, the holdings of every batch partition its serials, and the units per class are
   conserved.
3. The SDG dashboard (`impact.selectors.dashboard`, and the page /c/<slug>/impact/dashboard/
   when it exists) with 1,000,000 issued batches filled by bulk_create: p50/p95/p99, the ratio
   to the same SQL replayed through a cursor (selector) or to GET /healthz (page), and the
   query count at 1,000 and at 1,000,000 batches.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `python bench/impact.py` puts bench/ first on sys.path, where this file would shadow the
# `impact` app: take it off and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402 - after the sys.path fix above
    POSTAL_CODE,
    api_against_healthz,
    bench_main,
    http_errors,
    join_resident,
    load_notes,
    load_row,
    log,
    make_user,
    measuring,
    part_failed,
    percentiles,
    prepared,
    print_table,
    raw_ed25519,
    run_parts,
    table_of,
)

BENCH_PG_DB = "smartb_bench_impact"

# Sizes: (full, quick).
SIZES = {
    "holders": (24, 24),
    "claims": (1_000, 300),
    "clients": (16, 16),
    "transfer_requests": (2_000, 1_000),
    "healthz_requests": (2_000, 1_000),
    "batches": (1_000_000, 100_000),
    "batches_small": (1_000, 1_000),  # the query count is also taken at this size
    "dashboard_members": (20, 20),
    "fill_chunk": (10_000, 10_000),
    "dashboard_runs": (10, 20),
    "raw_seconds": (2, 1),
}
DISTRICTS = [
    "centre",
    "nord",
    "sud",
    "est",
    "ouest",
    "gare",
    "port",
    "lycee",
    "hopital",
    "zone-activites",
    "vieux-bourg",
    "plateau",
]
SERVICES = ["", "svc-velo", "svc-dechets", "svc-energie", "svc-compteurs", "svc-mobilite"]
# Methodologies of the shipped catalogue, with parameters varied by claim number i.
METHODOLOGIES = {
    "cycling-instead-of-car": (
        "trip-export",
        lambda i: {"distance_km": str(1_000 + 37 * i % 4_000)},
    ),
    "waste-sorted": ("weighing-ticket", lambda i: {"mass_kg": str(200 + 53 * i % 2_000)}),
    "energy-saved": (
        "meter-export",
        lambda i: {"baseline_kwh": str(5_000 + 71 * i % 3_000), "metered_kwh": "4000"},
    ),
}


def size(name: str, quick: bool) -> int:
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# The measuring subprocess: the city, its members, curator and claims (all through services)
# --------------------------------------------------------------------------------------------


def build_city(operator, slug: str, n_members: int) -> dict:
    """A city, its mayor, `n_members` approved residents and a curator (another resident
    granted the role by the mayor), all through the services."""
    from governance import services as gov
    from impact.services import curator_grant

    city = gov.city_create(
        operator=operator, slug=slug, name=slug.capitalize(), postal_codes=[POSTAL_CODE]
    )
    mayor = gov.membership_appoint(operator=operator, user=make_user(f"{slug}-mayor"), city=city)
    members = []
    for i in range(n_members):
        members.append(join_resident(city, mayor.user, f"{slug}-holder-{i:03d}"))
    curator = join_resident(city, mayor.user, f"{slug}-curator")
    curator_grant(city=city, membership=curator, by=mayor.user)
    return {"city": city, "mayor": mayor, "members": members, "curator": curator}


def methodologies() -> list:
    from impact.models import Methodology

    found = {
        m.code: m
        for m in Methodology.objects.filter(code__in=METHODOLOGIES, status="active")
        .select_related("indicator", "token_class")
        .order_by("version")
    }
    missing = sorted(set(METHODOLOGIES) - set(found))
    if missing:
        raise RuntimeError(f"the catalogue has no active methodology {', '.join(missing)}")
    return [found[code] for code in METHODOLOGIES]


def period_of(i: int) -> tuple[dt.date, dt.date]:
    """One of the 36 whole months before this one, in turn."""
    first = dt.date.today().replace(day=1)
    back = 1 + i % 36
    year, month = first.year, first.month - back
    while month < 1:
        year, month = year - 1, month + 12
    start = dt.date(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def submitted_claim(member, methodology, i: int):
    """Claim i of `member`: created (quantity computed by the methodology), its file evidence
    added, submitted; three signed ledger entries, all through the services."""
    from impact import services

    evidence_type, parameters = METHODOLOGIES[methodology.code]
    start, end = period_of(i)
    claim = services.claim_create(
        claimant=member,
        by=member.user,
        methodology=methodology,
        parameters=parameters(i),
        period_start=start,
        period_end=end,
        district_code=DISTRICTS[i % len(DISTRICTS)],
    )
    services.evidence_add_file(
        claim=claim,
        by=member.user,
        evidence_type=evidence_type,
        filename=f"preuve-{i}.csv",
        content=f"date,value\n{end.isoformat()},{i}\n".encode(),
        media_type="text/csv",
    )
    return services.claim_submit(claim=claim, by=member.user)


# --------------------------------------------------------------------------------------------
# 1. Claims verified
# --------------------------------------------------------------------------------------------


def bench_claims(world: dict, quick: bool) -> dict:
    from identity.models import Credential
    from impact.models import Batch, Claim
    from impact.services import claim_verify
    from ledger.models import Transaction

    n = size("claims", quick)
    members, curator = world["members"], world["curator"]
    meths = methodologies()
    log(f"claims: {n} claims created, evidenced and submitted by {len(members)} residents")
    started = time.perf_counter()
    claims = []
    for i in range(n):
        # Holder i mod H; each holder's claims go through the methodologies in turn.
        methodology = meths[(i // len(members)) % len(meths)]
        claims.append(submitted_claim(members[i % len(members)], methodology, i))
        if i % 100 == 99:
            log(f"claims: {i + 1} submitted")
    build_seconds = time.perf_counter() - started

    raw_before = raw_ed25519(size("raw_seconds", quick))
    tx_before, cred_before = Transaction.objects.count(), Credential.objects.count()
    log(f"claims: the curator approves {n} claims (claim_verify, one after another)")
    times = []
    for claim in claims:
        t = time.perf_counter()
        claim_verify(
            claim=claim, by=curator.user, decision="approve", recomputed_quantity=claim.quantity
        )
        times.append(time.perf_counter() - t)
    tx_made = Transaction.objects.count() - tx_before
    credentials = Credential.objects.count() - cred_before
    raw_after = raw_ed25519(size("raw_seconds", quick))

    city = world["city"]
    batches = Batch.objects.filter(city=city)
    units = sum(batches.values_list("quantity", flat=True))
    return {
        "claims": n,
        "build_seconds": build_seconds,
        "verify_seconds": sum(times),
        "per_s": n / sum(times),
        "latency": percentiles(times),
        "approved": Claim.objects.filter(city=city, state="approved").count(),
        "batches": batches.count(),
        "units": units,
        "ledger_entries": tx_made,
        "credentials": credentials,
        # Each ledger entry is signed once and, being the platform's own, verified once
        # (one verification per signer and append call); each credential carries one proof.
        "signatures_per_approval": (tx_made + credentials) / n,
        "verifications_per_approval": tx_made / n,
        "raw": {
            "sign_per_s": max(raw_before["sign_per_s"], raw_after["sign_per_s"]),
            "verify_per_s": max(raw_before["verify_per_s"], raw_after["verify_per_s"]),
            "samples_sign": [raw_before["sign_per_s"], raw_after["sign_per_s"]],
        },
    }


# --------------------------------------------------------------------------------------------
# 2. Transfers through the API
# --------------------------------------------------------------------------------------------


def balances_check(city) -> dict:
    """After the transfers: replay every transfer of the city in ledger order from what was
    issued (each portfolio's running balance per class must never go below zero), check that
    the holdings of every batch partition its serials, and that units per class are
    conserved (issued = held + retired + redeemed)."""
    from collections import defaultdict

    from django.db.models import Sum

    from impact.models import Batch, Holding, Transfer

    running: dict[tuple[int, str], int] = defaultdict(int)
    for portfolio, code, total in (
        Batch.objects.filter(city=city)
        .values_list("portfolio_id", "token_class__code")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        running[(portfolio, code)] += total
    lowest, negative = min(running.values(), default=0), 0
    transfers = Transfer.objects.filter(city=city).order_by("entry__index")
    replayed = 0
    for sender, recipient, code, quantity in transfers.values_list(
        "sender_id", "recipient_id", "token_class__code", "quantity"
    ):
        running[(sender, code)] -= quantity
        running[(recipient, code)] += quantity
        if running[(sender, code)] < 0:
            negative += 1
        lowest = min(lowest, running[(sender, code)])
        replayed += 1

    held: dict[tuple[int, str], int] = defaultdict(int)
    ranges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for portfolio, code, quantity in Holding.objects.filter(
        batch__city=city, state="available"
    ).values_list("portfolio_id", "token_class__code", "quantity"):
        held[(portfolio, code)] += quantity
    for batch, first, last in Holding.objects.filter(batch__city=city).values_list(
        "batch_id", "first_serial", "last_serial"
    ):
        ranges[batch].append((first, last))
    broken_batches = 0
    for batch, first, last in Batch.objects.filter(city=city).values_list(
        "pk", "first_serial", "last_serial"
    ):
        expected = first
        for a, b in sorted(ranges.get(batch, [])):
            if a != expected:
                break
            expected = b + 1
        else:
            if expected == last + 1:
                continue
        broken_batches += 1
    mismatched = sum(
        1 for key in set(running) | set(held) if running.get(key, 0) != held.get(key, 0)
    )

    per_class = {}
    issued = dict(
        Batch.objects.filter(city=city)
        .values_list("token_class__code")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    holding_totals = (
        Holding.objects.filter(batch__city=city)
        .values_list("token_class__code", "state")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for code, total in issued.items():
        per_class[code] = {"issued": total, "available": 0, "escrow": 0, "retired": 0}
    for code, state, total in holding_totals:
        per_class.setdefault(code, {"issued": 0})[state] = total
    for figures in per_class.values():
        figures["held_total"] = sum(v for k, v in figures.items() if k != "issued")
        figures["gap"] = figures["issued"] - figures["held_total"]
    return {
        "transfers_replayed": replayed,
        "negative_steps": negative,
        "lowest_balance": lowest,
        "final_mismatches": mismatched,
        "broken_batches": broken_batches,
        "holdings": Holding.objects.filter(batch__city=city).count(),
        "min_holding": Holding.objects.filter(batch__city=city)
        .order_by("quantity")
        .values_list("quantity", flat=True)
        .first(),
        "per_class": per_class,
    }


def bench_transfers(world: dict, quick: bool, db_url: str, workdir: Path) -> dict:
    from rest_framework.authtoken.models import Token

    from impact.models import Transfer

    city, members = world["city"], world["members"]
    clients = size("clients", quick)
    n_requests = size("transfer_requests", quick)
    codes = [m.token_class.code for m in methodologies()]
    host = {"Host": "127.0.0.1"}
    headers = [
        {
            "Authorization": f"Token {Token.objects.get_or_create(user=m.user)[0].key}",
            "Content-Type": "application/json",
            **host,
        }
        for m in members
    ]
    dids = [m.identity.did for m in members]
    path = f"/api/v1/impact/cities/{city.slug}/transfers"
    h = len(members)

    def transfers(count: int, salt: int) -> list:
        # load() gives request k to client k % clients; its sender is holder k % h: with
        # 16 clients and 24 holders every sender is used by two clients (k and k + 8).
        requests = []
        for k in range(count):
            sender = k % h
            recipient = (sender + 1 + (k * 7 + salt) % (h - 1)) % h
            body = {
                "recipient": dids[recipient],
                "token_class": codes[(k // h + salt) % len(codes)],
                "quantity": 1 + (k * 13 + salt) % 9,
            }
            requests.append(("POST", path, json.dumps(body).encode(), headers[sender]))
        return requests

    run = api_against_healthz(
        db_url,
        workdir,
        tag="transfers",
        what=f"POST {path}",
        clients=clients,
        timed=transfers(n_requests, 0),
        warm=transfers(clients * 2, 5),
        healthz=size("healthz_requests", quick),
        counted={"recorded": Transfer.objects.filter(city=city).count},
    )
    return {
        "holders": h,
        "classes": codes,
        "transfers": run["timed"],
        "healthz": run["healthz"],
        "check": balances_check(city),
        "log": run["log"],
    }


# --------------------------------------------------------------------------------------------
# 3. The dashboard at 1,000,000 issued batches
# --------------------------------------------------------------------------------------------


class Filler:
    """Approved claims, their batches and holdings, written with bulk_create in chunks
    (nothing through the services): serials continue the city's counters, which are written
    back at the end so a real issue afterwards would follow on."""

    def __init__(self, world: dict, placeholders: dict, chunk: int):
        from impact.compute import compute_quantity
        from impact.models import SerialCounter
        from impact.services import portfolio_for

        self.city = world["city"]
        self.members = world["members"]
        self.portfolios = [portfolio_for(city=self.city, user=m.user) for m in self.members]
        self.meths = methodologies()
        self.chunk = chunk
        self.placeholders = placeholders
        # 50 parameter sets per methodology, each with the quantity the methodology gives.
        self.variants = {
            m.pk: [
                (p, compute_quantity(m, p))
                for p in (METHODOLOGIES[m.code][1](j) for j in range(50))
            ]
            for m in self.meths
        }
        self.counters = {
            (c.token_class_id, c.vintage): [c.next_batch, c.next_serial]
            for c in SerialCounter.objects.filter(city=self.city)
        }
        self.seconds = 0.0
        self.table_seconds = {"claims": 0.0, "batches": 0.0, "holdings": 0.0}

    def count(self) -> int:
        from impact.models import Batch

        return Batch.objects.filter(city=self.city).count()

    def fill(self, upto: int) -> None:
        from django.utils import timezone

        from impact.models import Batch, Claim, Holding

        started = time.perf_counter()
        have = self.count()
        entry = self.placeholders["entry_id"]
        credential = self.placeholders["credential_id"]
        retirement = self.placeholders["retirement_id"]
        now = timezone.now()
        m_count = len(self.members)
        while have < upto:
            count = min(self.chunk, upto - have)
            claims, plan = [], []
            for i in range(have, have + count):
                methodology = self.meths[i % len(self.meths)]
                parameters, quantity = self.variants[methodology.pk][i // 3 % 50]
                start, end = period_of(i // 7)
                member = self.members[i % m_count]
                claims.append(
                    Claim(
                        city=self.city,
                        claimant_id=member.pk,
                        indicator_id=methodology.indicator_id,
                        methodology_id=methodology.pk,
                        token_class_id=methodology.token_class_id,
                        parameters=parameters,
                        parameters_digest="0" * 64,
                        quantity=quantity,
                        unit=methodology.token_class.smallest_unit,
                        period_start=start,
                        period_end=end,
                        district_code=DISTRICTS[i % len(DISTRICTS)],
                        service_ref=SERVICES[i % len(SERVICES)],
                        state="approved",
                        created_by_id=member.user_id,
                        submitted_at=now,
                        decided_at=now,
                        entry_id=entry,
                    )
                )
                plan.append((i, methodology.token_class_id, end.year, quantity))
            t = time.perf_counter()
            Claim.objects.bulk_create(claims, batch_size=2_000)
            self.table_seconds["claims"] += time.perf_counter() - t
            batches = []
            for claim, (i, token_class, vintage, quantity) in zip(claims, plan, strict=True):
                number, first = self.counters.setdefault((token_class, vintage), [1, 1])
                self.counters[(token_class, vintage)] = [number + 1, first + quantity]
                batches.append(
                    Batch(
                        city=self.city,
                        token_class_id=token_class,
                        vintage=vintage,
                        number=number,
                        first_serial=first,
                        last_serial=first + quantity - 1,
                        quantity=quantity,
                        claim=claim,
                        portfolio=self.portfolios[i % m_count],
                        credential_id=credential,
                        entry_id=entry,
                    )
                )
            t = time.perf_counter()
            Batch.objects.bulk_create(batches, batch_size=2_000)
            self.table_seconds["batches"] += time.perf_counter() - t
            holdings = []
            for batch, (i, *_) in zip(batches, plan, strict=True):
                retired = i % 10 == 9  # a tenth of the batches retired
                holdings.append(
                    Holding(
                        portfolio=batch.portfolio,
                        batch=batch,
                        token_class_id=batch.token_class_id,
                        first_serial=batch.first_serial,
                        last_serial=batch.last_serial,
                        quantity=batch.quantity,
                        state="retired" if retired else "available",
                        retirement_id=retirement if retired else None,
                    )
                )
            t = time.perf_counter()
            Holding.objects.bulk_create(holdings, batch_size=2_000)
            self.table_seconds["holdings"] += time.perf_counter() - t
            have += count
            if (have // self.chunk) % 10 == 0 or have >= upto:
                log(f"dashboard: {have:,} batches")
        self.save_counters()
        self.seconds += time.perf_counter() - started

    def save_counters(self) -> None:
        from impact.models import SerialCounter

        for (token_class, vintage), (number, serial) in self.counters.items():
            SerialCounter.objects.update_or_create(
                city=self.city,
                token_class_id=token_class,
                vintage=vintage,
                defaults={"next_batch": number, "next_serial": serial},
            )


def real_placeholders(world: dict) -> dict:
    """One claim approved and part of its tokens retired through the services: the bulk rows
    reference its credential, its ledger entry and its retirement."""
    from impact.models import Batch
    from impact.services import claim_verify, token_retire

    member, curator = world["members"][0], world["curator"]
    claim = submitted_claim(member, methodologies()[0], 0)
    verification = claim_verify(
        claim=claim, by=curator.user, decision="approve", recomputed_quantity=claim.quantity
    )
    batch = Batch.objects.get(claim=verification.claim)
    retirement = token_retire(
        portfolio=batch.portfolio,
        by=member.user,
        token_class=batch.token_class,
        quantity=10,
        reason_code="offset",
    )
    return {
        "entry_id": batch.entry_id,
        "credential_id": batch.credential_id,
        "retirement_id": retirement.pk,
    }


PAGES = {
    # who: (path under /c/<slug>/impact/, signed in as the mayor)
    "staff": ("dashboard/", True),
    "public": ("dashboard/public/", False),
}


def dashboard_pages(city) -> dict[str, str]:
    """The dashboard pages a view answers (a colleague is building them): the municipality's
    page for the mayor and the public page for an anonymous visitor, by who views them."""
    from django.urls import Resolver404, resolve

    found = {}
    for who, (suffix, _) in PAGES.items():
        path = f"/c/{city.slug}/impact/{suffix}"
        try:
            resolve(path)
        except Resolver404:
            continue
        found[who] = path
    return found


def interleaved(calls: dict, runs: int) -> dict:
    """Time each of `calls` `runs` times, in turn within each round, so that other work on
    the machine weighs on every figure alike. Returns the percentiles of each."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            t = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t)
    return {name: percentiles(samples) for name, samples in times.items()}


def rebuild_rollup(city) -> float:
    """The rows filled in bulk bypass the services that keep the dashboard's roll-up: rebuild
    it, as after an import (`manage.py impact_rollup_rebuild`). Returns the seconds it took."""
    from impact.services import rollup_rebuild

    started = time.perf_counter()
    rollup_rebuild(city=city)
    return time.perf_counter() - started


def bench_dashboard(operator, quick: bool) -> dict:
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from impact.selectors import dashboard

    n = size("batches", quick)
    small = min(size("batches_small", quick), n)
    runs = size("dashboard_runs", quick)
    log("dashboard: a second city, its mayor, residents and curator (services)")
    world = build_city(operator, "bench-dash", size("dashboard_members", quick))
    city = world["city"]
    filler = Filler(world, real_placeholders(world), size("fill_chunk", quick))
    pages = dashboard_pages(city)
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    mayor = Client(HTTP_ACCEPT_LANGUAGE="en")
    # Municipality staff log in with a second factor (smartb.middleware): as in production,
    # the mayor has a TOTP authenticator; force_login stands for the completed login.
    TOTP.activate(world["mayor"].user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    mayor.force_login(world["mayor"].user)
    clients = {who: mayor if PAGES[who][1] else anonymous for who in pages}

    def get(who: str) -> None:
        response = clients[who].get(pages[who])
        if response.status_code != 200:
            raise RuntimeError(f"{pages[who]} ({who}) answered {response.status_code}")

    def selector_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard(city=city)
        return len(captured)

    def page_queries() -> dict:
        # The fewest of three requests in a row: the session middleware writes the session's
        # last use at most once a minute, in whichever request comes first.
        counts = {}
        for who in pages:
            tries = []
            for _ in range(3):
                with CaptureQueriesContext(connection) as captured:
                    get(who)
                tries.append(len(captured))
            counts[who] = min(tries)
        return counts

    result: dict = {"batches": n, "small": small, "runs": runs, "pages": pages}
    log(f"dashboard: filling to {small:,} batches (bulk_create)")
    filler.fill(small)
    rebuild_rollup(city)
    result["batches_at_small"] = filler.count()
    result["selector_queries_small"] = selector_queries()
    page_error = None
    try:
        result["page_queries_small"] = page_queries()
    except Exception as error:  # noqa: BLE001 - report it, time the selector anyway
        page_error = f"{type(error).__name__}: {error}"[:300]
    log(f"dashboard: filling to {n:,} batches (bulk_create)")
    filler.fill(n)
    result["rollup_rebuild_seconds"] = rebuild_rollup(city)
    result["fill_seconds"] = filler.seconds
    result["fill_tables"] = filler.table_seconds
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # autovacuum would do it shortly; do it now
            cursor.execute("ANALYZE")
    result["analyzed"] = connection.vendor == "postgresql"
    result["batches_at_large"] = filler.count()
    result["selector_queries_large"] = selector_queries()

    # The raw limit of the selector: the same SQL with the same parameters, recorded with an
    # execute wrapper, replayed through a cursor (what the database and the driver cost).
    statements: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        board = dashboard(city=city)

    def raw_sql() -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    calls = {"selector": lambda: dashboard(city=city), "raw_sql": raw_sql}
    if page_error is None:
        try:
            result["page_queries_large"] = page_queries()  # also warms the templates
            for who in pages:
                calls[f"page_{who}"] = lambda who=who: get(who)
            calls["healthz"] = lambda: anonymous.get("/healthz")
        except Exception as error:  # noqa: BLE001 - report it, time the selector anyway
            page_error = f"{type(error).__name__}: {error}"[:300]
    log(f"dashboard: {', '.join(calls)} at {n:,} batches, {runs} rounds (interleaved)")
    try:
        result.update(interleaved(calls, runs))
    except Exception as error:  # noqa: BLE001 - a page failed: time the selector alone
        page_error = f"{type(error).__name__}: {error}"[:300]
        result.update(interleaved({k: calls[k] for k in ("selector", "raw_sql")}, runs))
    result["raw_statements"] = len(statements)
    result["issued_units"] = sum(t.issued for t in board.tokens)
    result["rows"] = {
        "by_month": len(board.by_month),
        "by_district": len(board.by_district),
        "by_service": len(board.by_service),
        "classes": len(board.tokens),
    }
    result["page_error"] = page_error
    return result


def run_backend(backend: str, db_url: str, quick: bool, out: Path) -> None:
    with measuring(backend, db_url, out) as result:
        operator = make_user("bench-operator", is_staff=True)
        log(f"world: a city, its mayor, {size('holders', quick)} residents and a curator")
        world = prepared(
            result,
            out,
            "world",
            lambda: build_city(operator, "bench-impact", size("holders", quick)),
        )
        # SMARTB_BENCH_IMPACT_ONLY=dashboard (comma-separated parts) runs only those parts.
        only = {p for p in os.environ.get("SMARTB_BENCH_IMPACT_ONLY", "").split(",") if p}

        def unless(name: str) -> str | None:
            if only and name not in only:
                return "not run (SMARTB_BENCH_IMPACT_ONLY)"
            if name != "dashboard" and (world is None or "error" in result.get("claims", {})):
                return "the city and its tokens could not be built"
            return None

        run_parts(
            result,
            out,
            [
                ("claims", lambda: bench_claims(world, quick)),
                ("transfers", lambda: bench_transfers(world, quick, db_url, out.parent)),
                ("dashboard", lambda: bench_dashboard(operator, quick)),
            ],
            unless=unless,
        )


# --------------------------------------------------------------------------------------------
# The table (top-level process)
# --------------------------------------------------------------------------------------------


def print_report(res: dict, quick: bool, load_avg: list[float]) -> None:
    rows, notes, row = table_of(res)
    name = res["backend"]

    if "world" in res:
        notes.append(f"world: FAILED: {res['world']['error']}")

    claims = res.get("claims")
    if failed := part_failed(claims):
        row("1  claim_verify", failed)
    else:
        raw = claims["raw"]
        sigs, vers = claims["signatures_per_approval"], claims["verifications_per_approval"]
        ceiling = 1 / (sigs / raw["sign_per_s"] + vers / raw["verify_per_s"])
        per_s = claims["per_s"]
        row(
            f"1  claim_verify approve, one after another (n={claims['claims']:,})",
            f"{per_s:,.1f} /s",
            claims["latency"],
            f"{per_s / raw['sign_per_s']:.2%} of raw sign",
            f"{sigs:g} signatures + {vers:g} verifications each: crypto ceiling "
            f"{ceiling:,.0f} /s, {per_s / ceiling:.1%} of it",
        )
        row(
            "1  tokens issued by those approvals",
            f"{per_s * claims['units'] / claims['batches']:,.0f} units/s",
            None,
            "",
            f"{per_s:,.1f} batches/s; {claims['batches']:,} batches, {claims['units']:,} units",
        )
        row(
            "1  raw Ed25519 sign (200 bytes, same run)",
            f"{raw['sign_per_s']:,.0f} /s",
            None,
            "100 % (the limit)",
            "best of before/after: " + " / ".join(f"{s:,.0f}" for s in raw["samples_sign"]),
        )
        row("1  raw Ed25519 verify (same run)", f"{raw['verify_per_s']:,.0f} /s")
        notes.append(
            f"claims: {claims['claims']:,} claims by {SIZES['holders'][0]} residents, in turn "
            f"cycling / waste sorted / energy saved (the shipped methodologies), each created, "
            f"given its file evidence and submitted through the services "
            f"({claims['build_seconds']:.0f} s, not timed); then the curator approves each with "
            f"claim_verify in process, one after another: the W3C VC (eddsa-jcs-2022, signed "
            f"by the curator's custodial DID) and its identity.credential.issue entry, the "
            f"impact.claim.verify entry, and the batch with its serial range "
            f"(impact.batch.issue, signed by the city's DID). Counted during the timed run: "
            f"{claims['ledger_entries']:,} ledger entries and {claims['credentials']:,} "
            f"credentials, i.e. {sigs:g} Ed25519 signatures per approval (one per entry, one "
            f"VC proof) and {vers:g} verifications (the ledger checks each platform signature "
            f"once per append). Ratio: approvals/s ÷ raw signatures/s; the crypto ceiling is "
            f"1 / ({sigs:g}/sign + {vers:g}/verify). {claims['approved']:,} claims approved."
        )

    tr = res.get("transfers")
    if failed := part_failed(tr):
        row("2  token transfers", failed)
    else:
        t, h, check = tr["transfers"], tr["healthz"], tr["check"]
        rows.append(
            load_row(
                "2  POST .../transfers",
                name,
                t,
                h,
                f"non-2xx {t['non_2xx']} (409 too few tokens: {t['statuses'].get('409', 0)}, "
                f"5xx: {sum(v for k, v in t['statuses'].items() if k.startswith('5'))}), "
                f"transport errors {t['transport_errors']}, "
                f"negative balances: {check['negative_steps']}",
            )
        )
        rows.append(load_row("2  GET /healthz", name, h, None, http_errors(h)))
        notes.append(
            f"transfers: gunicorn --workers 2 --threads 2 on 127.0.0.1 against {name}; the "
            f"{tr['holders']} residents of step 1 (each with a DRF token) send 1-9 units of "
            f"{', '.join(tr['classes'])} in turn to another resident, by DID; request k comes "
            f"from holder k mod {tr['holders']} on client k mod {t['clients']}, so every sender "
            f"is used by two clients at once and queues on its portfolio row. Statuses "
            f"{t['statuses']}; {t['recorded']:,} transfers recorded in the timed run (one "
            f"impact.token.transfer entry each, signed by the sender's custodial DID). "
            f"Reconnects: transfers {t['reconnects']}, healthz {h['reconnects']}. The client "
            f"threads run on the same 2 cores as gunicorn and the database."
        )
        conserved = "; ".join(
            f"{code}: issued {f['issued']:,} = held {f['held_total']:,} (gap {f['gap']})"
            for code, f in sorted(check["per_class"].items())
        )
        notes.append(
            f"balances: {check['transfers_replayed']:,} transfers of the city (warm-up "
            f"included) replayed in ledger order from the issued batches: "
            f"{check['negative_steps']} steps below zero, lowest running balance "
            f"{check['lowest_balance']:,}; final balances differing from the holdings: "
            f"{check['final_mismatches']}; {check['holdings']:,} holdings, smallest "
            f"{check['min_holding']}, batches whose holdings do not partition their serials: "
            f"{check['broken_batches']}. Units per class: {conserved}."
        )
        notes += load_notes("transfers", tr["log"], t, h)

    d = res.get("dashboard")
    if failed := part_failed(d):
        row("3  dashboard", failed)
    else:
        n, small = d["batches_at_large"], d["batches_at_small"]
        qs, ql = d["selector_queries_small"], d["selector_queries_large"]
        sel, raw = d["selector"], d["raw_sql"]
        row(
            f"3  selectors.dashboard @ {n:,} batches (runs={d['runs']})",
            f"{1000 / sel['mean_ms']:,.2f} /s",
            sel,
            f"{raw['mean_ms'] / sel['mean_ms']:.0%} of raw SQL",
            f"queries: {qs} @ {small:,} vs {ql} @ {n:,} ({'same' if qs == ql else 'DIFFERENT'})",
        )
        row(
            f"3  the same {d['raw_statements']} statements through a cursor",
            f"{1000 / raw['mean_ms']:,.2f} /s",
            raw,
            "100 % (the limit)",
        )
        pages = d.get("pages") or {}
        timed_pages = [who for who in pages if f"page_{who}" in d]
        for who in timed_pages:
            lat, h = d[f"page_{who}"], d["healthz"]
            a, b = d["page_queries_small"][who], d["page_queries_large"][who]
            row(
                f"3  GET {pages[who].replace('bench-dash', '<slug>')} @ {n:,}, {who} "
                f"(n={d['runs']})",
                f"{1000 / lat['mean_ms']:,.2f} /s",
                lat,
                f"{h['mean_ms'] / lat['mean_ms']:.2%} of healthz; "
                f"{sel['mean_ms'] / lat['mean_ms']:.0%} of selector",
                f"queries: {a} @ {small:,} vs {b} @ {n:,} ({'same' if a == b else 'DIFFERENT'})",
            )
        if timed_pages:
            h = d["healthz"]
            row(
                f"3  GET /healthz, same client (n={d['runs']})",
                f"{1000 / h['mean_ms']:,.0f} /s",
                h,
                "100 %",
            )
        elif pages:
            row("3  dashboard pages", f"FAILED: {d.get('page_error')}")
        else:
            notes.append(
                "dashboard pages: /c/<slug>/impact/dashboard/ does not resolve yet (being "
                "built): only the selector is measured."
            )
        tables = d.get("fill_tables") or {}
        notes.append(
            f"dashboard: a second city (its mayor, {SIZES['dashboard_members'][0]} residents, a "
            f"curator); one claim approved and 10 of its units retired through the services, "
            f"then approved claims, their batches and one holding each FILLED BY bulk_create "
            f"(not through the services; {d['fill_seconds']:.0f} s: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in tables.items())
            + "), referencing that approval's credential and ledger entry and that retirement "
            f"as placeholders: three methodologies in turn, {len(DISTRICTS)} districts, "
            f"{len(SERVICES)} service refs, periods over 36 months, holders in turn, a tenth "
            f"retired; serials continue the city's counters"
            + (
                f"; the dashboard's roll-up is then rebuilt from them "
                f"({d['rollup_rebuild_seconds']:.1f} s at {n:,} batches)"
                if "rollup_rebuild_seconds" in d
                else ""
            )
            + (", and the database is ANALYZEd before timing" if d.get("analyzed") else "")
            + f". The selector's {d['raw_statements']} queries give {d['rows']['by_month']} "
            f"month rows, {d['rows']['by_district']} district rows, {d['rows']['by_service']} "
            f"service rows, {d['rows']['classes']} token classes ({d['issued_units']:,} units "
            f"issued). Raw limit: the same SQL and parameters, recorded with an execute "
            f"wrapper, replayed through a cursor (ratio = its mean ÷ the selector's mean). "
            f"Every figure of step 3 is timed in turn within each round, so other work on the "
            f"machine weighs on all alike."
            + (
                " Pages: django.test.Client in process, the municipality's page as the mayor "
                "(a TOTP authenticator, then force_login), the public page anonymous, both "
                "with their default period (the last 12 months; the selector is timed over "
                "all time); ratio = mean of GET /healthz through the same client ÷ the "
                "page's mean."
                if timed_pages
                else ""
            )
        )
        if d.get("page_error"):
            notes.append(f"dashboard page: {d['page_error']}")

    print_table("impact", res, rows, notes, quick=quick, load_avg=load_avg)


def units_lost(result: dict) -> bool:
    """A unit lost, created or overspent in the transfers: a bug, not a slow figure."""
    check = (result.get("transfers") or {}).get("check")
    return bool(check) and bool(
        check["negative_steps"]
        or check["broken_batches"]
        or check["final_mismatches"]
        or any(f["gap"] for f in check["per_class"].values())
    )


def main() -> int:
    return bench_main(
        __file__,
        __doc__,
        quick_help="smaller sizes (100k batches)",
        run_backend=run_backend,
        print_report=print_report,
        db_name=BENCH_PG_DB,
        concurrent="transfers",
        parts=("claims", "transfers", "dashboard"),
        broken=units_lost,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Witness round trip benchmark: one city witnessing another's ledger, round after round.

A round is what `witnesses.services.witness_observe` does for one relation: fetch the log's
checkpoint, verify its signatures (a quorum of the log's validator keys), fetch and verify the
RFC 9162 consistency proof from the last checkpoint seen, then cosign (C2SP cosignature/v1,
the witnessing city's custodial key: AES-256-GCM unwrap + Ed25519 sign) and store it. Before
each round the watched chain grows by a few transactions and is sealed (not timed).

Two fetchers, each timed over the same number of rounds:
- local: the chain is in this database (`LocalFetcher`, through `ledger.selectors`);
- http: the log's public ledger API (`HttpFetcher`) answered in-process by Django's test
  client: the API views and serialisation, without a socket.

Each is printed with p50/p95/p99 and its ratio to the pure cryptography of a round, measured
with raw `cryptography` Ed25519 in the same run: (signatures verified) / verify rate + one
signature / sign rate. Nothing is asserted on time.

    .venv/bin/python bench/network_witness.py            # 200 rounds per fetcher
    .venv/bin/python bench/network_witness.py --quick    # 50 rounds

Alone it runs on a temporary SQLite database. Called by `bench/network.py` inside a process
where Django is already set up (PostgreSQL there when DATABASE_URL is set), it uses that
database and creates its own two cities (slugs with a random suffix).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import log, percentiles, raw_ed25519  # noqa: E402

GROWTH_PER_ROUND = 4


def _world(suffix: str):
    from governance.services import city_create, membership_appoint
    from identity.models import User
    from ledger.services import chain_seal
    from witnesses.services import witness_add

    operator = User.objects.create_user(
        username=f"bench-op-{suffix}", email="", password=None, is_staff=True
    )
    witness = city_create(
        operator=operator, slug=f"bw-{suffix}", name="Bench witness", postal_codes=["00000"]
    )
    watched = city_create(
        operator=operator, slug=f"bl-{suffix}", name="Bench log", postal_codes=["00001"]
    )
    staff = User.objects.create_user(username=f"bench-staff-{suffix}", email="", password=None)
    membership_appoint(operator=operator, user=staff, city=witness)
    chain_seal(chain=watched.chain)
    relation = witness_add(city=witness, by=staff, chain=watched.chain)
    return witness, watched, relation


def _grow(city, count: int) -> None:
    from ledger.services import chain_seal, ledger_append

    for n in range(count):
        ledger_append(
            chain=city.chain, actor=city.identity, kind="bench.witness.grow", payload={"n": n}
        )
    chain_seal(chain=city.chain)


class _Timed:
    """Wraps a fetcher and adds up the time spent fetching (checkpoint and proof)."""

    def __init__(self, inner) -> None:
        self.inner, self.spent = inner, 0.0

    def checkpoint(self) -> str:
        start = time.perf_counter()
        try:
            return self.inner.checkpoint()
        finally:
            self.spent += time.perf_counter() - start

    def consistency(self, first: int, second: int):
        start = time.perf_counter()
        try:
            return self.inner.consistency(first, second)
        finally:
            self.spent += time.perf_counter() - start


def _client_transport():
    from django.test import Client

    client = Client()

    def transport(url: str, timeout: float) -> tuple[int, bytes]:
        parts = urlsplit(url)
        response = client.get(parts.path + ("?" + parts.query if parts.query else ""))
        return response.status_code, response.content

    return transport


def _rounds(kind: str, watched, relation, rounds: int) -> dict:
    from witnesses.fetchers import HttpFetcher, LocalFetcher
    from witnesses.services import witness_observe

    if kind == "local":
        inner = LocalFetcher(watched.chain.slug)
    else:
        inner = HttpFetcher("http://testserver", watched.chain.slug, transport=_client_transport())
    totals, fetches, outcomes = [], [], {}
    for _ in range(rounds):
        _grow(watched, GROWTH_PER_ROUND)
        fetcher = _Timed(inner)
        start = time.perf_counter()
        outcome = witness_observe(relation=relation, fetcher=fetcher).outcome
        totals.append(time.perf_counter() - start)
        fetches.append(fetcher.spent)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"round": percentiles(totals), "fetch": percentiles(fetches), "outcomes": outcomes}


def _ensure_django() -> str:
    """Django on the database of the calling process, or on a fresh one. Returns a note."""
    from django.conf import settings

    if settings.configured:
        return "the calling process's database"
    url = f"sqlite:///{tempfile.mkdtemp(prefix='smartb-bench-witness-')}/bench.sqlite3"
    from bench._common import setup_django

    setup_django(url)
    return "a temporary SQLite file"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 rounds instead of 200")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv if argv is not None else [])
    rounds = args.rounds or (50 if args.quick else 200)
    database = _ensure_django()
    from django.db import connection

    suffix = secrets.token_hex(3)
    log(f"witness benchmark on {connection.vendor} ({database}), {rounds} rounds per fetcher")
    _witness, watched, relation = _world(suffix)
    quorum = relation.quorum
    raw = raw_ed25519(2.0)
    crypto_s = quorum / raw["verify_per_s"] + 1 / raw["sign_per_s"]
    results = {}
    for kind in ("local", "http"):
        log(f"{kind}: {rounds} rounds")
        results[kind] = _rounds(kind, watched, relation, rounds)
    print(
        f"SMART B witness round trip ({connection.vendor}, {rounds} rounds, the log grows by "
        f"{GROWTH_PER_ROUND} transactions before each; log quorum {quorum})"
    )
    print(
        f"raw Ed25519: sign {raw['sign_per_s']:,.0f} /s, verify {raw['verify_per_s']:,.0f} /s "
        f"-> a round's cryptography ({quorum} verify + 1 sign) = {crypto_s * 1000:.3f} ms"
    )
    header = f"{'fetcher':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'fetch p50':>10} ratio"
    print(header)
    for kind, figures in results.items():
        lat, fetch = figures["round"], figures["fetch"]
        ratio = crypto_s * 1000 / lat["p50_ms"] if lat["p50_ms"] else 0.0
        print(
            f"{kind:<8} {lat['p50_ms']:>8.2f} {lat['p95_ms']:>8.2f} {lat['p99_ms']:>8.2f} "
            f"{fetch['p50_ms']:>10.2f} {ratio:6.1%} of raw crypto  {figures['outcomes']}"
        )
    return {"raw": raw, "crypto_ms": crypto_s * 1000, "quorum": quorum, **results}


if __name__ == "__main__":
    main(sys.argv[1:])

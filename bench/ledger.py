"""Ledger benchmark: raw Ed25519 limits, and how close the ledger gets to them.

Run from the repository root:

    .venv/bin/python bench/ledger.py            # full run (a few minutes on 2 cores)
    .venv/bin/python bench/ledger.py --quick    # smaller sizes (about a minute)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ledger.py

The top-level invocation measures raw `cryptography` Ed25519 signing and verification, then
runs one subprocess of this same script per database backend (`--backend sqlite`, and
`--backend postgres` when DATABASE_URL names a PostgreSQL server), because the settings read
DATABASE_URL when they are imported. Each subprocess configures Django on a fresh database
(a temporary SQLite file, or a `smartb_bench` database created and dropped here), migrates it,
measures, and writes its figures as JSON; the top level prints one table with every figure
and its ratio to the raw limit measured in the same run. Progress goes to stderr. Nothing
here asserts on time: the targets are reported as met or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `python bench/ledger.py` puts bench/ first on sys.path, where this file would shadow the
# `ledger` app: take it off and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402 - after the sys.path fix above
    PG_SCHEMES,
    T0,
    bench_args,
    db_version,
    heading,
    log,
    percentiles,
    raw_ed25519,
    run_postgres,
    setup_django,
    spawn,
    table_lines,
    table_row,
)

BENCH_PG_DB = "smartb_bench"

# Sizes: (full, quick).
SIZES = {
    "raw_seconds": (2.0, 2.0),
    "single_appends": (1_000, 300),
    "batched_appends": (5_000, 2_000),  # ledger_append, 100 per transaction.atomic()
    "verify_chain": (20_000, 5_000),  # the rest through ledger_append_many, if it exists
    "batch": (100, 100),
    "seal_every": (500, 500),
    "proof_entries": (1_000_000, 100_000),
    "proof_samples": (1_000, 1_000),
    "fill_chunk": (20_000, 20_000),
}

TARGETS = {
    "batched": 1 / 3,  # batched appends/s >= 1/3 of raw signatures/s
    "verify": 0.80,  # ledger_verify tx/s >= 80 % of raw verifications/s
    "proof_ms": 2.0,  # inclusion proof < 2 ms at a million entries
}


def size(name: str, quick: bool) -> int | float:
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# 2-4. One database backend (subprocess)
# --------------------------------------------------------------------------------------------


def bench_appends(quick: bool) -> tuple[dict, object]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.db import transaction

    from ledger import services
    from ledger.services import (
        actor_register,
        chain_create,
        chain_seal,
        ledger_append,
        transaction_prepare,
    )
    from ledger.signing import KeySigner

    signer = KeySigner(Ed25519PrivateKey.generate())
    actor_register(did=signer.did)

    def payload(i: int) -> dict:
        return {"ballot": f"b-{i:08d}", "choice": "yes", "proposal": "p-2026-0001", "seq": i}

    single = chain_create(slug="bench-single", name="bench single commits")
    signed_len = len(
        transaction_prepare(
            chain=single, actor_did=signer.did, kind="bench.vote.cast", payload=payload(0)
        ).signing_bytes
    )

    # (a) one commit per append
    n_single = int(size("single_appends", quick))
    log(f"(a) {n_single} appends, one transaction.atomic() each")
    for i in range(20):  # warm-up (connection, statement caches)
        with transaction.atomic():
            ledger_append(chain=single, actor=signer, kind="bench.vote.cast", payload=payload(i))
    latencies = []
    start = time.perf_counter()
    for i in range(20, 20 + n_single):
        t = time.perf_counter()
        with transaction.atomic():
            ledger_append(chain=single, actor=signer, kind="bench.vote.cast", payload=payload(i))
        latencies.append(time.perf_counter() - t)
    total_single = time.perf_counter() - start

    # (b) 100 ledger_append calls per transaction.atomic(), then (b') the service's own batch
    # entry point, ledger_append_many, 100 entries per call, when it has one. Both write the
    # chain that ledger_verify checks afterwards, sealed every 500 (sealing is timed apart).
    n_batched = int(size("batched_appends", quick))
    n_verify = int(size("verify_chain", quick))
    batch = int(size("batch", quick))
    seal_every = int(size("seal_every", quick))
    chain = chain_create(slug="bench-verify", name="bench batched commits")
    append_many = getattr(services, "ledger_append_many", None)
    if append_many is None:
        n_batched = n_verify
    timing = {"b": 0.0, "b'": 0.0, "seal": 0.0}
    appended, blocks = 0, 0
    log(f"(b) {n_batched} appends, {batch} ledger_append per transaction.atomic()")
    while appended < n_verify:
        mode = "b" if appended < n_batched else "b'"
        if mode == "b'" and appended == n_batched:
            log(f"(b') {n_verify - n_batched} appends, ledger_append_many, {batch} per call")
        t = time.perf_counter()
        with transaction.atomic():
            if mode == "b":
                for i in range(appended, appended + batch):
                    ledger_append(
                        chain=chain, actor=signer, kind="bench.vote.cast", payload=payload(i)
                    )
            else:
                entries = [
                    (signer, "bench.vote.cast", payload(i))
                    for i in range(appended, appended + batch)
                ]
                append_many(chain=chain, entries=entries)
        timing[mode] += time.perf_counter() - t
        appended += batch
        if appended % seal_every == 0 or appended >= n_verify:
            t = time.perf_counter()
            if chain_seal(chain=chain) is not None:
                blocks += 1
            timing["seal"] += time.perf_counter() - t
        if appended % 5000 == 0:
            log(f"(b/b') {appended}/{n_verify}")
    many = None
    if append_many is not None and n_verify > n_batched:
        n_many = n_verify - n_batched
        many = {"count": n_many, "batch": batch, "per_s": n_many / timing["b'"]}

    result = {
        "signed_bytes": signed_len,
        "single": {
            "count": n_single,
            "per_s": n_single / total_single,
            **percentiles(latencies),
        },
        "batched": {
            "count": n_batched,
            "batch": batch,
            "per_s": n_batched / timing["b"],
            "blocks": blocks,
            "seal_ms_per_block": timing["seal"] / max(blocks, 1) * 1000,
        },
        "many": many,
    }
    return result, chain


def bench_verify(chain) -> dict:
    from ledger.integrity import verify_chain
    from ledger.models import Chain

    chain = Chain.objects.get(pk=chain.pk)
    log(f"ledger_verify: verify_chain over {chain.size} transactions, {chain.block_count} blocks")
    start = time.perf_counter()
    report = verify_chain(chain)
    elapsed = time.perf_counter() - start
    return {
        "transactions": report.transactions,
        "blocks": report.blocks,
        "seconds": elapsed,
        "per_s": report.transactions / elapsed,
        "failure": None if report.failure is None else str(report.failure),
    }


def bench_proofs(quick: bool) -> dict:
    from django.db import connection

    from ledger import merkle, selectors
    from ledger.models import Chain, MerkleNode, Transaction

    n = int(size("proof_entries", quick))
    chunk = int(size("fill_chunk", quick))
    samples = int(size("proof_samples", quick))

    log(f"proofs: hashing {n:,} synthetic leaves (leaf i = SHA-256 of str(i)) into a MemoryTree")
    tree = merkle.MemoryTree()
    for i in range(n):
        tree.append_leaf_hash(hashlib.sha256(str(i).encode()).digest())

    chain = Chain.objects.create(slug="bench-proofs", name="bench proofs (synthetic)")
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    filler_actor = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    log(f"proofs: inserting {n:,} Transaction rows (bulk_create, chunks of {chunk:,})")
    fill_start = time.perf_counter()
    for first in range(0, n, chunk):
        rows = [
            Transaction(
                chain=chain,
                index=i,
                kind="bench.filler",
                actor=filler_actor,
                payload={"seq": i},
                created_at=created,
                signature="0" * 128,  # filler: these rows are never signature-checked here
                tx_hash=hashlib.sha256(b"bench-proofs-tx:%d" % i).hexdigest(),
                leaf_hash=tree.nodes[(0, i)].hex(),
            )
            for i in range(first, min(first + chunk, n))
        ]
        Transaction.objects.bulk_create(rows)
        if (first // chunk) % 10 == 9:
            log(f"proofs: {first + len(rows):,} transactions")
    inner = [(key, value) for key, value in tree.nodes.items() if key[0] > 0]
    log(f"proofs: inserting {len(inner):,} MerkleNode rows (complete subtrees, level >= 1)")
    for first in range(0, len(inner), chunk):
        MerkleNode.objects.bulk_create(
            MerkleNode(chain=chain, level=level, index=index, hash=value.hex())
            for (level, index), value in inner[first : first + chunk]
        )
        if (first // chunk) % 10 == 9:
            log(f"proofs: {first + chunk:,} nodes")
    Chain.objects.filter(pk=chain.pk).update(size=n)
    fill_seconds = time.perf_counter() - fill_start
    chain = Chain.objects.get(pk=chain.pk)
    del inner

    rng = random.Random(20260101)
    inclusion_pairs = []
    for _ in range(samples):
        tree_size = rng.randint(1, n)
        inclusion_pairs.append((rng.randrange(tree_size), tree_size))
    consistency_pairs = []
    for _ in range(samples):
        a, b = rng.randint(1, n), rng.randint(1, n)
        consistency_pairs.append((min(a, b), max(a, b)))
    roots: dict[int, bytes] = {}

    def root_of(tree_size: int) -> bytes:
        if tree_size not in roots:
            roots[tree_size] = tree.root(tree_size)
        return roots[tree_size]

    def check_inclusion(pair, proof) -> bool:
        index, tree_size = pair
        expected, leaf = root_of(tree_size), tree.nodes[(0, index)]
        path = [bytes.fromhex(h) for h in proof.audit_path]
        return (
            proof.leaf_hash == leaf.hex()
            and proof.root == expected.hex()
            and merkle.verify_inclusion(leaf, index, tree_size, path, expected)
        )

    def check_consistency(pair, proof) -> bool:
        first, second = pair
        r1, r2 = root_of(first), root_of(second)
        path = [bytes.fromhex(h) for h in proof["proof"]]
        return (
            proof["first_root"] == r1.hex()
            and proof["second_root"] == r2.hex()
            and merkle.verify_consistency(first, second, r1, r2, path)
        )

    def timed(label, pairs, call, check, budget_s):
        """Time `call` over `pairs` (stopping early past `budget_s`), verify outside timing."""
        log(f"proofs: up to {len(pairs)} {label} (budget {budget_s:.0f} s)")
        times, results, start = [], [], time.perf_counter()
        for pair in pairs:
            t = time.perf_counter()
            results.append(call(*pair))
            times.append(time.perf_counter() - t)
            if time.perf_counter() - start > budget_s and len(times) >= 20:
                break
        done = zip(pairs[: len(results)], results, strict=True)
        failed = sum(not check(pair, proof) for pair, proof in done)
        return {"count": len(times), "failed": failed, **percentiles(times)}

    def inclusion(index, tree_size):
        return selectors.inclusion_proof(chain=chain, index=index, tree_size=tree_size)

    def consistency(first, second):
        return selectors.consistency_proof(chain=chain, first=first, second=second)

    def memory_figures() -> dict:
        """The raw limit: the same proofs with hashes fetched from memory, no database."""
        out = {}
        for name, pairs, call in (
            ("inclusion", inclusion_pairs, merkle.inclusion_proof),
            ("consistency", consistency_pairs, merkle.consistency_proof),
        ):
            times = []
            for a, b in pairs:
                t = time.perf_counter()
                call(a, b, tree.fetch)
                times.append(time.perf_counter() - t)
            out[name] = percentiles(times)
        return out

    def appends_on_big_chain(count: int, budget_s: float) -> dict:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from django.db import transaction

        from ledger.services import actor_register, ledger_append
        from ledger.signing import KeySigner

        signer = KeySigner(Ed25519PrivateKey.generate())
        actor_register(did=signer.did)
        log(f"appends on the {n:,}-entry chain: up to {count}, one commit each")
        times, start = [], time.perf_counter()
        for i in range(count):
            t = time.perf_counter()
            with transaction.atomic():
                ledger_append(chain=chain, actor=signer, kind="bench.vote.cast", payload={"seq": i})
            times.append(time.perf_counter() - t)
            if time.perf_counter() - start > budget_s and len(times) >= 20:
                break
        return {"count": len(times), **percentiles(times), "per_s": len(times) / sum(times)}

    budget = 10.0
    result = {"entries": n, "fill_seconds": fill_seconds, "memory": memory_figures()}
    # As shipped: Django never runs ANALYZE, so SQLite plans without statistics.
    shipped = {
        "inclusion": timed("inclusion proofs", inclusion_pairs, inclusion, check_inclusion, budget),
        "consistency": timed(
            "consistency proofs", consistency_pairs, consistency, check_consistency, budget
        ),
    }
    # Appends continue the chain from index n: after the proof checks, which need tree.nodes.
    shipped["append"] = appends_on_big_chain(200, budget)
    result["shipped"] = shipped
    if connection.vendor == "sqlite":
        log("proofs: running ANALYZE (SQLite planner statistics), then again")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        chain = Chain.objects.get(pk=chain.pk)
        analyzed = {
            "inclusion": timed(
                "inclusion proofs", inclusion_pairs, inclusion, check_inclusion, 4 * budget
            ),
            "consistency": timed(
                "consistency proofs", consistency_pairs, consistency, check_consistency, 4 * budget
            ),
        }
        analyzed["append"] = appends_on_big_chain(200, budget)
        result["analyzed"] = analyzed
    return result


def run_backend(backend: str, db_url: str, quick: bool, out: Path) -> None:
    setup_django(db_url)
    from django.db import connection

    result: dict = {"backend": backend, "version": db_version()}
    appends, chain = bench_appends(quick)
    result["appends"] = appends
    result["verify"] = bench_verify(chain)
    if backend == "sqlite":
        result["proofs"] = bench_proofs(quick)
    connection.close()
    out.write_text(json.dumps(result))
    log(f"{backend}: done")


# --------------------------------------------------------------------------------------------
# Orchestration and the table (top-level process)
# --------------------------------------------------------------------------------------------


def fmt_rate(value: float) -> str:
    return f"{value:,.0f} /s"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def print_report(raw: dict, results: list[dict], quick: bool) -> None:
    import cryptography

    sign, verify = raw["sign_per_s"], raw["verify_per_s"]
    rows: list[tuple] = []
    notes: list[str] = []

    def row(figure, backend="-", rate="", lat=None, ratio="", target="", status=""):
        rows.append((*table_row(figure, backend, rate, lat, ratio, target), status))

    row("1  raw Ed25519 sign, 200 B message", rate=fmt_rate(sign), ratio="100 %")
    row("1  raw Ed25519 verify, 200 B message", rate=fmt_rate(verify), ratio="100 %")
    for res in results:
        name = res["backend"]
        if "error" in res:
            row(f"2-4 {name} run", name, "FAILED: " + res["error"])
            continue
        single, batched = res["appends"]["single"], res["appends"]["batched"]
        row(
            f"2a append, 1 commit each (n={single['count']:,})",
            name,
            fmt_rate(single["per_s"]),
            single,
            f"{single['per_s'] / sign:.1%} of sign",
        )
        ratio = batched["per_s"] / sign
        row(
            f"2b append, {batched['batch']} per commit (n={batched['count']:,})",
            name,
            fmt_rate(batched["per_s"]),
            None,
            f"{ratio:.1%} of sign",
            ">= 33.3 % of sign",
            verdict(ratio >= TARGETS["batched"]),
        )
        many = res["appends"].get("many")
        if many:
            ratio = many["per_s"] / sign
            row(
                f"2b' ledger_append_many, {many['batch']} per call (n={many['count']:,})",
                name,
                fmt_rate(many["per_s"]),
                None,
                f"{ratio:.1%} of sign",
                "(same target)",
                verdict(ratio >= TARGETS["batched"]),
            )
        ver = res["verify"]
        ok = ver["failure"] is None
        ratio = ver["per_s"] / verify
        row(
            f"3  ledger_verify ({ver['transactions']:,} tx, {ver['blocks']} blocks)",
            name,
            fmt_rate(ver["per_s"]) if ok else "FAILED",
            None,
            f"{ratio:.1%} of verify",
            ">= 80 % of verify",
            verdict(ok and ratio >= TARGETS["verify"]),
        )
        if not ok:
            notes.append(f"{name}: verify_chain reported a failure: {ver['failure']}")
        notes.append(
            f"{name} ({res['version']}): 2b excludes sealing, {batched['seal_ms_per_block']:.1f} ms"
            f" per block of {SIZES['seal_every'][0]} ({batched['blocks']} blocks); each signed "
            f"transaction body is {res['appends']['signed_bytes']} B"
        )
        proofs = res.get("proofs")
        if not proofs:
            continue
        n = proofs["entries"]
        memory = proofs["memory"]
        for kind in ("inclusion", "consistency"):
            row(
                f"4  raw {kind} proof, hashes from memory",
                name,
                f"{1000 / memory[kind]['mean_ms']:,.0f} /s",
                memory[kind],
                "100 %",
            )
        for phase, label in (("shipped", "as shipped"), ("analyzed", "after ANALYZE")):
            figures = proofs.get(phase)
            if not figures:
                continue
            for kind in ("inclusion", "consistency"):
                figure = figures[kind]
                target = status = ""
                if kind == "inclusion":
                    target = "p99 < 2 ms @ 1M"
                    met = figure["p99_ms"] < TARGETS["proof_ms"] and not figure["failed"]
                    status = verdict(met) + ("" if n >= 1_000_000 else " (100k only)")
                row(
                    f"4  {kind} proof @ {n:,}, {label} (n={figure['count']})",
                    name,
                    f"{1000 / figure['mean_ms']:,.0f} /s",
                    figure,
                    f"{memory[kind]['p50_ms'] / figure['p50_ms']:.1%} of memory",
                    target,
                    status,
                )
                notes.append(
                    f"{name}: {kind} proofs {label}: {figure['count']} random pairs timed, "
                    f"{figure['count'] - figure['failed']} verified against MemoryTree roots, "
                    f"{figure['failed']} failed"
                )
            app = figures["append"]
            row(
                f"2c append @ {n:,} entries, 1 commit, {label} (n={app['count']})",
                name,
                fmt_rate(app["per_s"]),
                app,
                f"{app['per_s'] / sign:.1%} of sign",
            )
        notes.append(
            f"{name}: the {n:,}-entry chain for 4 and 2c is filled directly, not through "
            f"ledger_append: leaf i = SHA-256(str(i)), filler Transaction rows (their signatures "
            f"are not valid), MerkleNode rows computed by merkle.MemoryTree; bulk_create took "
            f"{proofs['fill_seconds']:.0f} s. 'as shipped' = fresh migrated database, no "
            f"planner statistics (Django never runs ANALYZE); 'after ANALYZE' = same database "
            f"after SQLite's ANALYZE."
        )

    header = ("figure", "backend", "throughput", "p50 ms", "p95 ms", "p99 ms", "ratio to raw")
    header += ("target", "status")
    print()
    print(heading("ledger", quick, f"cryptography {cryptography.__version__}"))
    print("\n".join(table_lines(header, rows, {2, 3, 4, 5, 6})))
    print()
    print("ratio to raw = throughput / raw throughput of this run: appends / raw signatures/s,")
    print("ledger_verify / raw verifications/s, proofs: in-memory p50 / database p50.")
    for note in notes:
        print(f"- {note}")
    first, last = raw["samples"]
    print(
        f"- raw Ed25519 measured at the start and at the end of the run: sign "
        f"{first['sign_per_s']:,.0f} and {last['sign_per_s']:,.0f} /s, verify "
        f"{first['verify_per_s']:,.0f} and {last['verify_per_s']:,.0f} /s; the table and the "
        f"ratios use the better of each. 1-minute load average at start/end: "
        f"{raw['load'][0]:.2f} / {raw['load'][1]:.2f} on {os.cpu_count()} CPUs (other work on "
        f"the machine lowers every figure)."
    )
    print(f"Total wall time {time.perf_counter() - T0:.0f} s.")


def main() -> int:
    args = bench_args(__doc__, "smaller sizes (100k proofs)")
    if args.backend:  # subprocess: one database backend
        run_backend(args.backend, args.db_url, args.quick, args.json_out)
        return 0

    load = [os.getloadavg()[0]]
    raw = raw_ed25519(float(size("raw_seconds", args.quick)))
    results = []
    with tempfile.TemporaryDirectory(prefix="smartb-bench-") as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        results.append(spawn(__file__, "sqlite", sqlite_url, args.quick, workdir))
        server = os.environ.get("DATABASE_URL", "")
        if server.startswith(PG_SCHEMES):
            results.append(run_postgres(__file__, BENCH_PG_DB, server, args.quick, workdir))
        elif server:
            log("DATABASE_URL is not PostgreSQL: PostgreSQL run skipped")
    # Measured again at the end: the ratios use the better of the two (the machine's limit).
    again = raw_ed25519(float(size("raw_seconds", args.quick)))
    load.append(os.getloadavg()[0])
    raw = {
        "sign_per_s": max(raw["sign_per_s"], again["sign_per_s"]),
        "verify_per_s": max(raw["verify_per_s"], again["verify_per_s"]),
        "samples": [raw, again],
        "load": load,
    }
    print_report(raw, results, args.quick)
    return 1 if any("error" in res for res in results) else 0


if __name__ == "__main__":
    sys.exit(main())

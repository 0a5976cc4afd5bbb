"""Data marketplace benchmark: authorised data requests, encrypted streaming, catalogue search.

Run from the repository root:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/marketplace.py            # full run
    .venv/bin/python bench/marketplace.py --quick    # smaller sizes

Without a PostgreSQL DATABASE_URL it runs on SQLite (a temporary file) and says so.

As the other HTTP benchmarks do, the top-level invocation creates a fresh database
(`smartb_bench_marketplace` on the PostgreSQL server named by DATABASE_URL, dropped at the end
even after a failure; or a temporary SQLite file) and runs one subprocess of this same script
on it, with a temporary data root (SMARTB_DATA_ROOT) for the encrypted files. The subprocess
builds the world through the services, measures and writes its figures as JSON; the top level
prints one table. Progress goes to stderr. Nothing here asserts on time.

The world, all through the services (signed ledger entries included): a city, its mayor, 8
resident members, a provider member who consumes data (DRF token); a personal dataset about
the residents (a CSV of about 4 KiB, a `subject` column of DIDs, hosted encrypted) with an
offer, 4 agreements on it accepted by the consumer and consented by every resident; an open
dataset with one large hosted CSV (64 MiB, 16 MiB with --quick) and a free agreement on it.

1. Authorised data requests per second: GET /api/v1/marketplace/agreements/{id}/data of the
   4 KiB file (agreement, consent, limits, metering and a delivery receipt on the ledger per
   request), gunicorn 2 workers x 2 threads, 16 keep-alive clients, against, in the same run
   and under the same load: the same bytes served by a trivial view without any check (added
   by this script's WSGI entry, `baseline_app`, under /bench/plain/<distribution>: one
   Distribution lookup and `distribution_open`, no authentication), and GET /healthz. Also
   in process, one after another: `distribution_open` of the same file and `delivery_open`.
2. Encrypted streaming: `distribution_open` over the large file against raw AES-256-GCM
   decryption (`cryptography`'s AESGCM) of the very same stored chunks, in memory, in the
   same run; and the same file through the data endpoint and through the trivial view.
3. Catalogue search (`dataset_search` through GET /api/v1/marketplace/data/datasets/, in
   process with django.test.Client): p50/p95/p99 of typical filters at 1,000 and at 100,000
   published datasets (10,000 with --quick), and the query count at both sizes (they should be
   equal). The datasets beyond the few made by the services are bulk_created (their themes,
   keywords and one active offer in ten too), all pointing at one real ledger entry.
"""

from __future__ import annotations

import http.client
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `python bench/marketplace.py` puts bench/ first on sys.path, where this file would shadow
# the `marketplace` app: take it off and put the repository root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402 - after the sys.path fix above
    POSTAL_CODE,
    bench_main,
    gunicorn,
    load,
    load_notes,
    load_row,
    log,
    log_tail,
    make_user,
    measuring,
    part_failed,
    percentiles,
    prepared,
    print_table,
    run_parts,
    siret,
    table_of,
)

BENCH_PG_DB = "smartb_bench_marketplace"
MIB = 1024 * 1024

# Sizes: (full, quick).
SIZES = {
    "residents": (8, 8),
    "agreements": (4, 4),
    "small_file_bytes": (4096, 4096),
    "large_file_mib": (64, 16),
    "clients": (16, 16),
    "data_requests": (2_000, 600),
    "plain_requests": (2_000, 600),
    "healthz_requests": (2_000, 600),
    "in_process_calls": (300, 100),
    "stream_reps": (3, 2),
    "datasets_small": (1_000, 1_000),
    "datasets": (100_000, 10_000),
    "search_requests_small": (20, 10),
    "search_requests": (60, 20),
}
PLAIN_PREFIX = "bench/plain/"
PERSONAL_POLICY = {
    "permission": [
        {
            "action": "read",
            "constraint": [
                {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["research"]},
                {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P90D"},
            ],
        },
        {"action": "aggregate"},
    ],
    "prohibition": [{"action": "distribute"}],
}
OPEN_POLICY = {"permission": [{"action": "read"}, {"action": "aggregate"}]}
THEMES = [
    "AGRI",
    "ECON",
    "EDUC",
    "ENER",
    "ENVI",
    "GOVE",
    "HEAL",
    "INTR",
    "JUST",
    "REGI",
    "SOCI",
    "TECH",
    "TRAN",
]
TOPICS = [
    "vélo",
    "bus",
    "qualité de l'air",
    "bruit",
    "eau potable",
    "déchets",
    "éclairage",
    "parkings",
    "arbres",
    "énergie",
    "écoles",
    "budget",
    "marchés",
    "bibliothèques",
    "piscines",
    "chantiers",
    "inondations",
    "trafic",
    "recensement",
    "subventions",
]
SEARCHES = [  # (label, query string)
    ("no filter", ""),
    ("theme=TRAN", "theme=TRAN"),
    ("keyword=velo", "keyword=velo"),
    ("text q=vélo", "q=v%C3%A9lo"),
    ("max_price_cents=200", "max_price_cents=200"),
    ("theme+keyword+personal", "theme=ENVI&keyword=air&personal=false"),
]


def size(name: str, quick: bool) -> int:
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# The baseline: the same bytes without any check (gunicorn `bench.marketplace:baseline_app()`)
# --------------------------------------------------------------------------------------------


def plain_download(request, public_id: str):
    """The stored file, decrypted on the fly: no authentication, no agreement, no consent, no
    counting, no receipt. Only for this benchmark's baseline."""
    from django.http import StreamingHttpResponse

    from marketplace.data.models import Distribution
    from marketplace.data.storage import distribution_open

    distribution = Distribution.objects.select_related("version").get(public_id=public_id)
    response = StreamingHttpResponse(
        distribution_open(distribution), content_type=distribution.media_type
    )
    response["Content-Length"] = str(distribution.byte_size)
    return response


def baseline_app():
    """smartb.wsgi's application, with /bench/plain/<distribution> in front of its routes."""
    import importlib

    from django.urls import path

    from smartb.wsgi import application  # sets Django up: the URLconf imports after it

    urls = importlib.import_module("smartb.urls")
    urls.urlpatterns.insert(0, path(PLAIN_PREFIX + "<str:public_id>", plain_download))
    return application


# --------------------------------------------------------------------------------------------
# The measuring subprocess: the world
# --------------------------------------------------------------------------------------------


def metadata(**fields):
    from marketplace.data.services import DatasetMetadata

    values = {
        "title": "Consommations d'eau par foyer",
        "description": "Relevés quotidiens des compteurs d'eau des foyers volontaires.",
        "licence": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        "contact_name": "Service des eaux",
        "contact_email": "eaux@ville.example.org",
        "themes": ["ENVI"],
        "keywords": ["eau", "compteurs"],
        "frequency": "DAILY",
        "temporal_start": "2026-01-01",
        "temporal_end": "2026-12-31",
        "spatial_uri": "https://id.insee.fr/geo/commune/01053",
    }
    values.update(fields)
    return DatasetMetadata(**values)


def personal_csv(dids: list[str], target: int) -> bytes:
    """A CSV of water readings cycling over `dids`, cut at a record boundary near `target`."""
    lines, total, k = ["subject,date,litres\n"], 20, 0
    while True:
        line = f"{dids[k % len(dids)]},2026-03-{1 + k // len(dids) % 28:02d},{100 + k}\n"
        if total + len(line) > target:
            return "".join(lines).encode()
        lines.append(line)
        total += len(line)
        k += 1


def large_csv_block() -> bytes:
    """1 MiB of air-quality rows (ASCII), repeated to make the large file."""
    rows, total, k = [], 0, 0
    while True:
        row = f"STATION{k % 97:02d},2026-01-{1 + k % 28:02d}T{k % 24:02d}:00,{10 + k % 90}\n"
        if total + len(row) > MIB:
            rows.append("#" * (MIB - total - 1) + "\n")
            return "".join(rows).encode()
        rows.append(row)
        total += len(row)
        k += 1


def build_world(quick: bool) -> dict:
    from rest_framework.authtoken.models import Token

    from governance import services as gov
    from marketplace.data.models import AgreementStatus, Distribution
    from marketplace.data.services import HostedFile, dataset_create, dataset_version_add
    from marketplace.data.services.consents import consent_decide
    from marketplace.data.services.contracts import agreement_accept, offer_create, quote_create

    started = time.perf_counter()
    operator = make_user("bench-operator", is_staff=True)
    city = gov.city_create(
        operator=operator, slug="bench-data", name="Ville des données", postal_codes=[POSTAL_CODE]
    )
    mayor = gov.membership_appoint(operator=operator, user=make_user("bench-mayor"), city=city)
    residents = [
        gov.membership_approve(
            membership=gov.membership_request(
                user=make_user(f"bench-resident-{r}"),
                city=city,
                college=city.colleges.get(slug="residents"),
                postal_address=f"{r + 1} rue des Lilas",
                postal_code=POSTAL_CODE,
            ),
            by=mayor.user,
        )
        for r in range(size("residents", quick))
    ]
    consumer = make_user("bench-consumer")
    gov.membership_approve(
        membership=gov.membership_request(
            user=consumer, city=city, college=city.colleges.get(slug="providers"), siret=siret(0)
        ),
        by=mayor.user,
    )
    token, _ = Token.objects.get_or_create(user=consumer)
    dids = [m.identity.did for m in residents]

    log("world: a personal dataset of about 4 KiB, its offer, agreements and consents")
    small = personal_csv(dids, size("small_file_bytes", quick))
    personal = dataset_create(
        by=mayor.user,
        city=city,
        metadata=metadata(),
        publisher_kind="municipality",
        is_personal=True,
        subject_dids=dids,
    )
    dataset_version_add(
        by=mayor.user,
        dataset=personal,
        files=[HostedFile(content=[small], format="CSV", media_type="text/csv")],
    )
    offer = offer_create(
        dataset=personal, by=mayor.user, policy=PERSONAL_POLICY, pricing_model="free"
    )
    agreements = []
    for _ in range(size("agreements", quick)):
        quote = quote_create(offer=offer, consumer=consumer)
        agreement = agreement_accept(quote=quote, consumer=consumer, purposes=["research"])
        for consent in agreement.consents.select_related("subject"):
            member = next(m for m in residents if m.identity_id == consent.subject_id)
            consent_decide(consent=consent, user=member.user, give=True)
        agreement.refresh_from_db()
        if agreement.status != AgreementStatus.ACTIVE:
            raise RuntimeError(f"agreement not active after the consents: {agreement.status}")
        agreements.append(agreement)
    small_distribution = Distribution.objects.select_related("version").get(
        version__dataset=personal
    )

    n_mib = size("large_file_mib", quick)
    log(f"world: an open dataset with a {n_mib} MiB hosted CSV (encrypted on the way in)")
    block = large_csv_block()
    header = b"station,time,pm10\n"
    first = header + block[len(header) :]
    upload_started = time.perf_counter()
    open_dataset = dataset_create(
        by=mayor.user,
        city=city,
        metadata=metadata(
            title="Qualité de l'air : mesures horaires",
            description="Concentrations de PM10 mesurées par les stations de la ville.",
            themes=["ENVI", "HEAL"],
            keywords=["air", "PM10"],
            frequency="HOURLY",
        ),
        publisher_kind="municipality",
    )
    dataset_version_add(
        by=mayor.user,
        dataset=open_dataset,
        files=[
            HostedFile(
                content=(first if i == 0 else block for i in range(n_mib)),
                format="CSV",
                media_type="text/csv",
            )
        ],
    )
    upload_seconds = time.perf_counter() - upload_started
    large_distribution = Distribution.objects.select_related("version").get(
        version__dataset=open_dataset
    )
    open_offer = offer_create(
        dataset=open_dataset, by=mayor.user, policy=OPEN_POLICY, pricing_model="free"
    )
    open_agreement = agreement_accept(
        quote=quote_create(offer=open_offer, consumer=consumer), consumer=consumer, purposes=[]
    )
    return {
        "city": city,
        "mayor": mayor,
        "consumer": consumer,
        "token": token.key,
        "agreements": agreements,
        "small": small,
        "small_distribution": small_distribution,
        "large_distribution": large_distribution,
        "large_plain": (first, block, n_mib),
        "open_agreement": open_agreement,
        "personal": personal,
        "summary": {
            "residents": len(residents),
            "agreements": len(agreements),
            "consents": sum(a.consents.count() for a in agreements),
            "small_bytes": len(small),
            "small_records": small.count(b"\n") - 1,
            "large_mib": n_mib,
            "large_chunks": large_distribution.chunk_count,
            "upload_s": upload_seconds,
            "seconds": time.perf_counter() - started,
        },
    }


# --------------------------------------------------------------------------------------------
# 1. Authorised data requests
# --------------------------------------------------------------------------------------------


def fetch(port: int, path: str, headers: dict, piece: int = MIB) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = bytearray()
        while chunk := response.read(piece):
            body += chunk
        return response.status, bytes(body), dict(response.getheaders())
    finally:
        conn.close()


def timed_calls(call, count: int) -> dict:
    for _ in range(5):
        call()
    times = []
    for _ in range(count):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return percentiles(times)


def bench_requests(world: dict, quick: bool, db_url: str, workdir: Path) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.models import Transaction
    from marketplace.data.models import Delivery
    from marketplace.data.services.access import KIND_DELIVERY, delivery_open
    from marketplace.data.storage import distribution_open

    clients = size("clients", quick)
    host = {"Host": "127.0.0.1"}
    auth = {"Authorization": f"Token {world['token']}", **host}
    agreements = world["agreements"]
    small, distribution = world["small"], world["small_distribution"]
    data_paths = [f"/api/v1/marketplace/agreements/{a.public_id}/data" for a in agreements]
    plain_path = f"/{PLAIN_PREFIX}{distribution.public_id}"

    def data_requests(count: int) -> list:
        return [("GET", data_paths[k % len(data_paths)], None, auth) for k in range(count)]

    plain = [("GET", plain_path, None, host)] * size("plain_requests", quick)
    healthz = [("GET", "/healthz", None, host)] * size("healthz_requests", quick)
    deliveries = Delivery.objects.filter(agreement__in=agreements)
    receipts = Transaction.objects.filter(chain=world["city"].chain, kind=KIND_DELIVERY)
    result: dict = {"agreements": len(agreements), "file_bytes": len(small)}

    gunicorn_log = workdir / "gunicorn.log"
    app = "bench.marketplace:baseline_app()"
    with gunicorn(db_url, gunicorn_log, tag="requests", app=app) as port:
        load(port, [("GET", "/healthz", None, host)] * (clients * 4), clients)
        status, body, headers = fetch(port, data_paths[0], auth)
        digest = headers.get("Repr-Digest", "")
        p_status, p_body, _ = fetch(port, plain_path, host)
        result["check"] = {
            "status": status,
            "plain_status": p_status,
            "same_bytes": body == small == p_body,
            "receipt_header": bool(headers.get("X-Delivery-Receipt")),
            "digest_header": digest,
            "body_sample": body[:200].decode(errors="replace") if status != 200 else "",
        }
        load(port, data_requests(clients * 2), clients)  # warm-up, not timed
        load(port, plain[: clients * 2], clients)
        n = size("data_requests", quick)
        before, receipts_before = deliveries.count(), receipts.count()
        log(f"requests: {n} GET .../agreements/<id>/data from {clients} keep-alive clients")
        result["data"] = load(port, data_requests(n), clients)
        result["data"]["deliveries"] = deliveries.count() - before
        result["data"]["receipts"] = receipts.count() - receipts_before
        log(f"requests: {len(plain)} GET {plain_path} (no checks) from {clients} clients")
        result["plain"] = load(port, plain, clients)
        log(f"requests: {len(healthz)} GET /healthz from {clients} clients")
        result["healthz"] = load(port, healthz, clients)
    result["log"] = log_tail(gunicorn_log)

    calls = size("in_process_calls", quick)
    log(f"requests: in process, {calls} distribution_open, then {calls} delivery_open, serially")
    result["raw_open"] = timed_calls(lambda: b"".join(distribution_open(distribution)), calls)
    consumer, agreement = world["consumer"], agreements[0]
    result["in_process"] = timed_calls(
        lambda: b"".join(delivery_open(agreement=agreement, user=consumer)), calls
    )
    result["in_process_calls"] = calls
    with CaptureQueriesContext(connection) as captured:
        b"".join(delivery_open(agreement=agreement, user=consumer))
    result["queries_per_delivery"] = len(captured)
    return result


# --------------------------------------------------------------------------------------------
# 2. Encrypted streaming
# --------------------------------------------------------------------------------------------


def stored_records(path: Path, chunk_count: int) -> list[tuple[bytes, bytes]]:
    """(nonce, ciphertext + tag) of each stored chunk, read from the file's layout."""
    from marketplace.data.crypto import NONCE_BYTES

    records, data = [], path.read_bytes()
    offset = 0
    for _ in range(chunk_count):
        length = int.from_bytes(data[offset : offset + 4], "big")
        nonce = data[offset + 4 : offset + 4 + NONCE_BYTES]
        start = offset + 4 + NONCE_BYTES
        records.append((nonce, data[start : start + length]))
        offset = start + length
    return records


def bench_streaming(world: dict, quick: bool, db_url: str, workdir: Path) -> dict:
    import hashlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from marketplace.data.crypto import _chunk_ad
    from marketplace.data.models import Distribution
    from marketplace.data.storage import absolute, distribution_open, version_data_key

    reps = size("stream_reps", quick)
    dist = world["large_distribution"]
    first, block, n_mib = world["large_plain"]
    expected = hashlib.sha256(first + block * (n_mib - 1)).hexdigest()
    size_mb = dist.byte_size / MIB
    records = stored_records(absolute(dist.storage_path), dist.chunk_count)
    aead = AESGCM(version_data_key(dist.version))
    ads = [_chunk_ad(dist.storage_path, i) for i in range(len(records))]

    def raw() -> int:
        total = 0
        for (nonce, sealed), ad in zip(records, ads, strict=True):
            total += len(aead.decrypt(nonce, sealed, ad))
        return total

    def opened() -> int:
        fresh = Distribution.objects.select_related("version").get(pk=dist.pk)
        return sum(len(piece) for piece in distribution_open(fresh))

    def rate(call) -> dict:
        call()  # warm-up (page cache)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            total = call()
            times.append(time.perf_counter() - t)
        best = min(times)
        return {
            "bytes": total,
            "best_s": best,
            "median_s": statistics.median(times),
            "mb_s": total / MIB / best,
        }

    log(f"streaming: raw AES-256-GCM, then distribution_open, {size_mb:.0f} MiB x {reps}")
    result: dict = {"mib": size_mb, "chunks": dist.chunk_count, "reps": reps}
    result["raw"] = rate(raw)
    result["open"] = rate(opened)
    result["sha_ok"] = dist.sha256 == expected

    host = {"Host": "127.0.0.1"}
    auth = {"Authorization": f"Token {world['token']}", **host}
    data_path = f"/api/v1/marketplace/agreements/{world['open_agreement'].public_id}/data"
    plain_path = f"/{PLAIN_PREFIX}{dist.public_id}"
    gunicorn_log = workdir / "gunicorn-stream.log"
    app = "bench.marketplace:baseline_app()"

    def http_rate(port: int, path: str, headers: dict) -> dict:
        times, ok = [], True
        for _ in range(reps):
            t = time.perf_counter()
            status, body, _ = fetch(port, path, headers)
            times.append(time.perf_counter() - t)
            ok = ok and status == 200 and len(body) == dist.byte_size
            if ok:
                ok = hashlib.sha256(body).hexdigest() == expected
        best = min(times)
        return {
            "best_s": best,
            "median_s": statistics.median(times),
            "mb_s": dist.byte_size / MIB / best,
            "ok": ok,
        }

    with gunicorn(db_url, gunicorn_log, tag="streaming", app=app) as port:
        fetch(port, "/healthz", host)
        log(f"streaming: {reps} GET of the {size_mb:.0f} MiB file via the endpoint, then plain")
        result["http_data"] = http_rate(port, data_path, auth)
        result["http_plain"] = http_rate(port, plain_path, host)
    result["log"] = log_tail(gunicorn_log)
    return result


# --------------------------------------------------------------------------------------------
# 3. Catalogue search
# --------------------------------------------------------------------------------------------


def bulk_datasets(world: dict, upto: int) -> float:
    """Published datasets up to `upto` in all, bulk_created by cloning the personal dataset's
    row (same city, publisher and ledger entry) as open data, with 2 themes, 3 keywords, and
    one active per-request offer in ten (cloned from a real one)."""
    from django.db import transaction

    from marketplace.data.models import Dataset, DatasetKeyword, DatasetTheme, Offer
    from marketplace.data.services.contracts import offer_create

    started = time.perf_counter()
    template = world["personal"]
    have = Dataset.objects.count()
    if "offer_template" not in world:
        open_dataset = world["open_agreement"].dataset
        world["offer_template"] = offer_create(
            dataset=open_dataset,
            by=world["mayor"].user,
            policy=OPEN_POLICY,
            pricing_model="per_request",
            unit_price_cents=100,
        )
    offer_template = world["offer_template"]
    skip = {"id", "public_id", "created_at", "modified_at"}
    fields = [f.attname for f in Dataset._meta.concrete_fields if f.attname not in skip]
    offer_fields = [f.attname for f in Offer._meta.concrete_fields if f.attname not in skip]
    batch = 5_000
    for lo in range(have, upto, batch):
        hi = min(upto, lo + batch)
        rows = []
        for i in range(lo, hi):
            values = {name: getattr(template, name) for name in fields}
            topic = TOPICS[i % len(TOPICS)]
            values.update(
                title=f"Jeu {i} : {topic}, quartier {i % 40}",
                description=f"Données ouvertes n° {i} sur le thème « {topic} », mises à jour "
                "régulièrement par les services de la ville.",
                is_personal=False,
                subject_college_id=None,
            )
            rows.append(Dataset(**values))
        with transaction.atomic():
            made = Dataset.objects.bulk_create(rows)
            if made[0].pk is None:  # SQLite before 3.35 does not return ids
                made = list(Dataset.objects.order_by("-pk")[: len(rows)])[::-1]
            themes, keywords, offers = [], [], []
            for i, dataset in zip(range(lo, hi), made, strict=True):
                a, b = THEMES[i % 13], THEMES[(i * 7 + 3) % 13]
                for code in {a, b}:
                    themes.append(DatasetTheme(dataset_id=dataset.pk, code=code))
                topic = TOPICS[i % len(TOPICS)]
                words = {
                    "velo" if topic == "vélo" else f"mot{i % 200}",
                    f"k{i % 31}",
                    "air" if a == "ENVI" else f"q{i % 7}",
                }
                for word in words:
                    keywords.append(
                        DatasetKeyword(dataset_id=dataset.pk, keyword=word, normalized=word)
                    )
                if i % 10 == 0:
                    values = {name: getattr(offer_template, name) for name in offer_fields}
                    values.update(dataset_id=dataset.pk, unit_price_cents=50 + 10 * (i % 50))
                    offers.append(Offer(**values))
            DatasetTheme.objects.bulk_create(themes, batch_size=batch)
            DatasetKeyword.objects.bulk_create(keywords, batch_size=batch)
            Offer.objects.bulk_create(offers, batch_size=batch)
        if (hi // batch) % 4 == 0 or hi == upto:
            log(f"catalogue: {hi:,} datasets")
    return time.perf_counter() - started


def bench_catalogue(world: dict, quick: bool) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from marketplace.data.models import Dataset, DatasetStatus, Offer

    client = Client()
    base = "/api/v1/marketplace/data/datasets/"

    def url(query: str) -> str:
        return f"{base}?{query}" if query else base

    def counts() -> dict:
        out = {}
        for label, query in SEARCHES:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url(query))
            assert response.status_code == 200, (response.status_code, response.content[:300])
            out[label] = {"queries": len(captured), "count": response.json()["count"]}
        return out

    def timings(requests: int) -> dict:
        out = {}
        for label, query in SEARCHES:
            path = url(query)
            for _ in range(3):
                client.get(path)
            times = []
            for _ in range(requests):
                t = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - t)
                assert response.status_code == 200, response.status_code
            out[label] = percentiles(times)
        return out

    def analyze() -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    small, large = size("datasets_small", quick), size("datasets", quick)
    result: dict = {"small": small, "large": large}
    log(f"catalogue: bulk_create up to {small:,} datasets")
    seconds = bulk_datasets(world, small)
    analyze()
    result["at_small"] = Dataset.objects.filter(status=DatasetStatus.PUBLISHED).count()
    result["queries_small"] = counts()
    result["timings_small"] = timings(size("search_requests_small", quick))
    log(f"catalogue: bulk_create up to {large:,} datasets")
    seconds += bulk_datasets(world, large)
    result["bulk_seconds"] = seconds
    analyze()
    result["analyzed"] = connection.vendor == "postgresql"
    result["at_large"] = Dataset.objects.filter(status=DatasetStatus.PUBLISHED).count()
    result["offers"] = Offer.objects.count()
    result["queries_large"] = counts()
    n = size("search_requests", quick)
    log(f"catalogue: {n} GET per filter at {result['at_large']:,} datasets")
    result["timings_large"] = timings(n)
    result["requests_small"] = size("search_requests_small", quick)
    result["requests_large"] = n
    return result


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def run_backend(backend: str, db_url: str, quick: bool, out: Path) -> None:
    import os

    os.environ["SMARTB_DATA_ROOT"] = str(out.parent / "data")
    with measuring(backend, db_url, out) as result:
        world = prepared(
            result, out, "world", lambda: build_world(quick), lambda world: world["summary"]
        )
        run_parts(
            result,
            out,
            [
                ("requests", lambda: bench_requests(world, quick, db_url, out.parent)),
                ("streaming", lambda: bench_streaming(world, quick, db_url, out.parent)),
                ("catalogue", lambda: bench_catalogue(world, quick)),
            ],
            unless=lambda name: None if world else "the world could not be built",
        )


# --------------------------------------------------------------------------------------------
# The table (top-level process)
# --------------------------------------------------------------------------------------------


def print_report(res: dict, quick: bool, load_avg: list[float]) -> None:
    rows, notes, row = table_of(res)
    name = res["backend"]

    world = res.get("world") or {"error": "not run"}
    if "error" in world:
        notes.append(f"world: FAILED: {world['error']}")
    else:
        notes.append(
            f"world, through the services in {world['seconds']:.0f} s: {world['residents']} "
            f"residents; a personal dataset, its {world['small_bytes']:,}-byte CSV "
            f"({world['small_records']} records) hosted encrypted; a free offer; "
            f"{world['agreements']} agreements of one consumer, {world['consents']} consents "
            f"all given; an open dataset of {world['large_mib']} MiB ({world['large_chunks']} "
            f"chunks of 1 MiB), encrypted on the way in in {world['upload_s']:.1f} s."
        )

    req = res.get("requests")
    if failed := part_failed(req):
        row("1  data requests", failed)
    else:
        d, p, h, c = req["data"], req["plain"], req["healthz"], req["check"]
        overhead = d["mean_ms"] - p["mean_ms"]
        extra = f"+{overhead:.1f} ms/request (mean), non-2xx {d['non_2xx']}, "
        extra += f"receipts {d['receipts']:,}"
        rows.append(load_row("1  GET .../agreements/<id>/data", name, d, p, extra, "plain"))
        row(
            f"1  GET /bench/plain/<id>, no checks (n={p['requests']:,})",
            f"{p['per_s']:,.0f} /s",
            p,
            f"{p['per_s'] / h['per_s']:.1%} of healthz",
            f"non-2xx {p['non_2xx']}",
        )
        rows.append(load_row("1  GET /healthz", name, h, None, f"non-2xx {h['non_2xx']}"))
        ip, raw = req["in_process"], req["raw_open"]
        row(
            f"1  in process: delivery_open + drain, serial (n={req['in_process_calls']})",
            f"{1000 / ip['mean_ms']:,.0f} /s",
            ip,
            f"+{ip['mean_ms'] - raw['mean_ms']:.2f} ms",
            f"vs distribution_open alone; {req['queries_per_delivery']} queries per delivery",
        )
        row(
            f"1  in process: distribution_open of the same file (n={req['in_process_calls']})",
            f"{1000 / raw['mean_ms']:,.0f} /s",
            raw,
        )
        notes.append(
            f"requests: gunicorn --workers 2 --threads 2 on 127.0.0.1 against {name}, started "
            f"as bench.marketplace:baseline_app() (smartb.wsgi plus one route). Request k "
            f"goes to agreement k mod {req['agreements']} with the consumer's DRF token; each "
            f"authorised request locks its agreement row, checks status, period and consents "
            f"(read fresh), decrypts the {req['file_bytes']:,}-byte file once (into memory: "
            f"measured and hashed for the receipt, then streamed), writes a Delivery, a "
            f"UsageRecord, "
            f"the agreement's counters and a delivery receipt on the city's ledger chain "
            f"(Ed25519-signed by the platform validator): {d['deliveries']:,} deliveries and "
            f"{d['receipts']:,} marketplace.data.delivery entries during the timed run. "
            f"Baseline 'plain': the same bytes from a trivial view this script adds (one "
            f"Distribution query and distribution_open; no authentication, no check, no "
            f"write), same gunicorn, same run. Overhead per request = mean latency of the "
            f"data endpoint - mean latency of plain, under 16 concurrent clients (so it "
            f"includes waiting for the agreement row locks and the chain head). Check before "
            f"timing: status {c['status']}, plain {c['plain_status']}, same bytes as stored: "
            f"{c['same_bytes']}, receipt header {c['receipt_header']}, {c['digest_header']}."
            f" Reconnects: data {d['reconnects']}, plain {p['reconnects']}, healthz "
            f"{h['reconnects']}. The client threads share the 2 cores with gunicorn and the DB."
        )
        if c["body_sample"]:
            notes.append(f"requests: first answer: {c['body_sample']}")
        notes += load_notes("requests", req["log"], d, p, h)

    st = res.get("streaming")
    if failed := part_failed(st):
        row("2  streaming", failed)
    else:
        raw = st["raw"]["mb_s"]
        for label, key in (
            ("raw AES-256-GCM decrypt (cryptography), in memory", "raw"),
            ("distribution_open, in process", "open"),
            ("GET .../agreements/<id>/data, 1 client", "http_data"),
            ("GET /bench/plain/<id>, 1 client", "http_plain"),
        ):
            f = st[key]
            ok = "" if f.get("ok", True) else "BYTES DIFFER"
            row(
                f"2  {label}, {st['mib']:.0f} MiB",
                f"{f['mb_s']:,.0f} MiB/s",
                None,
                "100 % (the limit)" if key == "raw" else f"{f['mb_s'] / raw:.1%} of raw",
                f"best of {st['reps']}, median {f['median_s']:.3f} s {ok}".rstrip(),
            )
        notes.append(
            f"streaming: the same {st['chunks']} stored chunks (1 MiB of plaintext each). Raw: "
            f"the stored file read into memory first (not timed), then AESGCM.decrypt of each "
            f"chunk with its nonce and associated data. distribution_open: the Distribution "
            f"row, key unwrap, file reads (page cache) and the same decryption. HTTP: one "
            f"client, time to the last byte, body SHA-256 checked against the upload; the data "
            f"endpoint decrypts the file once (the receipt's figures are the ones stored with "
            f"the file), hashes it again as it streams and writes a receipt. "
            f"MiB/s = MiB / best time. "
            f"Stored SHA-256 matches the plaintext: {st['sha_ok']}."
        )

    cat = res.get("catalogue")
    if failed := part_failed(cat):
        row("3  catalogue search", failed)
    else:
        qs, ql = cat["queries_small"], cat["queries_large"]
        for label, _query in SEARCHES:
            lat = cat["timings_large"][label]
            small_lat = cat["timings_small"][label]
            same = "same" if qs[label]["queries"] == ql[label]["queries"] else "DIFFERENT"
            row(
                f"3  search {label} @ {cat['at_large']:,} (n={cat['requests_large']})",
                f"{1000 / lat['mean_ms']:,.0f} /s",
                lat,
                f"p95 {small_lat['p95_ms']:.1f} ms @ {cat['at_small']:,}",
                f"{ql[label]['count']:,} hits; queries {qs[label]['queries']} @ "
                f"{cat['at_small']:,} vs {ql[label]['queries']} @ {cat['at_large']:,} ({same})",
            )
        notes.append(
            f"catalogue: GET /api/v1/marketplace/data/datasets/?<filter> (dataset_search, "
            f"page 1 of 50 with its COUNT), django.test.Client in process, anonymous, one "
            f"request after another. All but 2 datasets were bulk_created "
            f"({cat['bulk_seconds']:.0f} s): clones of a real published dataset row (same "
            f"city, publisher and ledger entry), open data, 2 EU themes and 3 keywords each, "
            f"one active per-request offer in ten ({cat['offers']:,} offers in all)"
            + ("; the database is ANALYZEd before timing" if cat.get("analyzed") else "")
            + ". Text search is icontains on title and description (no full-text index)."
        )

    print_table("data marketplace", res, rows, notes, quick=quick, load_avg=load_avg)


def main() -> int:
    return bench_main(
        __file__,
        __doc__,
        quick_help="smaller sizes (10k datasets)",
        run_backend=run_backend,
        print_report=print_report,
        db_name=BENCH_PG_DB,
        concurrent="data requests",
        parts=("world", "requests", "streaming", "catalogue"),
    )


if __name__ == "__main__":
    sys.exit(main())

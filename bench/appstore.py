"""App store benchmark: a city's app store page, and contract executions through the API.

Run from the repository root:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/appstore.py            # full run
    .venv/bin/python bench/appstore.py --quick    # smaller sizes

Without a PostgreSQL DATABASE_URL it runs on SQLite (a temporary file) and says so.

As `bench/governance.py` does, the top-level invocation creates a fresh database
(`smartb_bench_appstore` on the PostgreSQL server named by DATABASE_URL, dropped at the end
even after a failure; or a temporary SQLite file) and runs one subprocess of this same script
on it. The subprocess migrates, builds the network, measures and writes its figures as JSON;
the top level prints one table. Progress goes to stderr. Nothing here asserts on time.

The network: 50 cities, each with its staff and one provider (an approved member of the
city's providers college who registers its organisation), 1,000 audited services spread over
these providers; in the measured city a resident member, services deployed by the city's vote,
open and rejected proposals to deploy others. All of it is built through the services, with
their signed ledger entries (1,000 audited services take about a minute on PostgreSQL): nothing
is bulk_created. `--quick`: 10 cities and 300 services.

1. The city's app store page `/c/<slug>/apps/` (django.test.Client, in process): p50/p95/p99 as
   an anonymous visitor and as a member, its ratio to GET /healthz through the same client in
   the same run, and the query count at 100 and at 1,000 services (they should be equal).
2. Contract executions recorded per second through the API
   (`POST /api/v1/marketplace/deployments/<id>/executions`, custodial signing by the provider),
   gunicorn 2 workers x 2 threads, 16 keep-alive clients, against GET /healthz under the same
   load. Afterwards, the treasury's execution-fee postings are checked to sum exactly to the
   executions times their fee ("cents lost").
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as `python bench/appstore.py`, bench/ comes first on sys.path: put the repository root
# first instead, as the other benchmarks do, so that `bench._common` and the apps import.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402 - after the sys.path fix above
    POSTAL_CODE,
    api_against_healthz,
    bench_main,
    http_errors,
    load_notes,
    load_row,
    log,
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

BENCH_PG_DB = "smartb_bench_appstore"

# Sizes: (full, quick).
SIZES = {
    "cities": (50, 10),
    "services": (1_000, 300),
    "services_small": (100, 100),  # the query count is also taken at this size
    "deployed": (10, 10),  # deployed in the measured city by its vote
    "open_proposals": (5, 5),
    "rejected": (3, 3),
    "page_requests": (200, 50),
    "clients": (16, 16),
    "execution_requests": (2_000, 1_000),
    "healthz_requests": (2_000, 1_000),
}
EXECUTION_FEE_CENTS = 37  # 20/30/50 of 37 is 7.4/11.1/18.5: the split has to round
CATEGORIES = [
    "mobility",
    "energy",
    "environment",
    "waste",
    "water",
    "health",
    "education",
    "culture",
    "participation",
    "public_services",
    "safety",
    "tourism",
]
LEGAL_BASES = ["contract", "public_task", "consent", "legitimate_interests"]
INDICATORS = ["11.2.1", "11.6.1", "7.1.1", "6.3.1", "3.9.1", "4.1.1"]


def size(name: str, quick: bool) -> int:
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# The measuring subprocess: the network
# --------------------------------------------------------------------------------------------


def declaration(i: int) -> dict:
    """The GDPR Article 30 declaration and pricing of service i's version (varied)."""
    personal = i % 3 != 0
    return {
        "personal_data": ["identifiant de compte", "trajets"] if personal else [],
        "data_subjects": ["usagers du service"] if personal else [],
        "purposes": f"Fournir le service {i} et le facturer.",
        "legal_basis": LEGAL_BASES[i % len(LEGAL_BASES)],
        "retention": "13 mois après la dernière utilisation",
        "recipients": ["service client du fournisseur"],
        "transfers_outside_eu": "",
        "impact_indicators": [INDICATORS[i % len(INDICATORS)]],
        "deployment_fee_cents": 10_000 + 100 * (i % 50),
        "execution_fee_cents": EXECUTION_FEE_CENTS,
    }


def listing(i: int) -> dict:
    return {
        "name": f"Service {i:04d}",
        "description": f"Service numéro {i} de l'app store : réservations, alertes, données "
        "ouvertes de la ville et tableaux de bord pour les habitants.",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "website": f"https://service-{i}.example.org",
    }


def audited_service(i: int, providers: list, auditor):
    """Service i of provider i mod P, through the services: listed, its first version
    declared, sent to audit, and both audits passed by an operator auditor (9 ledger entries,
    on the network chain)."""
    from marketplace.services import audit_record, audit_request, service_create, version_create

    provider = providers[i % len(providers)]
    service = service_create(provider=provider, by=provider.owner, **listing(i))
    version = version_create(service=service, by=provider.owner, **declaration(i))
    audit_request(version=version, by=provider.owner)
    for kind in ("technical", "legal"):
        audit_record(
            version=version,
            auditor=auditor,
            kind=kind,
            findings=f"Revue {kind} du service {i} : rien à signaler.",
            verdict="pass",
        )
    return version


def build_network(quick: bool) -> dict:
    """The cities, their staff and providers, the services built through the services, the
    measured city's resident and its deploy_service decisions. Returns ids and timings."""
    from django.utils import timezone

    from governance import services as gov
    from marketplace.models import Deployment, Service
    from marketplace.services import provider_register

    n_cities = size("cities", quick)
    started = time.perf_counter()
    operator = make_user("bench-operator", is_staff=True)
    auditor = make_user("bench-auditor", is_staff=True)
    cities, mayors, providers = [], [], []
    log(f"network: {n_cities} cities, each with a mayor and a provider member (services)")
    for c in range(n_cities):
        city = gov.city_create(
            operator=operator,
            slug=f"bench-c{c:02d}",
            name=f"Ville {c:02d}",
            postal_codes=[POSTAL_CODE],
        )
        mayor = gov.membership_appoint(
            operator=operator, user=make_user(f"bench-mayor-{c:02d}"), city=city
        )
        owner = make_user(f"bench-provider-{c:02d}")
        request = gov.membership_request(
            user=owner,
            city=city,
            college=city.colleges.get(slug="providers"),
            siret=siret(c),
        )
        gov.membership_approve(membership=request, by=mayor.user)
        provider = provider_register(
            by=owner, owner=owner, name=f"Fournisseur {c:02d} SAS", siret=siret(c)
        )
        cities.append(city)
        mayors.append(mayor)
        providers.append(provider)
        if c % 10 == 9:
            log(f"network: {c + 1} cities")
    cities_seconds = time.perf_counter() - started

    n_first = min(size("services_small", quick), size("services", quick))
    log(f"network: {n_first} services (create, version, audit request, 2 audits)")
    started = time.perf_counter()
    versions = []
    for i in range(n_first):
        versions.append(audited_service(i, providers, auditor))
        if i % 25 == 24:
            log(f"network: {i + 1} services audited")
    services_seconds = time.perf_counter() - started

    city, mayor = cities[0], mayors[0]
    resident_user = make_user("bench-resident")
    resident = gov.membership_approve(
        membership=gov.membership_request(
            user=resident_user,
            city=city,
            college=city.colleges.get(slug="residents"),
            postal_address="3 rue des Lilas",
            postal_code=POSTAL_CODE,
        ),
        by=mayor.user,
    )

    # Deploy every third service (one per provider), propose the next ones, reject others.
    n_deployed, n_open, n_rejected = (
        size(k, quick) for k in ("deployed", "open_proposals", "rejected")
    )
    log(
        f"network: {n_deployed} services deployed in {city.slug} by its vote, {n_open} open "
        f"proposals, {n_rejected} rejected (services)"
    )
    started = time.perf_counter()
    statuses: dict[str, int] = {}

    def propose(version, title: str):
        proposal = gov.proposal_create(
            author=mayor,
            kind="deploy_service",
            title=title,
            body="",
            parameters={"action": "deploy", "service_version": version.public_id},
        )
        now = timezone.now()
        return gov.proposal_open(
            proposal=proposal, by=mayor, closes_at=now + dt.timedelta(hours=48), now=now
        )

    def decide(version, title: str, choice: str):
        proposal = propose(version, title)
        gov.vote_cast(proposal=proposal, member=mayor, choice=choice)
        proposal = gov.proposal_close(
            proposal=proposal, now=proposal.closes_at + dt.timedelta(seconds=1)
        )
        proposal = gov.proposal_execute(proposal=proposal)
        statuses[proposal.status] = statuses.get(proposal.status, 0) + 1

    for k in range(n_deployed):
        decide(versions[3 * k], f"Déployer {versions[3 * k].service.name}", "yes")
    for k in range(n_open):
        propose(versions[3 * k + 1], f"Déployer {versions[3 * k + 1].service.name}")
    statuses["open"] = n_open
    for k in range(n_rejected):
        decide(versions[3 * k + 2], f"Déployer {versions[3 * k + 2].service.name}", "no")
    decisions_seconds = time.perf_counter() - started
    deployments = list(
        Deployment.objects.filter(city=city, active=True)
        .select_related("service__provider__owner")
        .order_by("pk")
    )
    return {
        "city": city,
        "providers": providers,
        "resident": resident,
        "auditor": auditor,
        "deployments": deployments,
        "cities": n_cities,
        "first_services": Service.objects.count(),
        "proposal_statuses": statuses,
        "seconds": {
            "cities": cities_seconds,
            "services": services_seconds,
            "decisions": decisions_seconds,
        },
    }


def add_services(world: dict, upto: int) -> float:
    """Add audited services up to `upto` through the services (`audited_service`); returns
    the seconds it took."""
    from marketplace.models import Service

    started = time.perf_counter()
    have = Service.objects.count()
    for i in range(have, upto):
        audited_service(i, world["providers"], world["auditor"])
        if i % 100 == 99:
            log(f"store: {i + 1} services audited")
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


def bench_store(world: dict, quick: bool) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from marketplace.models import Service

    n = size("services", quick)
    small = min(size("services_small", quick), n)
    requests = size("page_requests", quick)
    city = world["city"]
    url = f"/c/{city.slug}/apps/"
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(world["resident"].user)

    def query_count(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        return len(captured)

    def timed(client, path: str) -> dict:
        for _ in range(3):
            client.get(path)
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.status_code
        return percentiles(times)

    def both() -> dict:
        return {"anonymous": query_count(anonymous), "member": query_count(signed_in)}

    result: dict = {"services": n, "small": small, "requests": requests}
    add_seconds = add_services(world, small)
    result["services_at_small"] = Service.objects.count()
    result["queries_small"] = both()
    log(f"store: adding services up to {n:,} (through the services)")
    add_seconds += add_services(world, n)
    result["add_seconds"] = add_seconds
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # autovacuum would do it shortly; do it now
            cursor.execute("ANALYZE")
    result["analyzed"] = connection.vendor == "postgresql"
    result["services_at_large"] = Service.objects.count()
    result["queries_large"] = both()
    html = anonymous.get(url).content.decode()
    result["on_page"] = html.count('class="card store-entry"')
    result["deployed_on_page"] = html.count("deployed here (version")
    result["proposals_on_page"] = html.count("· Proposal:")
    log(f"store: {requests} GET {url} as an anonymous visitor, as a member, then GET /healthz")
    result["anonymous"] = timed(anonymous, url)
    result["member"] = timed(signed_in, url)
    result["healthz"] = timed(anonymous, "/healthz")
    return result


def fee_check(city) -> dict:
    """The city's execution fees against its treasury: every execution's fee, the postings
    of the fee movements per account, and the gap between them (0: no cent lost)."""
    from django.db.models import Sum

    from governance.models import Posting
    from marketplace.models import ContractExecution, Fee
    from marketplace.services.fees import SHARE_ACCOUNTS

    executions = ContractExecution.objects.filter(deployment__city=city)
    owed = executions.aggregate(total=Sum("version__execution_fee_cents"))["total"] or 0
    fees = Fee.objects.filter(city=city, kind="execution")
    postings = {
        row["account__code"]: row["total"]
        for row in Posting.objects.filter(movement__fee__in=fees)
        .values("account__code")
        .annotate(total=Sum("amount_cents"))
    }
    bank = postings.get("bank", 0)
    shares = {share: -postings.get(code, 0) for share, code in SHARE_ACCOUNTS.items()}
    return {
        "executions": executions.count(),
        "fees": fees.count(),
        "fee_cents": sorted(set(executions.values_list("version__execution_fee_cents", flat=True))),
        "owed_cents": owed,
        "bank_cents": bank,
        "shares_cents": shares,
        "fee_rows_cents": fees.aggregate(total=Sum("amount_cents"))["total"] or 0,
        "gap_cents": owed - bank,
        "shares_gap_cents": owed - sum(shares.values()),
        "unbalanced_cents": sum(postings.values()),
    }


def bench_executions(world: dict, quick: bool, db_url: str, workdir: Path) -> dict:
    from rest_framework.authtoken.models import Token

    from ledger.models import Transaction
    from marketplace.models import ContractExecution
    from marketplace.services.fees import KIND_EXECUTION

    city = world["city"]
    deployments = world["deployments"]
    if not deployments:
        raise RuntimeError("no service was deployed in the measured city")
    clients = size("clients", quick)
    n_requests = size("execution_requests", quick)
    host = {"Host": "127.0.0.1"}
    headers = []
    for deployment in deployments:
        token, _ = Token.objects.get_or_create(user=deployment.service.provider.owner)
        headers.append(
            {"Authorization": f"Token {token.key}", "Content-Type": "application/json", **host}
        )

    def executions(prefix: str, count: int) -> list:
        # Request k goes to deployment k % D, by that service's provider, a fresh reference.
        requests = []
        for k in range(count):
            d = k % len(deployments)
            path = f"/api/v1/marketplace/deployments/{deployments[d].public_id}/executions"
            body = json.dumps({"reference": f"{prefix}-{k:06d}"}).encode()
            requests.append(("POST", path, body, headers[d]))
        return requests

    run = api_against_healthz(
        db_url,
        workdir,
        tag="executions",
        what="POST .../executions",
        clients=clients,
        timed=executions("bench", n_requests),
        warm=executions("warm", clients * 2),
        healthz=size("healthz_requests", quick),
        counted={
            "recorded": ContractExecution.objects.filter(deployment__city=city).count,
            "ledger_entries": Transaction.objects.filter(
                chain=city.chain, kind=KIND_EXECUTION
            ).count,
        },
    )
    return {
        "deployments": len(deployments),
        "executions": run["timed"],
        "healthz": run["healthz"],
        "fees": fee_check(city),
        "log": run["log"],
    }


def run_backend(backend: str, db_url: str, quick: bool, out: Path) -> None:
    with measuring(backend, db_url, out) as result:
        world = prepared(
            result,
            out,
            "network",
            lambda: build_network(quick),
            lambda world: {
                "cities": world["cities"],
                "first_services": world["first_services"],
                "deployments": len(world["deployments"]),
                "proposal_statuses": world["proposal_statuses"],
                "seconds": world["seconds"],
            },
        )
        run_parts(
            result,
            out,
            [
                ("store", lambda: bench_store(world, quick)),
                ("executions", lambda: bench_executions(world, quick, db_url, out.parent)),
            ],
            unless=lambda name: None if world else "the network could not be built",
        )


# --------------------------------------------------------------------------------------------
# The table (top-level process)
# --------------------------------------------------------------------------------------------


def print_report(res: dict, quick: bool, load_avg: list[float]) -> None:
    rows, notes, row = table_of(res)
    name = res["backend"]

    network = res.get("network") or {"error": "not run"}
    if "error" in network:
        notes.append(f"network: FAILED: {network['error']}")
    else:
        s = network["seconds"]
        notes.append(
            f"network, all built through the services (nothing bulk_created): "
            f"{network['cities']} cities (city_create, a mayor appointed, a provider member's "
            f"request approved, its provider registered) in {s['cities']:.0f} s; the first "
            f"{network['first_services']} services (service_create, version_create, "
            f"audit_request, two audit_record by an operator auditor: 9 signed ledger entries "
            f"each) in {s['services']:.0f} s; in the measured city a resident member and the "
            f"mayor's deploy_service proposals {network['proposal_statuses']} (opened, the mayor "
            f"votes, closed, executed) in {s['decisions']:.0f} s: {network['deployments']} "
            f"active deployments."
        )

    store = res.get("store")
    if failed := part_failed(store):
        row("1  app store page", failed)
    else:
        small, large, h = store["queries_small"], store["queries_large"], store["healthz"]
        for who in ("anonymous", "member"):
            lat = store[who]
            row(
                f"1  GET /c/<slug>/apps/ @ {store['services_at_large']:,} services, {who} "
                f"(n={store['requests']})",
                f"{1000 / lat['mean_ms']:,.0f} /s",
                lat,
                f"{h['mean_ms'] / lat['mean_ms']:.1%} of healthz",
                f"queries: {small[who]} @ {store['services_at_small']:,} vs {large[who]} @ "
                f"{store['services_at_large']:,} "
                f"({'same' if small[who] == large[who] else 'DIFFERENT'})",
            )
        row(
            f"1  GET /healthz, same client (n={store['requests']})",
            f"{1000 / h['mean_ms']:,.0f} /s",
            h,
            "100 % (the limit)",
        )
        notes.append(
            f"store: the services after the first {network.get('first_services', '?')} are "
            f"added the same way, {store['add_seconds']:.0f} s"
            + ("; the database is ANALYZEd before timing" if store.get("analyzed") else "")
            + f". Providers are spread evenly: {network.get('cities', '?')} providers, one "
            f"per city. "
            f"django.test.Client in process, one request after another, page 1 of the "
            f"paginated store ({store['on_page']} entries, {store['deployed_on_page']} deployed "
            f"here, {store['proposals_on_page']} with a deploy proposal); the member is a resident "
            f"signed in with force_login. Ratio: mean time of GET /healthz through the same "
            f"client ÷ mean time of the page."
        )

    ex = res.get("executions")
    if failed := part_failed(ex):
        row("2  contract executions", failed)
    else:
        e, h, fees = ex["executions"], ex["healthz"], ex["fees"]
        cents = f", cents lost: {fees['gap_cents']}"
        rows.append(load_row("2  POST .../executions", name, e, h, http_errors(e) + cents))
        rows.append(load_row("2  GET /healthz", name, h, None, http_errors(h)))
        fee = "/".join(map(str, fees["fee_cents"])) or "?"
        notes.append(
            f"executions: gunicorn --workers 2 --threads 2 on 127.0.0.1 against {name}; "
            f"{ex['deployments']} deployments of the measured city, each of a different "
            f"provider whose owner holds a DRF token; request k goes to deployment k mod "
            f"{ex['deployments']} with a fresh reference, so each one records an execution "
            f"signed by the provider's custodial DID and charges its fee. Statuses "
            f"{e['statuses']}; {e['recorded']:,} executions and {e['ledger_entries']:,} "
            f"marketplace.execution.record entries during the timed run. Reconnects: "
            f"executions {e['reconnects']}, healthz {h['reconnects']}. The client threads run "
            f"on the same 2 cores as gunicorn and the database."
        )
        shares = fees["shares_cents"]
        notes.append(
            f"fees: {fees['executions']:,} executions in the city (warm-up included) x {fee} "
            f"cents = {fees['owed_cents']:,} cents owed; {fees['fees']:,} execution Fee rows "
            f"({fees['fee_rows_cents']:,} cents); treasury postings of their movements: bank "
            f"+{fees['bank_cents']:,}, operator {shares['operator']:,} + data owners "
            f"{shares['data_owners']:,} + local projects {shares['local_projects']:,} = "
            f"{sum(shares.values()):,} credited; postings unbalanced by "
            f"{fees['unbalanced_cents']} cents. cents lost: {fees['gap_cents']}"
            + (
                f" (shares differ from the fees by {fees['shares_gap_cents']})"
                if fees["shares_gap_cents"]
                else ""
            )
        )
        notes += load_notes("executions", ex["log"], e, h)

    print_table("app store", res, rows, notes, quick=quick, load_avg=load_avg)


def main() -> int:
    return bench_main(
        __file__,
        __doc__,
        quick_help="smaller sizes (300 services)",
        run_backend=run_backend,
        print_report=print_report,
        db_name=BENCH_PG_DB,
        concurrent="executions",
        parts=("network", "store", "executions"),
        # A cent lost or created is a bug, not a slow figure.
        broken=lambda result: bool(result["executions"]["fees"]["gap_cents"]),
    )


if __name__ == "__main__":
    sys.exit(main())

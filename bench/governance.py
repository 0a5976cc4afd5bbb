"""Governance benchmark: votes through the API, tallies, and the proposals list.

Run from the repository root:

    .venv/bin/python bench/governance.py            # full run (about 5 minutes on 2 cores)
    .venv/bin/python bench/governance.py --quick    # smaller sizes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/governance.py

As `bench/ledger.py` does, the top-level invocation creates a fresh database (a `smartb_bench`
database on the PostgreSQL server named by DATABASE_URL, dropped at the end even after a
failure; or a temporary SQLite file when DATABASE_URL is not a PostgreSQL URL) and runs one
subprocess of this same script on it, because the settings read DATABASE_URL when they are
imported. The subprocess migrates, measures and writes its figures as JSON; the top level
prints one table. Progress goes to stderr. Nothing here asserts on time.

1. Votes per second through the API: gunicorn (2 workers x 2 threads) on 127.0.0.1, approved
   resident members built through the services, each with a DRF token, one open proposal
   whose rules let a vote change; concurrent keep-alive clients POST votes, then the same load
   on GET /healthz (no database), the trivial baseline measured in the same run.
2. Tally of a large vote: ballots filled directly with bulk_create (placeholder identity and
   ledger transaction), then `ballot_counts` (one aggregate query) and `compute_tally`.
3. The proposals list page with 10,000 proposals: p50/p95 and the query count at 100 and at
   10,000 proposals, as an anonymous visitor and as a member.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `python bench/governance.py` puts bench/ first on sys.path, where this file would shadow the
# `governance` app: take it off and put the repository root first.
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
    print_table,
    run_parts,
    table_of,
)

BENCH_PG_DB = "smartb_bench_governance"

# Sizes: (full, quick).
SIZES = {
    "members": (200, 200),
    "clients": (16, 16),
    "vote_requests": (2_000, 1_000),
    "healthz_requests": (2_000, 1_000),
    "ballots": (1_000_000, 100_000),
    "tally_runs": (7, 15),
    "fill_chunk": (10_000, 10_000),
    "proposals": (10_000, 10_000),
    "page_requests": (50, 50),
}


def size(name: str, quick: bool) -> int:
    full, small = SIZES[name]
    return small if quick else full


# --------------------------------------------------------------------------------------------
# The measuring subprocess
# --------------------------------------------------------------------------------------------


def make_city(operator, slug: str):
    from governance.services import city_create

    return city_create(
        operator=operator, slug=slug, name=slug.capitalize(), postal_codes=[POSTAL_CODE]
    )


def open_general(author, by, title: str):
    from django.utils import timezone

    from governance import services

    proposal = services.proposal_create(author=author, kind="general", title=title, body="")
    now = timezone.now()
    return services.proposal_open(
        proposal=proposal, by=by, closes_at=now + dt.timedelta(hours=48), now=now
    )


def bench_votes(quick: bool, db_url: str, workdir: Path) -> dict:
    from rest_framework.authtoken.models import Token

    from governance import services
    from governance.models import Ballot
    from ledger.models import Transaction

    n_members = size("members", quick)
    clients = size("clients", quick)
    log(f"votes: building a city, its staff and {n_members} approved residents (services)")
    operator = make_user("bench-operator", is_staff=True)
    city = make_city(operator, "bench-votes")
    mayor = services.membership_appoint(operator=operator, user=make_user("bench-mayor"), city=city)
    members = []
    for i in range(n_members):
        members.append(join_resident(city, mayor.user, f"bench-voter-{i:04d}"))
        if i % 50 == 49:
            log(f"votes: {i + 1} residents approved")
    tokens = [Token.objects.create(user=m.user).key for m in members]
    proposal = open_general(members[0], mayor, "Bench vote")
    assert proposal.rules.rules["vote_changeable"]
    path = f"/api/v1/governance/cities/{city.slug}/proposals/{proposal.public_id}/votes"
    choices = ["yes", "no", "abstain"]

    n_votes = size("vote_requests", quick)
    headers = [
        {"Authorization": f"Token {key}", "Content-Type": "application/json", "Host": "127.0.0.1"}
        for key in tokens
    ]
    # load() gives request k to thread k % clients: each thread votes for its own members
    # only (member m belongs to thread m % clients), in turn, changing the choice each round.
    own = [list(range(t, n_members, clients)) for t in range(clients)]
    votes = []
    for k in range(n_votes):
        mine, r = own[k % clients], k // clients
        choice = choices[(r // len(mine) + 1) % 3]
        body = json.dumps({"choice": choice}).encode()
        votes.append(("POST", path, body, headers[mine[r % len(mine)]]))
    # Warm-up votes on members' first ballots (not timed): every later vote in the timed run
    # is then a change of vote, the same work each time.
    warm_votes = [
        ("POST", path, json.dumps({"choice": "yes"}).encode(), headers[m]) for m in range(n_members)
    ]
    run = api_against_healthz(
        db_url,
        workdir,
        tag="votes",
        what="POST .../votes",
        clients=clients,
        timed=votes,
        warm=warm_votes,
        healthz=size("healthz_requests", quick),
        counted={
            "ledger_entries": Transaction.objects.filter(
                chain=city.chain, kind="governance.vote.cast"
            ).count
        },
    )
    vote_figures = run["timed"]
    vote_figures["ballots"] = Ballot.objects.filter(proposal=proposal).count()
    return {
        "members": n_members,
        "votes": vote_figures,
        "healthz": run["healthz"],
        "log": run["log"],
    }


def bench_tally(quick: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance import services
    from governance.models import Ballot, College, ElectorateEntry, Membership, MembershipStatus
    from governance.tally import compute_tally
    from identity.models import User

    n = size("ballots", quick)
    chunk = size("fill_chunk", quick)
    runs = size("tally_runs", quick)
    log(f"tally: a city and one open proposal, then {n:,} ballots filled directly")
    operator = User.objects.get(username="bench-operator")
    city = make_city(operator, "bench-tally")
    mayor = services.membership_appoint(
        operator=operator, user=make_user("bench-tally-mayor"), city=city
    )
    proposal = open_general(mayor, mayor, "Bench tally")
    placeholder_identity = mayor.identity
    placeholder_entry = proposal.city.chain.entries.order_by("index").last()
    colleges = list(College.objects.filter(city=city).order_by("position"))
    choices = ["yes", "no", "abstain"]
    fill_start = time.perf_counter()
    for first in range(0, n, chunk):
        count = min(chunk, n - first)
        users = User.objects.bulk_create(  # bulk_create sends no post_save: no DID per user
            User(username=f"bench-tally-{i:07d}", password="!") for i in range(first, first + count)
        )
        memberships = Membership.objects.bulk_create(
            Membership(
                city=city,
                college=colleges[(first + j) % 3],
                user=user,
                identity=placeholder_identity,
                status=MembershipStatus.APPROVED,
            )
            for j, user in enumerate(users)
        )
        ElectorateEntry.objects.bulk_create(
            ElectorateEntry(
                proposal=proposal,
                membership=m,
                college=m.college,
                did=placeholder_identity.did,
            )
            for m in memberships
        )
        Ballot.objects.bulk_create(
            Ballot(
                proposal=proposal,
                membership=m,
                college=m.college,
                choice=choices[(first + j) % 7 % 3],
                entry=placeholder_entry,
            )
            for j, m in enumerate(memberships)
        )
        if (first // chunk) % 10 == 9 or first + count >= n:
            log(f"tally: {first + count:,} ballots")
    fill_seconds = time.perf_counter() - fill_start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # autovacuum would do it shortly; do it now
            cursor.execute("ANALYZE")
    sizes = {c.slug: n // 3 + (1 if i < n % 3 else 0) for i, c in enumerate(colleges)}
    sizes["municipality"] += 1  # the mayor, in the snapshot taken at open
    rules = proposal.rules.rules

    counts_times, tally_times, queries = [], [], []
    log(f"tally: ballot_counts + compute_tally, {runs} runs")
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            counts = services.ballot_counts(proposal)
            counts_times.append(time.perf_counter() - t)
        queries.append(len(captured))
        t = time.perf_counter()
        tally = compute_tally(rules=rules, electorate=sizes, counts=counts)
        tally_times.append(time.perf_counter() - t)
    total = sum(sum(c.values()) for c in counts.values())
    return {
        "ballots": n,
        "counted": total,
        "fill_seconds": fill_seconds,
        "runs": runs,
        "queries": sorted(set(queries)),
        "counts": percentiles(counts_times),
        "tally": percentiles(tally_times),
        "accepted": tally.get("accepted"),
    }


def bench_list(quick: bool) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from governance import services
    from governance.models import Proposal, ProposalStatus
    from identity.models import User

    n = size("proposals", quick)
    requests = size("page_requests", quick)
    log("list: a city, its staff and one approved resident (services)")
    operator = User.objects.get(username="bench-operator")
    city = make_city(operator, "bench-list")
    mayor = services.membership_appoint(
        operator=operator, user=make_user("bench-list-mayor"), city=city
    )
    member = join_resident(city, mayor.user, "bench-list-resident")
    rules = services.rules_in_force(city)
    now = timezone.now()
    statuses = [
        ProposalStatus.OPEN,
        ProposalStatus.ACCEPTED,
        ProposalStatus.REJECTED,
        ProposalStatus.EXECUTED,
        ProposalStatus.DRAFT,  # visible to its author (the member) only
    ]

    def fill(upto: int) -> None:
        have = Proposal.objects.filter(city=city).count()
        rows = []
        for i in range(have, upto):
            status = statuses[i % len(statuses)]
            voted = status != ProposalStatus.DRAFT
            rows.append(
                Proposal(
                    city=city,
                    kind="general",
                    title=f"Bench proposal {i:05d}",
                    body="",
                    author=member if i % 2 else mayor,
                    status=status,
                    rules=rules if voted else None,
                    opens_at=now if voted else None,
                    closes_at=now + dt.timedelta(hours=48) if voted else None,
                )
            )
        Proposal.objects.bulk_create(rows, batch_size=2_000)

    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(member.user)
    url = f"/c/{city.slug}/proposals/"

    def query_count(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        return len(captured)

    def timed(client) -> dict:
        for _ in range(3):
            client.get(url)
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.status_code
        return percentiles(times)

    def both() -> dict:
        return {"anonymous": query_count(anonymous), "member": query_count(signed_in)}

    result = {"proposals": n, "requests": requests, "small": 100}
    fill(100)
    result["queries_small"] = both()
    log(f"list: filling to {n:,} proposals (bulk_create)")
    fill(n)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE governance_proposal")
    result["queries_large"] = both()
    log(f"list: {requests} GET {url} as an anonymous visitor, then as a member")
    result["anonymous"] = timed(anonymous)
    result["member"] = timed(signed_in)
    return result


def run_backend(backend: str, db_url: str, quick: bool, out: Path) -> None:
    with measuring(backend, db_url, out) as result:
        run_parts(
            result,
            out,
            [
                ("votes", lambda: bench_votes(quick, db_url, out.parent)),
                ("tally", lambda: bench_tally(quick)),
                ("list", lambda: bench_list(quick)),
            ],
        )


# --------------------------------------------------------------------------------------------
# Orchestration and the table (top-level process)
# --------------------------------------------------------------------------------------------


def print_report(res: dict, quick: bool, load_avg: list[float]) -> None:
    rows, notes, row = table_of(res)
    name = res["backend"]

    votes = res.get("votes")
    if failed := part_failed(votes):
        row("1  votes through the API", failed)
    else:
        v, h = votes["votes"], votes["healthz"]
        rows.append(load_row("1  POST .../votes", name, v, h, http_errors(v)))
        rows.append(load_row("1  GET /healthz", name, h, None, http_errors(h)))
        notes.append(
            f"votes: gunicorn --workers 2 --threads 2 on 127.0.0.1 against {name}; "
            f"{votes['members']} approved residents built through the services, each with a "
            f"DRF token; one open general proposal (vote changeable); each member votes once "
            f"untimed, then each client thread votes for its own members in turn, the choice "
            f"cycling yes/no/abstain: every timed request is a change of vote. Statuses "
            f"{v['statuses']}; "
            f"{v['ledger_entries']:,} governance.vote.cast entries appended during the timed "
            f"run, {v['ballots']} ballots (one per member who voted). Reconnects after an idle "
            f"keep-alive close: votes {v['reconnects']}, healthz {h['reconnects']}. The "
            f"client threads run on the same 2 cores as gunicorn and the database."
        )
        notes += load_notes("votes", votes["log"], v, h)
    tally = res.get("tally")
    if failed := part_failed(tally):
        row("2  tally", failed)
    else:
        n = tally["ballots"]
        row(
            f"2  ballot_counts @ {n:,} ballots (runs={tally['runs']})",
            f"{1000 / tally['counts']['mean_ms']:,.1f} /s",
            tally["counts"],
            "",
            f"queries per call: {', '.join(map(str, tally['queries']))}",
        )
        row(
            f"2  compute_tally on those counts (runs={tally['runs']})",
            f"{1000 / tally['tally']['mean_ms']:,.0f} /s",
            tally["tally"],
            "",
            f"counted {tally['counted']:,}",
        )
        notes.append(
            f"tally: the {n:,} ballots are filled directly, not through vote_cast: "
            f"User.objects.bulk_create (no post_save, so no DID per user), then Membership, "
            f"ElectorateEntry and Ballot rows by bulk_create, every membership on one "
            f"placeholder Identity and every ballot on one placeholder ledger Transaction; "
            f"filling took {tally['fill_seconds']:.0f} s. Colleges and choices are spread "
            f"evenly; the table is ANALYZEd (PostgreSQL) before timing."
        )
    lst = res.get("list")
    if failed := part_failed(lst):
        row("3  proposals list", failed)
    else:
        small, large = lst["queries_small"], lst["queries_large"]
        for who in ("anonymous", "member"):
            row(
                f"3  GET /c/<slug>/proposals/ @ {lst['proposals']:,}, {who} (n={lst['requests']})",
                f"{1000 / lst[who]['mean_ms']:,.0f} /s",
                lst[who],
                "",
                f"queries: {small[who]} @ {lst['small']} vs {large[who]} @ "
                f"{lst['proposals']:,} ({'same' if small[who] == large[who] else 'DIFFERENT'})",
            )
        notes.append(
            "list: proposals bulk_created (open, accepted, rejected, executed, draft in turn; "
            "drafts are visible to their author only); django.test.Client in process, "
            "one page of the paginated list, the member signed in with force_login."
        )

    print_table("governance", res, rows, notes, quick=quick, load_avg=load_avg)


def main() -> int:
    return bench_main(
        __file__,
        __doc__,
        quick_help="smaller sizes (100k ballots)",
        run_backend=run_backend,
        print_report=print_report,
        db_name=BENCH_PG_DB,
        concurrent="votes",
        parts=("votes", "tally", "list"),
    )


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard's roll-up (impact.services.rollup): kept by the services in the transaction
of every change, it gives exactly the figures the claims, batches and holdings give
(`dashboard_oracle`, the computation it replaced), for every `since` and across month
boundaries; rebuilt from scratch by `rollup_rebuild` and `manage.py impact_rollup_rebuild`
(with --check to compare only)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.models import CollegeKind
from impact import selectors, services
from impact.errors import InsufficientTokens
from impact.models import (
    Batch,
    Claim,
    ClaimCount,
    Holding,
    ImpactMonth,
    Methodology,
    Portfolio,
    TokenTotal,
)
from impact.services.rollup import rollup_tokens_moved

from .dashboard_oracle import assert_same_dashboard
from .helpers import approve, issued, portfolio, submitted_claim, tco2e

# Methodologies of the shipped catalogue, with their evidence type and random parameters.
METHODS = {
    "cycling-instead-of-car": ("trip-export", lambda r: {"distance_km": str(r.randint(200, 3000))}),
    "waste-sorted": ("weighing-ticket", lambda r: {"mass_kg": str(r.randint(50, 2000))}),
    "energy-saved": (
        "meter-export",
        lambda r: {"baseline_kwh": str(r.randint(4_500, 8_000)), "metered_kwh": "4000"},
    ),
}
# Periods at the edges of months and years: the month is the one the period ends in.
PERIODS = [
    (date(2025, 12, 1), date(2025, 12, 31)),
    (date(2026, 1, 1), date(2026, 1, 1)),
    (date(2025, 12, 31), date(2026, 1, 31)),
    (date(2026, 1, 20), date(2026, 2, 1)),
    (date(2026, 2, 1), date(2026, 2, 28)),
    (date(2026, 2, 28), date(2026, 3, 1)),
    (date(2026, 3, 31), date(2026, 3, 31)),
]
DISTRICTS = ["", "centre", "nord"]


def every_since():
    """None, then every day from the last week of November 2025 to the first of April 2026:
    each month's first and last day, and the days between."""
    yield None
    day = date(2025, 11, 24)
    while day <= date(2026, 4, 1):
        yield day
        day += timedelta(days=1)


def claim_made(rng: random.Random, member, **fields) -> Claim:
    code = rng.choice(sorted(METHODS))
    evidence_type, parameters = METHODS[code]
    start, end = rng.choice(PERIODS)
    claim = services.claim_create(
        claimant=member,
        by=member.user,
        methodology=Methodology.objects.get(code=code, version=1),
        parameters=parameters(rng),
        period_start=start,
        period_end=end,
        district_code=rng.choice(DISTRICTS),
        **fields,
    )
    services.evidence_add_file(
        claim=claim,
        by=member.user,
        evidence_type=evidence_type,
        filename="preuve.csv",
        content=f"date,value\n{end.isoformat()},{rng.random()}\n".encode(),
        media_type="text/csv",
    )
    return claim


def decide(claim: Claim, curator, decision: str) -> None:
    claim = Claim.objects.get(pk=claim.pk)
    services.claim_verify(
        claim=claim,
        by=curator.user,
        decision=decision,
        recomputed_quantity=claim.quantity,
        reason_code="" if decision != "reject" else "insufficient_evidence",
    )


def service_batch(city, deployment, provider_member, members, rng: random.Random, reference):
    """Claims the deployed service submits for members (submitted at once)."""
    items = []
    for member in members:
        start, end = rng.choice(PERIODS)
        items.append(
            {
                "claimant": member.public_id,
                "methodology": Methodology.objects.get(code="cycling-instead-of-car").public_id,
                "parameters": {"distance_km": str(rng.randint(50, 900))},
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "district": rng.choice(DISTRICTS),
                "evidence": [
                    {"type": "trip-dataset", "dataset": f"d-{reference}", "sha256": "ab" * 32}
                ],
            }
        )
    batch = services.claim_batch_submit(
        city=city,
        service_ref=deployment.public_id,
        by=provider_member.user,
        reference=reference,
        items=items,
    )
    return list(batch.claims.all())


def spend(rng: random.Random, city, members, staff) -> None:
    """One random move of tokens among the members: a transfer, a retirement, an offer
    (sold in part, or withdrawn), or a redemption for money by the provider."""
    holders = [m for m in members if Portfolio.objects.filter(city=city, user=m.user).exists()]
    if not holders:
        return
    member = rng.choice(holders)
    mine = portfolio(member)
    for balance in selectors.portfolio_balances(portfolio=mine):
        if balance.available < 2:
            continue
        token_class, quantity = balance.token_class, rng.randint(1, balance.available // 2)
        action = rng.choice(["transfer", "retire", "offer", "redeem"])
        if action == "transfer":
            other = rng.choice([m for m in members if m != member])
            services.token_transfer(
                sender=mine,
                recipient=portfolio(other),
                by=member.user,
                token_class=token_class,
                quantity=quantity,
            )
        elif action == "retire":
            services.token_retire(
                portfolio=mine,
                by=member.user,
                token_class=token_class,
                quantity=quantity,
                reason_code="offset",
            )
        elif action == "offer":
            offer = services.offer_create(
                seller=mine,
                by=member.user,
                token_class=token_class,
                quantity=quantity,
                unit_price_cents=rng.randint(1, 9),
            )
            buyer = rng.choice([m for m in members if m != member])
            services.offer_buy(
                offer=offer,
                buyer=portfolio(buyer),
                by=buyer.user,
                quantity=rng.randint(1, quantity),
            )
            offer.refresh_from_db()
            if offer.status == "open" and rng.random() < 0.5:
                services.offer_withdraw(offer=offer, by=member.user)
        elif member.college.kind == CollegeKind.PROVIDERS:
            services.redemption_rate_set(
                city=city, by=staff, token_class=token_class, cents_per_unit=10_000
            )
            services.token_redeem(
                portfolio=mine, by=member.user, token_class=token_class, quantity=quantity
            )
        return


@pytest.mark.parametrize("seed", [7, 2026])
def test_the_rollup_gives_the_figures_of_the_claims_after_random_activity(
    seed, city, mayor, staff, resident, neighbour, provider_member, curator_member, deployment
):
    """Claims made by residents, a provider and the mayor (whose tokens go to the city),
    some left in draft, submitted, approved, rejected, disputed then decided; a service's
    batch; transfers, retirements, offers bought and withdrawn, redemptions: after each
    step the roll-up agrees with a fresh computation, and at the end the dashboard has the
    oracle's figures for every `since`."""
    rng = random.Random(seed)
    members = [resident, neighbour, provider_member, mayor]
    for step in range(12):
        claim = claim_made(rng, rng.choice(members))
        fate = rng.choice(["draft", "submitted", "approve", "approve", "reject", "dispute"])
        if fate != "draft":
            services.claim_submit(claim=claim, by=claim.claimant.user)
        if fate in ("approve", "reject"):
            decide(claim, curator_member, fate)
        elif fate == "dispute":
            decide(claim, curator_member, "dispute")
            if rng.random() < 0.7:
                decide(claim, curator_member, rng.choice(["approve", "reject"]))
        if step % 4 == 3:
            for claim in service_batch(
                city, deployment, provider_member, [resident, neighbour], rng, f"r{step}"
            ):
                if rng.random() < 0.6:
                    approve(claim, curator_member)
        spend(rng, city, members, staff)
        assert selectors.rollup_differences(city=city) == [], step

    assert ImpactMonth.objects.filter(city=city).exists()
    assert TokenTotal.objects.filter(city=city).exists()
    for since in every_since():
        assert_same_dashboard(city, since)


def test_each_state_and_figure_moves_in_the_same_transaction(
    city, resident, neighbour, curator_member
):
    """A claim counted in draft, then submitted, then approved with its month; its batch
    issued and available; part offered (escrow), part retired: the roll-up follows each
    service call, before any rebuild."""

    def counts():
        return dict(ClaimCount.objects.filter(city=city).values_list("state", "claims"))

    def total():
        row = TokenTotal.objects.get(city=city, token_class=tco2e())
        return (row.issued, row.available, row.escrow, row.retired, row.redeemed)

    claim = submitted_claim(resident, "1000", evidence=True)
    assert counts() == {"draft": 0, "submitted": 1}
    assert not ImpactMonth.objects.filter(city=city).exists()
    approve(claim, curator_member)
    assert counts() == {"draft": 0, "submitted": 0, "approved": 1}
    (month,) = ImpactMonth.objects.filter(city=city)
    assert (month.month, month.quantity, month.claims, month.district_code) == (
        date(2026, 3, 1),
        193,
        1,
        "centre",
    )
    assert total() == (193, 193, 0, 0, 0)
    services.offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=20,
        unit_price_cents=3,
    )
    services.token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=50,
        reason_code="offset",
    )
    assert total() == (193, 123, 20, 50, 0)
    services.token_transfer(
        sender=portfolio(resident),
        recipient=portfolio(neighbour),
        by=resident.user,
        token_class=tco2e(),
        quantity=5,
    )
    assert total() == (193, 123, 20, 50, 0)  # a transfer changes no figure


def test_a_refused_service_leaves_the_rollup_as_it_was(city, resident, curator_member):
    issued(resident, curator_member, "1000")
    before = selectors.rollup_stored(city=city).keyed()
    with pytest.raises(InsufficientTokens):
        services.token_retire(
            portfolio=portfolio(resident),
            by=resident.user,
            token_class=tco2e(),
            quantity=10_000,  # more than held
            reason_code="offset",
        )
    assert selectors.rollup_stored(city=city).keyed() == before


def test_the_database_refuses_a_total_that_does_not_add_up(city, resident, curator_member):
    issued(resident, curator_member, "1000")
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenTotal.objects.filter(city=city).update(retired=F("retired") + 1)


def test_a_city_whose_rollup_was_never_built_gets_it_built_on_its_first_move(
    city, resident, curator_member
):
    """Rows loaded in bulk without a rebuild: the first change of state rebuilds the city's
    roll-up from the holdings as they now are."""
    issued(resident, curator_member, "1000")
    TokenTotal.objects.filter(city=city).delete()
    services.token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
        reason_code="offset",
    )
    assert selectors.rollup_differences(city=city) == []
    rollup_tokens_moved(moves={})  # nothing to move: nothing written


def test_the_rebuild_command_restores_a_lost_or_wrong_rollup(
    city, other_city, resident, neighbour, curator_member
):
    issued(resident, curator_member, "1000")
    issued(neighbour, curator_member, "500", district_code="nord")
    good = selectors.rollup_stored(city=city).keyed()
    ImpactMonth.objects.filter(city=city, district_code="nord").delete()
    ClaimCount.objects.filter(city=city).update(claims=7)

    out = StringIO()
    with pytest.raises(CommandError, match="differs"):
        call_command("impact_rollup_rebuild", "--check", stdout=out)
    assert "bourg: differs" in out.getvalue() and "annecy: agrees" in out.getvalue()
    assert "claim_counts ('approved',): stored (7,), computed (2,)" in out.getvalue()

    out = StringIO()
    call_command("impact_rollup_rebuild", "--city", "bourg", stdout=out)
    assert "bourg: 2 month rows, 1 token classes, 1 claim states" in out.getvalue()
    assert selectors.rollup_stored(city=city).keyed() == good
    call_command("impact_rollup_rebuild", "--check", stdout=StringIO())
    with pytest.raises(CommandError, match="no city"):
        call_command("impact_rollup_rebuild", "--city", "nowhere")


# --- random rows loaded in bulk, then rebuilt: the rebuild and the reads agree with the
# oracle for any claims, states, periods, districts, services and holdings -----------------

claim_rows = st.fixed_dictionaries(
    {
        "method": st.sampled_from(sorted(METHODS)),
        "state": st.sampled_from(["draft", "submitted", "approved", "approved", "rejected"]),
        "end": st.dates(min_value=date(2024, 11, 28), max_value=date(2026, 3, 3)),
        "days": st.integers(min_value=0, max_value=40),
        "quantity": st.integers(min_value=0, max_value=10**12),
        "district": st.sampled_from(DISTRICTS),
        "service": st.sampled_from(["", "svc-a", "svc-b"]),
        # how an approved claim's batch splits: available, escrow, retired, redeemed shares
        "split": st.lists(st.sampled_from(["available", "escrow", "retired", "redeemed"])),
    }
)


@pytest.fixture
def bulk_world(city, resident, neighbour, curator_member):
    """One approved claim, part offered and part retired through the services: the rows
    loaded in bulk name its ledger entry, credential, offer and retirement."""
    batch = issued(resident, curator_member, "1000")
    offer = services.offer_create(
        seller=portfolio(resident), by=resident.user, token_class=tco2e(), quantity=5,
        unit_price_cents=2,
    )  # fmt: skip
    retirement = services.token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=5,
        reason_code="offset",
    )
    return {
        "city": city,
        "batch": batch,
        "offer": offer,
        "retirement": retirement,
        "holders": [portfolio(resident), portfolio(neighbour)],
        "claimant": resident,
    }


def bulk_load(world: dict, rows: list[dict]) -> None:
    """Claims, batches and holdings written with bulk_create (as an import or the bench
    does, outside the services)."""
    base = world["batch"]
    claims, plans = [], []
    for i, row in enumerate(rows):
        methodology = Methodology.objects.select_related("token_class").get(
            code=row["method"], version=1
        )
        end = row["end"]
        claims.append(
            Claim(
                city=world["city"],
                claimant=world["claimant"],
                indicator_id=methodology.indicator_id,
                methodology=methodology,
                token_class=methodology.token_class,
                parameters={},
                parameters_digest="0" * 64,
                quantity=row["quantity"],
                unit=methodology.token_class.smallest_unit,
                period_start=end - timedelta(days=row["days"]),
                period_end=end,
                district_code=row["district"],
                service_ref=row["service"],
                state=row["state"],
                reason_code="other" if row["state"] == "rejected" else "",
                created_by=world["claimant"].user,
                entry_id=base.entry_id,
            )
        )
        plans.append((i, methodology.token_class, row))
    Claim.objects.bulk_create(claims)
    batches, splits = [], []
    for claim, (i, token_class, row) in zip(claims, plans, strict=True):
        if row["state"] != "approved" or row["quantity"] == 0:
            continue
        first = 10**13 * (i + 1)
        batches.append(
            Batch(
                city=world["city"],
                token_class=token_class,
                vintage=2000 + i,
                number=1,
                first_serial=first,
                last_serial=first + row["quantity"] - 1,
                quantity=row["quantity"],
                claim=claim,
                portfolio=world["holders"][i % 2],
                credential_id=base.credential_id,
                entry_id=base.entry_id,
            )
        )
        splits.append(row["split"])
    Batch.objects.bulk_create(batches)
    holdings = []
    for batch, split in zip(batches, splits, strict=True):
        states = split[: batch.quantity] or ["available"]
        share, first = batch.quantity // len(states), batch.first_serial
        for n, state in enumerate(states):
            quantity = share if n < len(states) - 1 else batch.last_serial - first + 1
            holdings.append(
                Holding(
                    portfolio=batch.portfolio,
                    batch=batch,
                    token_class=batch.token_class,
                    first_serial=first,
                    last_serial=first + quantity - 1,
                    quantity=quantity,
                    state=state,
                    offer=world["offer"] if state == "escrow" else None,
                    retirement=world["retirement"] if state == "retired" else None,
                )
            )
            first += quantity
    Holding.objects.bulk_create(holdings)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(claim_rows, max_size=30),
    sinces=st.lists(
        st.one_of(st.none(), st.dates(min_value=date(2024, 11, 1), max_value=date(2026, 4, 2))),
        min_size=1,
        max_size=6,
    ),
)
def test_rebuilt_from_any_rows_the_rollup_gives_the_oracles_figures(bulk_world, rows, sinces):
    with transaction.atomic():
        bulk_load(bulk_world, rows)
        services.rollup_rebuild(city=bulk_world["city"])
        assert selectors.rollup_differences(city=bulk_world["city"]) == []
        # and each claim's month: its first and last day, and the days after them, where a
        # boundary off by one would show
        edges = set(sinces)
        for row in rows:
            first = row["end"].replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            edges |= {first, first + timedelta(days=1), last, last + timedelta(days=1)}
        for since in sorted(edges, key=lambda day: day or date.min):
            assert_same_dashboard(bulk_world["city"], since)
        transaction.set_rollback(True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_offers_and_retirements_keep_the_rollup_exact(
    city, staff, curator_member
):
    """Eight members at once on PostgreSQL: approvals (a new batch each, the same month and
    class), offers (escrow) and retirements of one token class all update the same roll-up
    rows. None fails (no deadlock: the rows are locked after the chain head) and the roll-up
    is what the rows give."""
    from tests.conftest import require_postgres
    from tests.governance.helpers import join

    from .test_concurrency import run_together

    require_postgres()
    members = [join(city, "residents", by=staff) for _ in range(8)]
    for member in members[:6]:
        issued(member, curator_member, "1000")
    waiting = {n: submitted_claim(members[n], "500") for n in (6, 7)}

    def work(n: int) -> None:
        if n in waiting:
            approve(waiting[n], curator_member)
        elif n % 2:
            services.token_retire(
                portfolio=portfolio(members[n]),
                by=members[n].user,
                token_class=tco2e(),
                quantity=20 + n,
                reason_code="offset",
            )
        else:
            services.offer_create(
                seller=portfolio(members[n]),
                by=members[n].user,
                token_class=tco2e(),
                quantity=10 + n,
                unit_price_cents=4,
            )

    assert run_together(work, count=8) == []
    assert selectors.rollup_differences(city=city) == []
    total = TokenTotal.objects.get(city=city, token_class=tco2e())
    assert (total.issued, total.retired, total.escrow) == (
        6 * 193 + 2 * 96,
        21 + 23 + 25,
        10 + 12 + 14,
    )
    assert_same_dashboard(city, None)


def test_the_dashboard_reads_the_rollup_in_a_fixed_number_of_queries(
    city, resident, neighbour, curator_member, django_assert_num_queries
):
    """Six queries for whole months (none over the claims); one more, over the claims of a
    single month, when the period starts mid-month."""
    issued(resident, curator_member, "1000")
    issued(neighbour, curator_member, "500", district_code="nord")
    with django_assert_num_queries(6):
        selectors.dashboard(city=city, since=date(2026, 3, 1))
    with django_assert_num_queries(7):
        board = selectors.dashboard(city=city, since=date(2026, 3, 15))
    assert [(r["month"], r["quantity"], r["claims"]) for r in board.by_month] == [
        (date(2026, 3, 1), 193 + 96, 2)
    ]
    assert selectors.dashboard(city=city, since=date(2026, 4, 1)).by_month == []

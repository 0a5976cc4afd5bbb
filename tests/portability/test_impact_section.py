"""A city that leaves keeps what its residents hold: claims with their evidence, curators'
verifications and credentials, token batches and their serials, every holding, transfers,
retirements whose certificates still verify, offers in escrow; and an export whose impact
rows disagree with the ledger is refused before anything is written."""

from __future__ import annotations

import shutil
from functools import partial

import pytest
from django.apps import apps
from django.db.models import Sum

from governance.models import City, CollegeKind, Membership
from identity import vc
from impact import selectors, services
from impact.models import (
    Batch,
    Claim,
    ClaimBatch,
    Contribution,
    Curator,
    Evidence,
    ForwardFill,
    ForwardOrder,
    Holding,
    MerchantOffer,
    MerchantRedemption,
    Participation,
    ParticipationCall,
    Payable,
    Portfolio,
    Project,
    Purchase,
    Redemption,
    RedemptionRate,
    Retirement,
    SellOffer,
    SerialCounter,
    Transfer,
    Verification,
)
from ledger.receipt_check import receipt_check
from ledger.services import chain_seal
from marketplace.models import Deployment
from smartb.portability import ImportRefused
from smartb.portability.services import city_export, city_import
from tests.impact.dashboard_oracle import figures
from tests.impact.helpers import TRIPS, approve, cycling, submitted_claim, tco2e

from .helpers import city_view, export_dir, rewrite_json, wipe_database


def counts() -> dict[str, int]:
    """Rows of every table a refused import must leave alone, impact's included."""
    labels = {"ledger", "identity", "governance", "marketplace", "account", "impact"}
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


def impact_view(slug: str) -> dict:
    """What the city's impact pages show (no database key)."""
    city = City.objects.get(slug=slug)
    holdings = Holding.objects.filter(batch__city=city)
    certificates = []
    for retirement in Retirement.objects.filter(city=city).order_by("created_at"):
        cert = selectors.retirement_certificate(retirement=retirement)
        certificates.append(
            {
                "retirement": retirement.public_id,
                "holder": retirement.portfolio.identity.did,
                "ranges": [(r.label, r.quantity) for r in cert.ranges],
                "tx_hash": cert.entry.tx_hash,
                "receipt": cert.receipt,
                "credentials": cert.credentials,
            }
        )
    return {
        "balances": sorted(
            holdings.values("portfolio__public_id", "portfolio__identity__did", "state")
            .annotate(total=Sum("quantity"))
            .values_list("portfolio__public_id", "portfolio__identity__did", "state", "total")
        ),
        "holdings": sorted(
            holdings.values_list(
                "batch__public_id",
                "first_serial",
                "last_serial",
                "portfolio__public_id",
                "state",
                "offer__public_id",
                "retirement__public_id",
            )
        ),
        "batches": sorted(
            (b.public_id, b.serial_label, b.quantity, b.credential.digest, b.entry.tx_hash)
            for b in Batch.objects.filter(city=city).select_related("city", "token_class")
        ),
        "counters": sorted(
            SerialCounter.objects.filter(city=city).values_list(
                "token_class__code", "vintage", "next_serial", "next_batch"
            )
        ),
        "claims": sorted(
            Claim.objects.filter(city=city).values_list(
                "public_id",
                "state",
                "quantity",
                "parameters_digest",
                "methodology__code",
                "methodology__digest",
                "claimant__public_id",
                "batch__public_id",
                "entry__tx_hash",
                "created_at",
            )
        ),
        "evidence": sorted(
            (e.public_id, e.kind, e.sha256, bytes(e.content) if e.content else None)
            for e in Evidence.objects.filter(claim__city=city)
        ),
        "verifications": sorted(
            Verification.objects.filter(claim__city=city).values_list(
                "public_id", "decision", "reason_code", "credential__digest", "entry__tx_hash"
            )
        ),
        "curators": sorted(
            Curator.objects.filter(city=city).values_list(
                "public_id", "membership__public_id", "revoked_at", "entry__tx_hash"
            )
        ),
        "transfers": sorted(
            Transfer.objects.filter(city=city).values_list(
                "public_id",
                "sender__public_id",
                "recipient__public_id",
                "serials",
                "entry__tx_hash",
            )
        ),
        "offers": sorted(
            SellOffer.objects.filter(city=city).values_list(
                "public_id", "remaining", "status", "entry__tx_hash"
            )
        ),
        "certificates": certificates,
    }


@pytest.fixture
def city_with_tokens(city):
    """Two residents' cycling claims approved by a curator (one through the deployed
    service's batch), a rejected claim, a transfer, a retirement over two batches, an
    offer in escrow."""
    services.impact_load_catalogue()
    members = Membership.objects.filter(city=city, status="approved").select_related("user")
    staff = members.get(college__kind=CollegeKind.MUNICIPALITY).user
    residents = list(members.filter(college__kind=CollegeKind.RESIDENTS).order_by("pk"))
    curator, alice, bob, carol = residents[:4]
    services.curator_grant(city=city, membership=curator, by=staff)
    approve(submitted_claim(alice, "1000"), curator)  # 193 kg to Alice
    deployment = Deployment.objects.get(city=city)
    batch = services.claim_batch_submit(
        city=city,
        service_ref=deployment.public_id,
        by=deployment.service.provider.owner,
        reference="2026-03",
        items=[
            {
                "claimant": bob.public_id,
                "methodology": cycling().public_id,
                "parameters": {"distance_km": "500"},
                "period_start": "2026-03-01",
                "period_end": "2026-03-31",
                "district": "nord",
                "evidence": [{"type": "trip-dataset", "dataset": "trips-1", "sha256": "cd" * 32}],
            }
        ],
    )
    approve(batch.claims.get(), curator)  # 96 kg to Bob
    rejected = submitted_claim(carol, "40")
    services.claim_verify(
        claim=rejected,
        by=curator.user,
        decision="reject",
        recomputed_quantity=rejected.quantity,
        reason_code="insufficient_evidence",
    )
    alice_tokens = services.portfolio_for(city=city, user=alice.user)
    bob_tokens = services.portfolio_for(city=city, user=bob.user)
    services.token_transfer(
        sender=alice_tokens, recipient=bob_tokens, by=alice.user, token_class=tco2e(), quantity=50
    )
    services.token_retire(
        portfolio=bob_tokens,
        by=bob.user,
        token_class=tco2e(),
        quantity=120,  # the 50 from Alice's batch first, then 70 of Bob's own
        reason_code="on_behalf",
        beneficiary_name="Association du lavoir",
    )
    services.offer_create(
        seller=alice_tokens, by=alice.user, token_class=tco2e(), quantity=20, unit_price_cents=3
    )
    chain_seal(chain=city.chain)
    return City.objects.get(pk=city.pk)


def test_the_imported_city_keeps_its_claims_tokens_and_certificates(city_with_tokens, tmp_path):
    before = impact_view("bourg")
    board = figures(selectors.dashboard(city=city_with_tokens))
    size = city_with_tokens.chain.size
    assert len(before["certificates"]) == 1 and len(before["certificates"][0]["ranges"]) == 2
    directory = export_dir(tmp_path)
    city_export(city=city_with_tokens, directory=directory)
    wipe_database()

    city_import(directory=directory)

    after = impact_view("bourg")
    for key in before:
        assert after[key] == before[key], key
    # The dashboard's roll-up is built from the imported rows: the same figures.
    imported = City.objects.get(slug="bourg")
    assert selectors.rollup_differences(city=imported) == []
    assert figures(selectors.dashboard(city=imported)) == board
    # The certificate still verifies: its receipt against the checkpoint, the curators'
    # credentials behind its batches with their signatures.
    certificate = after["certificates"][0]
    assert receipt_check(certificate["receipt"])["holds"]
    for batch in Batch.objects.select_related("credential"):
        assert vc.proof_verify(batch.credential.document).verified
        assert batch.credential.digest in certificate["credentials"]
    assert bytes(Evidence.objects.get(kind="file", claim__state="approved").content) == TRIPS
    assert ClaimBatch.objects.get().reference == "2026-03"
    assert city_view("bourg")["chain"]["size"] == size
    # The imported city issues the next serials after the old ones, never the same again.
    counter = SerialCounter.objects.get()
    assert counter.next_serial == Batch.objects.order_by("-last_serial").first().last_serial + 1
    assert Portfolio.objects.count() == 2  # Alice's and Bob's: nothing was issued to Carol


def _more(data, table, change):
    change(data["tables"][table])


def _quantity(rows):
    rows[0]["quantity"] += 1000  # a transfer says it moved more than it signed


def _removed(rows):
    rows.pop()  # the retirement disappears: its certificate would too


def _overlap(rows):
    first, second = rows[0], rows[1]  # the second batch's serials start inside the first's
    shift = second["first_serial"] - first["first_serial"]
    second["first_serial"] -= shift
    second["last_serial"] -= shift


def _moved(rows):
    available = next(r for r in rows if r["state"] == "available")
    other = next(r["portfolio"] for r in rows if r["portfolio"] != available["portfolio"])
    available["portfolio"] = other  # someone else's tokens now


TAMPERS = [  # (table, change, what the refusal names)
    ("transfers", _quantity, "transfer"),
    ("retirements", _removed, "no row"),
    ("batches", _overlap, "batch|overlap"),
    ("holdings", _moved, "holdings"),
]


def test_impact_rows_that_disagree_with_the_ledger_are_refused_with_nothing_written(
    city_with_tokens, tmp_path
):
    """A changed quantity, a removed row, overlapping serials, a holding moved to someone
    else: each on its own copy of one export (one city built, one export: CI time)."""
    directory = export_dir(tmp_path)
    city_export(city=city_with_tokens, directory=directory)
    wipe_database()
    before = counts()
    for table, change, message in TAMPERS:
        tampered = tmp_path / f"tampered-{change.__name__}"
        shutil.copytree(directory, tampered)
        rewrite_json(
            tampered, "impact.json", partial(_more, table=table, change=change), fix_digest=True
        )
        with pytest.raises(ImportRefused, match=message):
            city_import(directory=tampered)
        assert counts() == before, change.__name__
    assert not City.objects.exists()
    city_import(directory=directory)  # the untouched export still imports
    assert Batch.objects.count() == 2


def community_view(slug: str) -> dict:
    """The city's market and community rows (no database key)."""
    city = City.objects.get(slug=slug)
    return {
        "payables": sorted(
            Payable.objects.filter(city=city).values_list(
                "public_id", "kind", "payee__public_id", "amount_cents", "status", "entry__tx_hash"
            )
        ),
        "redemptions": sorted(
            Redemption.objects.filter(city=city).values_list(
                "public_id", "quantity", "amount_cents", "serials", "payable__public_id"
            )
        ),
        "rates": sorted(
            RedemptionRate.objects.filter(city=city).values_list(
                "token_class__code", "cents_per_unit", "entry__tx_hash"
            )
        ),
        "purchases": sorted(
            Purchase.objects.filter(offer__city=city).values_list(
                "public_id", "transfer__public_id", "movement__public_id", "payable__public_id"
            )
        ),
        "orders": sorted(
            ForwardOrder.objects.filter(city=city).values_list(
                "public_id", "filled", "status", "movement__public_id"
            )
        ),
        "fills": sorted(
            ForwardFill.objects.filter(order__city=city).values_list(
                "order__public_id", "batch__public_id", "quantity", "transfer__public_id"
            )
        ),
        "merchant": sorted(
            MerchantOffer.objects.filter(city=city).values_list(
                "public_id", "title", "stock", "active"
            )
        ),
        "merchant_redemptions": sorted(
            MerchantRedemption.objects.filter(offer__city=city).values_list(
                "public_id", "items", "retirement__public_id"
            )
        ),
        "projects": sorted(
            Project.objects.filter(city=city).values_list(
                "public_id", "title", "collected_quantity", "collected_cents", "status"
            )
        ),
        "contributions": sorted(
            Contribution.objects.filter(project__city=city).values_list(
                "public_id", "transfer__public_id", "payable__public_id"
            )
        ),
        "calls": sorted(
            ParticipationCall.objects.filter(city=city).values_list(
                "public_id", "title", "status", "created_by__public_id"
            )
        ),
        "participations": sorted(
            Participation.objects.filter(call__city=city).values_list(
                "call__public_id", "membership__public_id", "status", "transfer__public_id"
            )
        ),
    }


def test_the_market_and_the_community_leave_with_the_city(city, tmp_path):
    """A forward order filled, an offer partly sold then withdrawn, a redemption for money,
    a merchant who retires, a project given tokens and money, a participation rewarded from
    the city's portfolio: every row comes back, and the holdings still agree."""
    services.impact_load_catalogue()
    members = Membership.objects.filter(city=city, status="approved").select_related("user")
    mayor = members.get(college__kind=CollegeKind.MUNICIPALITY)
    staff = mayor.user
    curator, alice, bob, carol = members.filter(college__kind=CollegeKind.RESIDENTS).order_by("pk")[
        :4
    ]
    provider, investor = members.filter(college__kind=CollegeKind.PROVIDERS).order_by("pk")[:2]
    services.curator_grant(city=city, membership=curator, by=staff)
    services.redemption_rate_set(city=city, by=staff, token_class=tco2e(), cents_per_unit=6000)
    services.forward_order_create(
        city=city, by=investor.user, token_class=tco2e(), quantity=100, unit_price_cents=9
    )
    alice_tokens = services.portfolio_for(city=city, user=alice.user)
    services.portfolio_forward_consent(portfolio=alice_tokens, by=alice.user, accepts=True)
    for member in (alice, bob, provider, mayor):  # Alice's first 100 fill the order
        approve(submitted_claim(member, "1000"), curator)
    bob_tokens = services.portfolio_for(city=city, user=bob.user)
    offer = services.offer_create(
        seller=bob_tokens, by=bob.user, token_class=tco2e(), quantity=60, unit_price_cents=3
    )
    services.offer_buy(offer=offer, buyer=alice_tokens, by=alice.user, quantity=30)
    services.offer_withdraw(offer=offer, by=bob.user)
    services.token_redeem(
        portfolio=services.portfolio_for(city=city, user=provider.user),
        by=provider.user,
        token_class=tco2e(),
        quantity=50,
    )
    ride = services.merchant_offer_create(
        city=city,
        by=provider.user,
        title="Trajet en navette",
        description="Un aller simple.",
        token_class=tco2e(),
        price_quantity=20,
        settlement="retire",
        stock=5,
    )
    services.merchant_offer_redeem(offer=ride, buyer=bob_tokens, by=bob.user)
    project = services.project_create(
        city=city,
        by=carol.user,
        title="Lavoir",
        description="Un toit.",
        token_class=tco2e(),
        goal_quantity=100,
    )
    services.project_contribute(
        project=project, contributor=bob_tokens, by=bob.user, quantity=10, amount_cents=100
    )
    call = services.participation_call_create(
        city=city,
        by=staff,
        title="Nettoyage des berges",
        description="Samedi matin.",
        token_class=tco2e(),
        reward_quantity=10,
        places=3,
    )
    services.participation_reward(
        participation=services.participation_register(call=call, by=carol.user), by=staff
    )
    services.participation_register(call=call, by=bob.user)
    chain_seal(chain=city.chain)
    before = {**impact_view("bourg"), **community_view("bourg")}
    assert all(before[key] for key in ("fills", "purchases", "participations", "redemptions"))
    directory = export_dir(tmp_path)
    city_export(city=City.objects.get(pk=city.pk), directory=directory)
    wipe_database()

    city_import(directory=directory)

    after = {**impact_view("bourg"), **community_view("bourg")}
    for key in before:
        assert after[key] == before[key], key


@pytest.mark.parametrize("with_money", [False, True], ids=["calls-only", "orders-and-gifts"])
def test_the_community_leaves_with_a_city_that_has_no_claims_nor_tokens(city, tmp_path, with_money):
    """No claim, batch or holding in the city: a participation call its residents signed
    up to (no portfolio at all), and with money an investor's forward order and a project
    given money. Every row comes back, and the imported city's ledger has a row for each of
    its impact transactions (the import used to skip the section when the claims and tokens
    were empty)."""
    services.impact_load_catalogue()
    members = Membership.objects.filter(city=city, status="approved").select_related("user")
    staff = members.get(college__kind=CollegeKind.MUNICIPALITY).user
    alice, bob = members.filter(college__kind=CollegeKind.RESIDENTS).order_by("pk")[:2]
    call = services.participation_call_create(
        city=city,
        by=staff,
        title="Nettoyage des berges",
        description="Samedi matin.",
        token_class=tco2e(),
        reward_quantity=10,
        places=3,
    )
    for member in (alice, bob):
        services.participation_register(call=call, by=member.user)
    if with_money:
        investor = members.filter(college__kind=CollegeKind.PROVIDERS).order_by("pk")[0]
        services.forward_order_create(
            city=city, by=investor.user, token_class=tco2e(), quantity=100, unit_price_cents=9
        )
        project = services.project_create(
            city=city, by=alice.user, title="Lavoir", description="Un toit.", goal_cents=10_000
        )
        services.project_contribute(
            project=project,
            contributor=services.portfolio_for(city=city, user=bob.user),
            by=bob.user,
            amount_cents=2_500,
        )
    chain_seal(chain=city.chain)
    assert not Claim.objects.exists() and not Batch.objects.exists()
    before = community_view("bourg")
    impact_kinds = sorted(
        city.chain.entries.filter(kind__startswith="impact.").values_list("kind", flat=True)
    )
    directory = export_dir(tmp_path)
    city_export(city=City.objects.get(pk=city.pk), directory=directory)
    wipe_database()

    city_import(directory=directory)

    after = community_view("bourg")
    assert after["calls"] and len(after["participations"]) == 2
    assert bool(after["orders"]) == with_money and bool(after["contributions"]) == with_money
    for key in before:
        assert after[key] == before[key], key
    imported = City.objects.get(slug="bourg")
    assert ParticipationCall.objects.filter(city=imported).count() == 1
    assert impact_kinds == sorted(
        imported.chain.entries.filter(kind__startswith="impact.").values_list("kind", flat=True)
    )

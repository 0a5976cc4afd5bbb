"""Helpers the impact tests share: claims built through the services (created, evidenced,
submitted, approved), and a snapshot to check that a refusal wrote nothing."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from django.db.models import Sum

from governance.models import Membership, Movement
from identity.models import Credential
from impact import services
from impact.models import (
    Batch,
    Claim,
    Evidence,
    Holding,
    Methodology,
    Payable,
    Portfolio,
    Retirement,
    SellOffer,
    TokenClass,
    Transfer,
    Verification,
)
from ledger.models import Transaction

PERIOD = (date(2026, 3, 1), date(2026, 3, 31))
TRIPS = b"date,km\n2026-03-02,12.5\n2026-03-09,30\n"


def cycling() -> Methodology:
    return Methodology.objects.get(code="cycling-instead-of-car", version=1)


def tco2e() -> TokenClass:
    return TokenClass.objects.get(code="tco2e-avoided")


def draft_claim(member: Membership, km: str = "1000", **fields) -> Claim:
    """A draft cycling claim by `member`: 1000 km → 193 kg CO2e avoided."""
    return services.claim_create(
        claimant=member,
        by=member.user,
        methodology=fields.pop("methodology", None) or cycling(),
        parameters=fields.pop("parameters") if "parameters" in fields else {"distance_km": km},
        period_start=fields.pop("period_start", PERIOD[0]),
        period_end=fields.pop("period_end", PERIOD[1]),
        district_code=fields.pop("district_code", "centre"),
        **fields,
    )


def add_trips(claim: Claim, content: bytes = TRIPS) -> Evidence:
    return services.evidence_add_file(
        claim=claim,
        by=claim.claimant.user,
        evidence_type="trip-export",
        filename="trajets.csv",
        content=content,
        media_type="text/csv",
    )


def submitted_claim(member: Membership, km: str = "1000", *, evidence: bool = True, **fields):
    claim = draft_claim(member, km, **fields)
    if evidence:
        add_trips(claim)
    return services.claim_submit(claim=claim, by=member.user)


def approve(claim: Claim, curator: Membership) -> Verification:
    claim = Claim.objects.get(pk=claim.pk)
    return services.claim_verify(
        claim=claim,
        by=curator.user,
        decision="approve",
        recomputed_quantity=claim.quantity,
    )


def issued(member: Membership, curator: Membership, km: str = "1000", **fields) -> Batch:
    """Tokens in `member`'s portfolio: a cycling claim submitted with evidence, approved."""
    verification = approve(submitted_claim(member, km, **fields), curator)
    return Batch.objects.get(claim=verification.claim)


def portfolio(member: Membership) -> Portfolio:
    return services.portfolio_for(city=member.city, user=member.user)


def balance(portfolio: Portfolio, state: str = "available", token_class=None) -> int:
    holdings = Holding.objects.filter(portfolio=portfolio, state=state)
    if token_class is not None:
        holdings = holdings.filter(token_class=token_class)
    return holdings.aggregate(total=Sum("quantity"))["total"] or 0


def serials_of(portfolio: Portfolio, state: str | None = None) -> set[tuple[int, int]]:
    """Every (batch id, serial) a portfolio holds: to check ranges partition their batch."""
    holdings = Holding.objects.filter(portfolio=portfolio)
    if state:
        holdings = holdings.filter(state=state)
    return {
        (h.batch_id, serial)
        for h in holdings
        for serial in range(h.first_serial, h.last_serial + 1)
    }


def snapshot() -> dict:
    """Every row an impact service may write."""
    return {
        "transactions": list(Transaction.objects.order_by("pk").values_list("pk", "tx_hash")),
        "claims": list(
            Claim.objects.order_by("pk").values_list("pk", "state", "reason_code", "quantity")
        ),
        "evidence": Evidence.objects.count(),
        "verifications": Verification.objects.count(),
        "credentials": Credential.objects.count(),
        "batches": Batch.objects.count(),
        "holdings": list(
            Holding.objects.order_by("pk").values_list(
                "pk", "portfolio_id", "first_serial", "last_serial", "state", "offer_id"
            )
        ),
        "transfers": Transfer.objects.count(),
        "retirements": Retirement.objects.count(),
        "offers": list(SellOffer.objects.order_by("pk").values_list("pk", "status", "remaining")),
        "payables": list(Payable.objects.order_by("pk").values_list("pk", "status")),
        "movements": Movement.objects.count(),
    }


@contextmanager
def writes_nothing():
    """`with writes_nothing(), pytest.raises(Error):` — the refusal left no trace."""
    before = snapshot()
    yield
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"a refused action wrote to: {', '.join(changed)}"

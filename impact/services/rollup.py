"""The dashboard's roll-up: `ImpactMonth` (approved impact per month, indicator, unit,
district and service), `TokenTotal` (units issued, available, in escrow, retired, redeemed
per token class) and `ClaimCount` (claims per state), per city.

They are kept in the transaction of every service that changes a figure: a claim created,
submitted or decided, a batch issued, holdings changing state (offered, sold, withdrawn,
retired, redeemed; a plain transfer changes no figure and writes nothing here). Why not a
beat task over closed months with the current month computed live: a month is never
closed (a claim is approved weeks after its period ends, and the dashboard groups by the
period), and holdings change state at any time; counters updated beside the change are
exact at every commit, for one or two indexed UPDATEs per write.

Each call comes after the service's ledger append, so the rows here are locked after the
city's chain head, which every writer of the city holds already: no new lock order and no
new wait. `rollup_rebuild` recomputes a city's rows from its claims, batches and holdings
(after an import or a bulk load; `manage.py impact_rollup_rebuild`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from governance.models import City
from ledger.models import Chain

from ..models import Batch, Claim, ClaimCount, ClaimState, ImpactMonth, TokenTotal
from ..selectors import rollup_computed


def _add(model, key: dict, **deltas: int) -> int:
    """Add `deltas` to the row of `key`, created with them when missing. Returns the number
    of rows that existed (0 or 1)."""
    increments = {name: F(name) + value for name, value in deltas.items()}
    if model.objects.filter(**key).update(**increments):
        return 1
    try:
        with transaction.atomic():
            model.objects.create(**key, **deltas)
    except IntegrityError:  # created meanwhile by a writer that did not hold the chain head
        model.objects.filter(**key).update(**increments)
        return 1
    return 0


def _month_key(claim: Claim) -> dict:
    return {
        "city_id": claim.city_id,
        "month": claim.period_end.replace(day=1),
        "indicator_id": claim.indicator_id,
        "token_class_id": claim.token_class_id,
        "unit": claim.unit,
        "district_code": claim.district_code,
        "service_ref": claim.service_ref,
    }


def rollup_claim_state(*, claim: Claim, was: str | None) -> None:
    """Count `claim` in its state (and no longer in `was`; None for a new claim); an
    approval adds its quantity to its month."""
    if was == claim.state:
        return
    if was is not None:
        _add(ClaimCount, {"city_id": claim.city_id, "state": was}, claims=-1)
    _add(ClaimCount, {"city_id": claim.city_id, "state": claim.state}, claims=1)
    if claim.state == ClaimState.APPROVED:
        _add(ImpactMonth, _month_key(claim), quantity=claim.quantity, claims=1)


def rollup_claims_created(*, city: City, state: str, count: int) -> None:
    """Count `count` new claims of `city` in `state` (a service's batch)."""
    if count:
        _add(ClaimCount, {"city_id": city.pk, "state": state}, claims=count)


def rollup_tokens_issued(*, batch: Batch) -> None:
    """A new batch: its units are issued and available."""
    key = {"city_id": batch.city_id, "token_class_id": batch.token_class_id}
    _add(TokenTotal, key, issued=batch.quantity, available=batch.quantity)


def rollup_tokens_moved(*, moves: dict[tuple[int, int, str, str], int]) -> None:
    """Units changing state: `moves` maps (city id, token class id, from state, to state)
    to a quantity. A city whose roll-up was never built (rows loaded in bulk) has it
    rebuilt, from the holdings as they now are."""
    for (city_id, token_class_id, was, now), quantity in moves.items():
        if was == now or not quantity:
            continue
        updated = TokenTotal.objects.filter(city_id=city_id, token_class_id=token_class_id).update(
            **{was: F(was) - quantity, now: F(now) + quantity}
        )
        if not updated:
            rollup_rebuild(city=City.all_bodies.get(pk=city_id))


@transaction.atomic
def rollup_rebuild(*, city: City) -> dict[str, int]:
    """Recompute the city's roll-up from its claims, batches and holdings, holding its chain
    head (no writer of the city changes them meanwhile). Returns the rows written per
    table."""
    Chain.objects.select_for_update().filter(pk=city.chain_id).first()
    fresh = rollup_computed(city=city)
    for model in (ImpactMonth, TokenTotal, ClaimCount):
        model.objects.filter(city=city).delete()
    ImpactMonth.objects.bulk_create(fresh.months, batch_size=2_000)
    ClaimCount.objects.bulk_create(fresh.claim_counts)
    TokenTotal.objects.bulk_create(fresh.token_totals)
    return {
        "months": len(fresh.months),
        "claim_counts": len(fresh.claim_counts),
        "token_totals": len(fresh.token_totals),
    }

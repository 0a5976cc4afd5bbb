"""Personal data stays off the ledger: a whole scenario (claims, evidence, approval,
transfers, a named retirement, offers, projects, merchant offers) writes only ids, DIDs,
integers and digests."""

from __future__ import annotations

import re

from django.core.management import call_command

from impact.services import (
    merchant_offer_create,
    offer_buy,
    offer_create,
    project_create,
    token_retire,
    token_transfer,
)
from ledger.models import Transaction
from tests.governance.helpers import ledger_verifies

from .helpers import issued, portfolio, tco2e

SECRETS = ["Léa Dupont", "trajets.csv", "Jardin", "Café", "date,km"]
TOKEN = re.compile(r"^[A-Za-z0-9_.:\-/#+=,]{0,256}$")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_the_impact_ledger_holds_no_personal_data(city, resident, neighbour, curator_member):
    issued(resident, curator_member, "1000")
    token_transfer(
        sender=portfolio(resident),
        recipient=portfolio(neighbour),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
    )
    token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
        reason_code="on_behalf",
        beneficiary_name="Léa Dupont",
    )
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
        unit_price_cents=9,
    )
    offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=1)
    project_create(city=city, by=neighbour.user, title="Jardin", description="x", goal_cents=1)
    merchant_offer_create(
        city=city,
        by=neighbour.user,
        title="Café",
        description="",
        token_class=tco2e(),
        price_quantity=1,
        settlement="transfer",
    )
    entries = Transaction.objects.filter(kind__startswith="impact.")
    assert entries.count() >= 10
    for entry in entries:
        for text in _strings(entry.payload):
            assert TOKEN.match(text), (entry.kind, text)
            assert not any(secret in text for secret in SECRETS), (entry.kind, text)
    assert resident.user.email not in str(list(entries.values_list("payload", flat=True)))
    # And the city's chain, impact transactions included, verifies end to end.
    call_command("ledger_seal", "--chain", city.chain.slug, verbosity=0)
    ledger_verifies(city)

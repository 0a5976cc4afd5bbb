"""Demo: a second city, Sète, and the two cities witnessing each other's ledger and the
network chain, so that montpellier's latest checkpoint carries Sète's cosignature.

Called by `seed_demo` after its blocks are sealed. Idempotent: a second run finds the city,
its staff and the relations, seals nothing new and cosigns nothing new.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from governance import services as gov
from governance.models import City, CollegeKind
from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG, Chain
from ledger.services import chain_seal
from witnesses.models import WitnessRelation
from witnesses.services import witness_add, witness_all

SECOND_CITY = ("sete", "Sète", ["34200"])
SECOND_STAFF = ("mairie-sete@demo.smartb.fr", "Lucie", "Fabre")


def seed_witnesses(command, *, first_city: str = "montpellier") -> None:
    """`command` is the running `seed_demo` (its `_account` creates demo logins)."""
    operator = User.objects.get(email="operator@demo.smartb.fr")
    montpellier = City.objects.get(slug=first_city)
    mairie = montpellier.memberships.get(
        college__kind=CollegeKind.MUNICIPALITY, user__email="mairie@demo.smartb.fr"
    ).user
    slug, name, postal_codes = SECOND_CITY
    with transaction.atomic():
        sete = City.objects.filter(slug=slug).first() or gov.city_create(
            operator=operator, slug=slug, name=name, postal_codes=postal_codes
        )
        sete_staff = command._account(*SECOND_STAFF)
        if not sete.memberships.filter(user=sete_staff).exists():
            gov.membership_appoint(operator=operator, user=sete_staff, city=sete)
        network = Chain.objects.get(slug=NETWORK_CHAIN_SLUG)
        for city, staff, chain in (
            (montpellier, mairie, sete.chain),
            (montpellier, mairie, network),
            (sete, sete_staff, montpellier.chain),
            (sete, sete_staff, network),
        ):
            if not WitnessRelation.objects.filter(
                witness=city, chain=chain, removed_at=None
            ).exists():
                witness_add(city=city, by=staff, chain=chain)
    # The relations are on the cities' chains: seal them, then run one witnessing round.
    for chain in Chain.objects.filter(size__gt=F("sealed_size")).order_by("slug"):
        chain_seal(chain=chain)
    counts = witness_all()
    command.stdout.write(
        f"Witnesses: {name} ({SECOND_STAFF[0]}, municipality staff) and {montpellier.name} "
        f"witness each other and the network chain; this round: {counts}"
    )

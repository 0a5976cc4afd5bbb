"""Factories that build the world of a test: accounts and ledger chains.

Every `User` created gets a custodial DID through a post_save signal (see `identity.signals`),
so `UserFactory()` also registers a ledger actor and appends its `identity.did.register`
transaction to the network chain.
"""

from __future__ import annotations

import factory

from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG, Chain
from ledger.services import chain_create

PASSWORD = "Un-long-mot-de-passe-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The network chain comes from a data migration; a transactional test flushes it.
        chain_create(slug=NETWORK_CHAIN_SLUG, name="SMART B network")
        return super()._create(model_class, *args, **kwargs)


class ChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chain
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"city-{n}")
    name = factory.Sequence(lambda n: f"City {n}")


# --- app store (marketplace): built through its services, so every row has its signed
# ledger transaction ------------------------------------------------------------------------

_siret_counter = iter(range(10**6, 10**7))


def valid_siret() -> str:
    """A fresh SIRET passing the checks of python-stdnum (SIREN and SIRET Luhn digits)."""
    from stdnum import luhn

    base = f"{next(_siret_counter):08d}"
    siren = base + luhn.calc_check_digit(base)
    nic = siren + "0001"
    return nic + luhn.calc_check_digit(nic)


def provider_make(*, owner=None, by=None, name: str = "Mobilités Douces SAS", **fields):
    """A provider registered with the network by the operator `by` (a new staff account by
    default), owned by `owner` (a new account by default)."""
    from marketplace.services import provider_register

    owner = owner or UserFactory()
    by = by or UserFactory(is_staff=True)
    fields.setdefault("siret", valid_siret())
    fields.setdefault("website", "https://mobilites.example.org")
    return provider_register(by=by, owner=owner, name=name, **fields)


def service_make(*, provider=None, **fields):
    from marketplace.services import service_create

    provider = provider or provider_make()
    fields.setdefault("name", "Vélos partagés")
    fields.setdefault("description", "Des vélos en libre-service, réservés depuis le téléphone.")
    fields.setdefault("category", "mobility")
    fields.setdefault("website", "https://velos.example.org")
    return service_create(provider=provider, by=provider.owner, **fields)


DECLARATION = {
    "personal_data": ["identifiant de compte", "trajets"],
    "data_subjects": ["usagers du service"],
    "purposes": "Réserver un vélo et facturer la location.",
    "legal_basis": "contract",
    "retention": "13 mois après la dernière location",
    "recipients": ["service client du fournisseur"],
    "transfers_outside_eu": "",
    "impact_indicators": ["11.2.1"],
}


def version_make(*, service=None, deployment_fee_cents=10_000, execution_fee_cents=25, **fields):
    """A draft version of `service` with a complete GDPR Article 30 declaration."""
    from marketplace.services import version_create

    service = service or service_make()
    declaration = {**DECLARATION, **fields}
    return version_create(
        service=service,
        by=service.provider.owner,
        deployment_fee_cents=deployment_fee_cents,
        execution_fee_cents=execution_fee_cents,
        **declaration,
    )


def audited_version_make(*, auditor=None, service=None, **fields):
    """A version that passed both audits (technical and legal) by an operator auditor."""
    from marketplace.services import audit_record, audit_request

    version = version_make(service=service, **fields)
    audit_request(version=version, by=version.service.provider.owner)
    auditor = auditor or UserFactory(is_staff=True)
    for kind in ("technical", "legal"):
        audit_record(
            version=version, auditor=auditor, kind=kind, findings="Rien à signaler.", verdict="pass"
        )
    version.refresh_from_db()
    return version

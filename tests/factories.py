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


# --- data marketplace (marketplace.data): built through its services --------------------------

DATA_CSV = b"station,date,pm10\nCOMEDIE,2026-01-01,21\nANTIGONE,2026-01-01,17\n"


def dataset_metadata(**fields):
    """DCAT-AP 3 metadata of an open air-quality dataset; override any field."""
    from marketplace.data.services import DatasetMetadata

    values = {
        "title": "Qualité de l'air : mesures horaires",
        "description": "Concentrations de PM10 mesurées par les stations de la ville.",
        "licence": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        "contact_name": "Service environnement",
        "contact_email": "environnement@ville.example.org",
        "themes": ["ENVI", "HEAL"],
        "keywords": ["air", "PM10", "pollution"],
        "frequency": "HOURLY",
        "temporal_start": "2026-01-01",
        "temporal_end": "2026-12-31",
        "spatial_uri": "https://id.insee.fr/geo/commune/34172",
    }
    values.update(fields)
    return DatasetMetadata(**values)


def dataset_make(*, city, by, publisher_kind="municipality", provider=None, files=(), **fields):
    """A dataset of `city` published by `by` (municipality staff by default), with a first
    version holding `files` (`HostedFile`/`LinkedFile`, e.g. `hosted_csv()`), if any."""
    from marketplace.data.services import dataset_create, dataset_version_add

    personal = {
        key: fields.pop(key)
        for key in ("is_personal", "subject_college", "subject_dids")
        if key in fields
    }
    dataset = dataset_create(
        by=by,
        city=city,
        metadata=dataset_metadata(**fields),
        publisher_kind=publisher_kind,
        provider=provider,
        **personal,
    )
    if files:
        dataset_version_add(by=by, dataset=dataset, files=list(files))
    return dataset


def hosted_csv(content: bytes = DATA_CSV, **fields):
    """A CSV file to host (`HostedFile`)."""
    from marketplace.data.services import HostedFile

    fields.setdefault("format", "CSV")
    fields.setdefault("media_type", "text/csv")
    return HostedFile(content=[content], **fields)


# --- impact: built through its services (tests/impact/helpers.py has the finer steps) ------


def impact_curator_make(*, city, by, membership=None):
    """An approved resident of `city` made curator by its municipality staff `by`."""
    from governance.services import membership_approve, membership_request
    from impact.services import curator_grant

    if membership is None:
        membership = membership_approve(
            membership=membership_request(
                user=UserFactory(),
                city=city,
                college=city.colleges.get(slug="residents"),
                postal_address="1 place de la Mairie",
                postal_code=city.postal_codes[0],
            ),
            by=by,
        )
    curator_grant(city=city, membership=membership, by=by)
    return membership


def impact_claim_make(*, claimant, km: str = "1000", submit: bool = True, evidence: bool = True):
    """A cycling claim of `claimant` (1000 km → 193 kg CO2e), with a trip export as evidence,
    submitted (or left a draft)."""
    from datetime import date

    from impact.models import Methodology
    from impact.services import claim_create, claim_submit, evidence_add_file, impact_load_catalogue

    impact_load_catalogue()
    claim = claim_create(
        claimant=claimant,
        by=claimant.user,
        methodology=Methodology.objects.get(code="cycling-instead-of-car", version=1),
        parameters={"distance_km": km},
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        district_code="centre",
    )
    if evidence:
        evidence_add_file(
            claim=claim,
            by=claimant.user,
            evidence_type="trip-export",
            filename="trajets.csv",
            content=f"date,km\n2026-03-15,{km}\n".encode(),
            media_type="text/csv",
        )
    return claim_submit(claim=claim, by=claimant.user) if submit else claim


def impact_batch_make(*, claimant, curator, km: str = "1000"):
    """Tokens in `claimant`'s portfolio: a claim approved by `curator` (a curator membership);
    returns the issued Batch."""
    from impact.models import Batch
    from impact.services import claim_verify

    claim = impact_claim_make(claimant=claimant, km=km)
    claim_verify(
        claim=claim, by=curator.user, decision="approve", recomputed_quantity=claim.quantity
    )
    return Batch.objects.get(claim=claim)

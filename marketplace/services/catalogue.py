"""Services of the app store and their versions (with their GDPR Article 30 declaration)."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import ledger_append

from ..errors import InvalidInput, NotAllowed
from ..models import Category, LegalBasis, Provider, Service, ServiceVersion
from ..permissions import can_manage_service, owns_provider
from ._common import clean_cents, clean_text, provider_signer, sha256_json

# An SDG indicator id ("11.6.1", "6.a.1"): the placeholder for an impact protocol until the
# impact catalogue lands.
INDICATOR = re.compile(r"^\d{1,2}\.[0-9a-z]{1,2}\.\d{1,2}$")
MAX_LIST = 30


def _clean_url(value: str, what: str) -> str:
    url = clean_text(value, what=what, max_length=200, required=False)
    if url and not url.startswith(("https://", "http://")):
        raise InvalidInput(_("%(what)s starts with https://") % {"what": what})
    return url


def _clean_list(values, *, what: str, required: bool) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(_("%(what)s is a list of texts.") % {"what": what})
    items = [v.strip() for v in values if v.strip()]
    if required and not items:
        raise InvalidInput(_("%(what)s needs at least one entry.") % {"what": what})
    if len(items) > MAX_LIST or any(len(item) > 200 for item in items):
        raise InvalidInput(
            _("%(what)s: at most %(n)s entries of 200 characters.") % {"what": what, "n": MAX_LIST}
        )
    return items


def service_content(service: Service) -> dict:
    return {
        "name": service.name,
        "description": service.description,
        "category": service.category,
        "website": service.website,
        "logo_url": service.logo_url,
    }


@transaction.atomic
def service_create(
    *,
    provider: Provider,
    by: User,
    name: str,
    description: str,
    category: str,
    website: str = "",
    logo_url: str = "",
) -> Service:
    """List a new service of `provider` (by its owner). The network chain records its id,
    category and the digest of its listing, signed by the provider's DID. It reaches the app
    store once a version of it passed both audits."""
    if not owns_provider(by, provider):
        raise NotAllowed(_("Only the provider's owner lists its services."))
    if category not in Category.values:
        raise InvalidInput(_("Choose a category of the app store."))
    service = Service(
        provider=provider,
        name=clean_text(name, what=_("The name"), max_length=200),
        description=clean_text(description, what=_("The description"), max_length=10000),
        category=category,
        website=_clean_url(website, _("The website")),
        logo_url=_clean_url(logo_url, _("The logo address")),
    )
    service.entry = ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=provider_signer(provider),
        kind="marketplace.service.create",
        payload={
            "service": service.public_id,
            "provider": provider.public_id,
            "category": category,
            "content": sha256_json(service_content(service)),
        },
    )
    service.save()
    return service


def declaration_of(version: ServiceVersion) -> dict:
    """The version's record of processing (GDPR Article 30(1)) and its claims, as committed
    to by `declaration_digest` (SHA-256 of its RFC 8785 JSON)."""
    return {
        "service": version.service.public_id,
        "label": version.label,
        "personal_data": list(version.personal_data),
        "data_subjects": list(version.data_subjects),
        "purposes": version.purposes,
        "legal_basis": version.legal_basis,
        "retention": version.retention,
        "recipients": list(version.recipients),
        "transfers_outside_eu": version.transfers_outside_eu,
        "impact_indicators": list(version.impact_indicators),
        "deployment_fee_cents": version.deployment_fee_cents,
        "execution_fee_cents": version.execution_fee_cents,
    }


@transaction.atomic
def version_create(
    *,
    service: Service,
    by: User,
    purposes: str,
    legal_basis: str,
    retention: str,
    impact_indicators: list[str],
    deployment_fee_cents: int,
    execution_fee_cents: int,
    personal_data: list[str] | None = None,
    data_subjects: list[str] | None = None,
    recipients: list[str] | None = None,
    transfers_outside_eu: str = "",
    label: str = "",
    changelog: str = "",
) -> ServiceVersion:
    """Add a version (a draft) to `service`: its GDPR Article 30 record of processing, the
    impact indicators it claims (SDG indicator ids, e.g. "11.6.1") and its pricing in cents.

    A version never changes once created: the network chain holds the digest of its
    declaration (`declaration_of`), never its text. It needs its own audits
    (`audit_request`) before any city may vote to deploy it.
    """
    service = Service.objects.select_for_update().select_related("provider").get(pk=service.pk)
    if not can_manage_service(by, service):
        raise NotAllowed(_("Only the provider's owner adds versions to its services."))
    personal = _clean_list(personal_data or [], what=_("Personal data"), required=False)
    subjects = _clean_list(data_subjects or [], what=_("Data subjects"), required=bool(personal))
    indicators = _clean_list(impact_indicators, what=_("Impact indicators"), required=True)
    if not all(INDICATOR.match(code) for code in indicators):
        raise InvalidInput(_("An impact indicator is an SDG indicator id such as 11.6.1."))
    if legal_basis not in LegalBasis.values:
        raise InvalidInput(_("Choose a legal basis of GDPR Article 6."))
    number = (service.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = ServiceVersion(
        service=service,
        number=number,
        label=clean_text(label, what=_("The version"), max_length=32, required=False)
        or str(number),
        changelog=clean_text(changelog, what=_("What changed"), max_length=5000, required=False),
        personal_data=personal,
        data_subjects=subjects,
        purposes=clean_text(purposes, what=_("The purposes"), max_length=5000),
        legal_basis=legal_basis,
        retention=clean_text(retention, what=_("The retention period"), max_length=300),
        recipients=_clean_list(recipients or [], what=_("Recipients"), required=False),
        transfers_outside_eu=clean_text(
            transfers_outside_eu,
            what=_("Transfers outside the EU"),
            max_length=2000,
            required=False,
        ),
        impact_indicators=indicators,
        deployment_fee_cents=clean_cents(deployment_fee_cents, what=_("The deployment fee")),
        execution_fee_cents=clean_cents(execution_fee_cents, what=_("The execution fee")),
    )
    version.declaration_digest = sha256_json(declaration_of(version))
    version.entry = ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=provider_signer(service.provider),
        kind="marketplace.version.create",
        payload={
            "version": version.public_id,
            "service": service.public_id,
            "number": number,
            "declaration": version.declaration_digest,
            "legal_basis": legal_basis,
            "impact_indicators": indicators,
            "deployment_fee_cents": version.deployment_fee_cents,
            "execution_fee_cents": version.execution_fee_cents,
        },
    )
    version.save()
    return version

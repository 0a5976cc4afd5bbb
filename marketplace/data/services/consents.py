"""Consents of data subjects to agreements on personal data, and their receipts.

When a consumer accepts an offer on a personal dataset, each resident whose records the
dataset holds gets a consent request (`consents_request`): who asks (the consumer, its DID
and contact), what data (the dataset), which purposes, which processing (the permitted ODRL
actions), how long (the agreement's end and the delete-after duty) and the record of
processing (GDPR Article 30) of the consumer's service. The resident gives or refuses it,
and may revoke a consent given; their records flow only while their consent is given.

Each state is a consent receipt with the fields of the Kantara Consent Receipt v1.1 and of
ISO/IEC 27560 (consent record), kept in `Consent.receipt`; the ledger holds only its SHA-256
(`receipt_digest`, of its RFC 8785 JSON), signed by the resident's DID (the request by the
platform's validator). No name, e-mail or purpose text reaches the ledger.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.actions import platform_signer
from governance.models import Membership, MembershipStatus
from identity.models import Identity, User
from ledger.services import actor_register, ledger_append, ledger_append_many
from ledger.signing import platform_validator
from marketplace.models import Deployment, ServiceVersion
from marketplace.services._common import sha256_json
from marketplace.services.catalogue import declaration_of
from smartb.outbox import outbox_enqueue

from ..errors import DataError, WrongState
from ..models import (
    Agreement,
    AgreementStatus,
    Consent,
    ConsentStatus,
    DataSubject,
    Delivery,
    DistributionSubject,
)

KIND_CONSENT_REQUEST = "marketplace.data.consent.request"
KIND_CONSENT_GIVE = "marketplace.data.consent.give"
KIND_CONSENT_REFUSE = "marketplace.data.consent.refuse"
KIND_CONSENT_REVOKE = "marketplace.data.consent.revoke"

RECEIPT_VERSION = "KI-CR-v1.1.0"
ISO_27560 = "ISO/IEC 27560:2023"


class NotYourConsent(DataError):
    code = "not_your_consent"
    status = 404
    default_message = gettext_lazy("No such consent request.")


# --- who is asked ------------------------------------------------------------------------------


def subject_identities(dataset) -> list[Identity]:
    """The residents a personal dataset concerns: those it names, the approved members of its
    college, and those whose DID its hosted records carry."""
    ids = set(DataSubject.objects.filter(dataset=dataset).values_list("identity_id", flat=True))
    if dataset.subject_college_id is not None:
        ids |= set(
            Membership.objects.filter(
                college_id=dataset.subject_college_id, status=MembershipStatus.APPROVED
            ).values_list("identity_id", flat=True)
        )
    dids = DistributionSubject.objects.filter(distribution__version__dataset=dataset).values("did")
    ids |= set(Identity.objects.filter(did__in=dids).values_list("pk", flat=True))
    return list(Identity.objects.filter(pk__in=ids, revoked_at__isnull=True).order_by("pk"))


# --- the receipt -------------------------------------------------------------------------------


def controller_of(agreement: Agreement) -> dict:
    """The consumer as the controller of the processing (Kantara `piiControllers`)."""
    consumer = agreement.consumer
    provider = agreement.consumer_provider
    name = provider.name if provider else (consumer.get_full_name() or consumer.username)
    return {
        "piiController": name,
        "did": agreement.consumer_identity.did,
        "onBehalf": False,
        "contact": name,
        "email": consumer.email,
        "piiControllerUrl": provider.website if provider else "",
    }


def processing_record(agreement: Agreement, processing: ServiceVersion | None) -> list[dict]:
    """The record of processing of the consumer's service: the version it named, else its
    provider's services deployed in the dataset's city."""
    versions = []
    if processing is not None:
        versions = [processing]
    elif agreement.consumer_provider_id is not None:
        versions = [
            d.version
            for d in Deployment.objects.select_related("version__service").filter(
                city=agreement.dataset.city,
                service__provider_id=agreement.consumer_provider_id,
                active=True,
            )
        ]
    return [
        {
            "service_version": v.public_id,
            "name": v.service.name,
            **declaration_of(v),
            "declaration_digest": v.declaration_digest,
        }
        for v in versions
    ]


def request_receipt(
    *, consent: Consent, agreement: Agreement, processing: list[dict], now: datetime
) -> dict:
    """The consent request as a receipt in state `requested` (Kantara CR v1.1 + ISO/IEC
    27560 fields)."""
    from .contracts import agreement_uid, offer_limits

    limits = offer_limits(agreement.offer)
    dataset = agreement.dataset
    purposes = list(agreement.purposes) or limits.purposes or ["unspecified"]
    site = settings.SMARTB_SITE_URL.rstrip("/")
    return {
        "version": RECEIPT_VERSION,
        "schema": ISO_27560,
        "consentReceiptID": consent.public_id,
        "jurisdiction": "FR",
        "language": "fr",
        "collectionMethod": "SMART B personal-data wallet",
        "piiPrincipalId": consent.subject.did,
        "piiControllers": [controller_of(agreement)],
        "policyUrl": f"{site}/api/v1/marketplace/agreements/{agreement.public_id}/policy",
        "agreement": {
            "uid": agreement_uid(agreement.public_id),
            "policyDigest": agreement.policy_digest,
        },
        "services": [
            {
                "service": dataset.title,
                "purposes": [
                    {
                        "purpose": purpose,
                        "purposeCategory": [purpose],
                        "consentType": "EXPLICIT",
                        "piiCategory": [f"dataset:{dataset.public_id}"],
                        "primaryPurpose": position == 0,
                        "termination": (
                            agreement.ends_at.isoformat() if agreement.ends_at else "revocation"
                        ),
                        "thirdPartyDisclosure": "distribute" in limits.actions,
                        "thirdPartyName": "",
                    }
                    for position, purpose in enumerate(purposes)
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "data": {"dataset": dataset.public_id, "title": dataset.title, "city": dataset.city.slug},
        "processing": limits.actions,
        "prohibited": limits.prohibited,
        "duration": {
            "starts": agreement.starts_at.isoformat(),
            "ends": agreement.ends_at.isoformat() if agreement.ends_at else None,
            "deleteAfterDays": limits.delete_after_days,
        },
        "processingRecord": processing,
        "event": {"type": "requested", "time": now.isoformat()},
        "consentTimestamp": int(now.timestamp()),
    }


def with_event(receipt: dict, event_type: str, now: datetime) -> dict:
    """The receipt in a new state (`given`, `refused`, `withdrawn`) at `now`."""
    history = [*receipt.get("history", []), receipt["event"]]
    return {
        **receipt,
        "event": {"type": event_type, "time": now.isoformat()},
        "consentTimestamp": int(now.timestamp()),
        "history": history,
    }


# --- services ----------------------------------------------------------------------------------


def consents_request(
    *, agreement: Agreement, processing: ServiceVersion | None = None
) -> list[Consent]:
    """Ask each data subject of `agreement`'s personal dataset for consent (inside the
    caller's transaction). The validator records each request's receipt digest; the
    residents are notified after commit."""
    now = timezone.now()
    record = processing_record(agreement, processing)
    consents = []
    for identity in subject_identities(agreement.dataset):
        consent = Consent(agreement=agreement, subject=identity)
        consent.receipt = request_receipt(
            consent=consent, agreement=agreement, processing=record, now=now
        )
        consent.receipt_digest = sha256_json(consent.receipt)
        consents.append(consent)
    if not consents:
        return []
    validator = platform_validator()
    actor_register(did=validator.did)
    entries = ledger_append_many(
        chain=agreement.dataset.city.chain,
        entries=[
            (
                validator,
                KIND_CONSENT_REQUEST,
                {
                    "consent": c.public_id,
                    "agreement": agreement.public_id,
                    "subject": c.subject.did,
                    "receipt_digest": c.receipt_digest,
                },
            )
            for c in consents
        ],
    )
    for consent, entry in zip(consents, entries, strict=True):
        consent.request_entry = entry
    Consent.objects.bulk_create(consents)
    from ..tasks import notify_consent_requests

    outbox_enqueue(notify_consent_requests, agreement.pk)
    return consents


def _locked(consent: Consent) -> tuple[Agreement, Consent]:
    # The agreement first, as the data access does: the same lock order everywhere.
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("dataset__city__chain")
        .get(pk=consent.agreement_id)
    )
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("subject").get(pk=consent.pk)
    )
    return agreement, consent


def _check_subject(consent: Consent, user: User) -> None:
    if consent.subject.user_id != user.pk:
        raise NotYourConsent()


@transaction.atomic
def consent_decide(
    *, consent: Consent, user: User, give: bool, now: datetime | None = None
) -> Consent:
    """The resident gives or refuses a requested consent: the receipt in state `given` or
    `refused`, its digest signed by their DID. A first consent given starts an agreement
    waiting for consents."""
    now = now or timezone.now()
    agreement, consent = _locked(consent)
    _check_subject(consent, user)
    if consent.status != ConsentStatus.REQUESTED:
        raise WrongState(_("You already answered this request."))
    if agreement.status == AgreementStatus.REVOKED:
        raise WrongState(_("This agreement was ended: there is nothing to consent to."))
    signer = platform_signer(consent.subject)
    consent.status = ConsentStatus.GIVEN if give else ConsentStatus.REFUSED
    consent.receipt = with_event(consent.receipt, "given" if give else "refused", now)
    consent.receipt_digest = sha256_json(consent.receipt)
    consent.decided_at = now
    consent.decision_entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=signer,
        kind=KIND_CONSENT_GIVE if give else KIND_CONSENT_REFUSE,
        payload={
            "consent": consent.public_id,
            "agreement": agreement.public_id,
            "subject": consent.subject.did,
            "receipt_digest": consent.receipt_digest,
        },
    )
    consent.save(
        update_fields=["status", "receipt", "receipt_digest", "decided_at", "decision_entry"]
    )
    if give and agreement.status == AgreementStatus.PENDING_CONSENT:
        agreement.status = AgreementStatus.ACTIVE
        agreement.save(update_fields=["status"])
    return consent


@transaction.atomic
def consent_revoke(*, consent: Consent, user: User, now: datetime | None = None) -> Consent:
    """The resident withdraws a consent given: from the very next data request their records
    are left out (nothing is cached: each request reads the consents under the agreement's
    lock). The consumer, if it received data since the consent was given, is asked to purge
    its copy. The withdrawn receipt's digest is signed by the resident's DID."""
    from .wallet import purges_request

    now = now or timezone.now()
    agreement, consent = _locked(consent)
    _check_subject(consent, user)
    if consent.status == ConsentStatus.REVOKED:
        return consent
    if consent.status != ConsentStatus.GIVEN:
        raise WrongState(_("Only a consent you gave can be withdrawn."))
    signer = platform_signer(consent.subject)
    consent.status = ConsentStatus.REVOKED
    consent.revoked_at = now
    consent.receipt = with_event(consent.receipt, "withdrawn", now)
    consent.receipt_digest = sha256_json(consent.receipt)
    consent.revocation_entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=signer,
        kind=KIND_CONSENT_REVOKE,
        payload={
            "consent": consent.public_id,
            "agreement": agreement.public_id,
            "subject": consent.subject.did,
            "receipt_digest": consent.receipt_digest,
        },
    )
    consent.save(
        update_fields=["status", "revoked_at", "receipt", "receipt_digest", "revocation_entry"]
    )
    received = Delivery.objects.filter(
        agreement=agreement, records_sent__gt=0, created_at__gte=consent.decided_at
    ).exists()
    if received:
        purges_request(agreement=agreement, consent=consent)
    return consent


def consented_dids(agreement: Agreement) -> set[str]:
    """The DIDs whose records may flow under `agreement` now (read fresh, never cached)."""
    return set(
        Consent.objects.filter(agreement=agreement, status=ConsentStatus.GIVEN).values_list(
            "subject__did", flat=True
        )
    )


def consent_get_for_subject(*, public_id: str, user: User) -> Consent:
    consent = (
        Consent.objects.select_related("agreement__dataset__city", "subject")
        .filter(public_id=public_id, subject__user=user)
        .first()
    )
    if consent is None:
        raise NotYourConsent()
    return consent

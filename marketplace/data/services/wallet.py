"""The personal-data wallet: what touches my data, purge requests, GDPR access and erasure.

Purges. When a resident withdraws a consent (or a party ends an agreement) and the consumer
already received data, the consumer is asked to delete its copy: a `PurgeRequest`, recorded on
the city's chain by the platform's validator and sent by a Celery task that retries until the
consumer acknowledges it (`purge_acknowledge`, signed by the consumer's DID: custodial, or
prepare → sign → submit for a self-custody client). The wallet shows each purge's status.

GDPR. `gdpr_export` gathers everything the platform holds about an account (Article 15);
`account_erase` (Article 17) withdraws the account's consents, removes its records from every
hosted dataset (re-encrypted under a fresh data key, the old key and ciphertext destroyed:
crypto-shredding), destroys its custodial keys, blanks its profile and deactivates its DIDs.
The ledger is left untouched and still verifies: it never held more than DIDs, ids and
digests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.actions import platform_signer
from identity.models import User
from identity.signed_actions import SignedAction
from ledger.models import NETWORK_CHAIN_SLUG, Transaction
from ledger.services import actor_register, ledger_append
from ledger.signing import platform_validator
from marketplace.services._common import provider_signer
from smartb.outbox import outbox_enqueue

from ..crypto import (
    CHUNK_BYTES,
    ChunkWriter,
    TamperedData,
    data_kek,
    data_key_generate,
    kek_id,
    key_wrap,
)
from ..errors import DataError, NotAllowed
from ..models import (
    Agreement,
    AgreementStatus,
    Consent,
    ConsentStatus,
    DatasetVersion,
    DataSubject,
    Delivery,
    Distribution,
    DistributionKind,
    DistributionSubject,
    Invoice,
    PurgeRequest,
    PurgeStatus,
)
from ..storage import absolute, distribution_open, new_storage_path

KIND_PURGE_REQUEST = "marketplace.data.purge.request"
KIND_PURGE_ACK = "marketplace.data.purge.acknowledge"


class PurgeNotFound(DataError):
    code = "not_found"
    status = 404
    default_message = gettext_lazy("No such purge request.")


# --- purges ------------------------------------------------------------------------------------


def purges_request(*, agreement: Agreement, consent: Consent | None) -> PurgeRequest | None:
    """Ask the consumer of `agreement` to delete what it received: the records of
    `consent`'s subject, or (`consent=None`) all of the agreement's data. Only if data was
    delivered; a request already waiting for the same thing is reused. Inside the caller's
    transaction; the task sends it after commit."""
    if not Delivery.objects.filter(agreement=agreement).exists():
        return None
    waiting = PurgeRequest.objects.filter(
        agreement=agreement, consent=consent, status__in=[PurgeStatus.PENDING, PurgeStatus.SENT]
    ).first()
    if waiting is not None:
        return waiting
    validator = platform_validator()
    actor_register(did=validator.did)
    purge = PurgeRequest(agreement=agreement, consent=consent, consumer_id=agreement.consumer_id)
    purge.entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=validator,
        kind=KIND_PURGE_REQUEST,
        payload=purge_payload(purge),
    )
    purge.save()
    from ..tasks import send_purge_request

    outbox_enqueue(send_purge_request, purge.pk)
    return purge


def purge_payload(purge: PurgeRequest) -> dict:
    agreement = purge.agreement
    return {
        "purge": purge.public_id,
        "agreement": agreement.public_id,
        "consumer": agreement.consumer_identity.did,
        "consent": purge.consent.public_id if purge.consent else None,
        "subject": purge.consent.subject.did if purge.consent else None,
    }


@transaction.atomic
def purge_attempt(*, purge: PurgeRequest, now: datetime | None = None) -> PurgeRequest:
    """Count one more sending of a purge request not yet acknowledged (the task then
    notifies the consumer). An acknowledged one is left as it is."""
    purge = PurgeRequest.objects.select_for_update().get(pk=purge.pk)
    if purge.status == PurgeStatus.ACKNOWLEDGED:
        return purge
    purge.attempts += 1
    purge.last_attempt_at = now or timezone.now()
    purge.status = PurgeStatus.SENT
    purge.save(update_fields=["attempts", "last_attempt_at", "status"])
    return purge


def ack_payload(purge: PurgeRequest) -> dict:
    """What the consumer signs to acknowledge: the request and the entry that recorded it."""
    return {
        "purge": purge.public_id,
        "agreement": purge.agreement.public_id,
        "request_tx": purge.entry.tx_hash,
    }


def _consumer_did(agreement: Agreement) -> str:
    return agreement.consumer_identity.did


@transaction.atomic
def purge_acknowledge(
    *,
    purge: PurgeRequest,
    user: User,
    append: Callable[[], Transaction] | None = None,
    now: datetime | None = None,
) -> PurgeRequest:
    """The consumer declares it deleted the data a purge request names, signed by its DID
    (the one that signed the agreement). `append` writes the transaction a self-custody
    client signed (`ack_payload`). Acknowledging twice changes nothing."""
    purge = (
        PurgeRequest.objects.select_for_update(of=("self",))
        .select_related(
            "agreement__dataset__city__chain",
            "agreement__consumer_identity",
            "agreement__consumer_provider",
            "entry",
        )
        .get(pk=purge.pk)
    )
    agreement = purge.agreement
    if agreement.consumer_id != user.pk:
        raise PurgeNotFound()
    if purge.status == PurgeStatus.ACKNOWLEDGED:
        return purge
    payload = ack_payload(purge)
    chain = agreement.dataset.city.chain
    if append is not None:
        entry = append()
        if (
            entry.actor != _consumer_did(agreement)
            or entry.kind != KIND_PURGE_ACK
            or entry.payload != payload
            or entry.chain_id != chain.pk
        ):
            raise NotAllowed(_("The signed transaction is not this acknowledgement."))
    else:
        signer = (
            provider_signer(agreement.consumer_provider)
            if agreement.consumer_provider_id
            else platform_signer(agreement.consumer_identity)
        )
        entry = ledger_append(chain=chain, actor=signer, kind=KIND_PURGE_ACK, payload=payload)
    purge.status = PurgeStatus.ACKNOWLEDGED
    purge.acknowledged_at = now or timezone.now()
    purge.ack_signature = entry.signature
    purge.ack_entry = entry
    purge.save(update_fields=["status", "acknowledged_at", "ack_signature", "ack_entry"])
    return purge


def purge_get_for_consumer(*, public_id: str, user: User) -> PurgeRequest:
    purge = (
        PurgeRequest.objects.select_related("agreement", "consent", "entry")
        .filter(public_id=public_id, consumer=user)
        .first()
    )
    if purge is None:
        raise PurgeNotFound()
    return purge


def purges_of_consumer(user: User) -> QuerySet[PurgeRequest]:
    return (
        PurgeRequest.objects.select_related("agreement", "consent__subject", "entry")
        .filter(consumer=user)
        .order_by("-created_at", "-pk")
    )


class AcknowledgePurge(SignedAction):
    """`data`: the `purge` (already checked to be the caller's)."""

    kind = KIND_PURGE_ACK

    def chain_for(self, *, user: User, data: dict):
        return data["purge"].agreement.dataset.city.chain

    def actor_did(self, *, user: User, data: dict) -> str:
        return _consumer_did(data["purge"].agreement)

    def payload(self, *, user: User, data: dict) -> dict:
        return ack_payload(data["purge"])

    def custodial_signer(self, *, user: User, data: dict):
        agreement = data["purge"].agreement
        if agreement.consumer_provider_id:
            return provider_signer(agreement.consumer_provider)
        return platform_signer(agreement.consumer_identity)

    def perform(self, *, user: User, data: dict, append) -> PurgeRequest:
        return purge_acknowledge(purge=data["purge"], user=user, append=append)


# --- the wallet --------------------------------------------------------------------------------

# What an ODRL action means, in the words the wallet shows a resident.
ACTION_LABELS = {
    "use": gettext_lazy("use the data"),
    "read": gettext_lazy("read the data"),
    "aggregate": gettext_lazy("aggregate it with other records"),
    "derive": gettext_lazy("derive new data from it"),
    "smartb:trainModel": gettext_lazy("train a model with it"),
    "distribute": gettext_lazy("pass it on to others"),
    "sell": gettext_lazy("sell it"),
    "transfer": gettext_lazy("transfer it"),
    "reproduce": gettext_lazy("copy it"),
    "anonymize": gettext_lazy("anonymise it"),
    "display": gettext_lazy("display it"),
    "index": gettext_lazy("index it"),
}


def action_labels(actions: list[str]) -> list[str]:
    return [str(ACTION_LABELS.get(action, action)) for action in actions]


@dataclass
class WalletRow:
    """One agreement that touches my data, as the wallet shows it."""

    consent: Consent
    agreement: Agreement
    delivered_bytes: int
    delivered_records: int
    last_access_at: datetime | None
    purge: PurgeRequest | None

    @property
    def processing(self) -> list[str]:
        return action_labels(self.consent.receipt.get("processing", []))

    @property
    def prohibited(self) -> list[str]:
        return action_labels(self.consent.receipt.get("prohibited", []))

    @property
    def can_revoke(self) -> bool:
        return self.consent.status == ConsentStatus.GIVEN

    @property
    def can_answer(self) -> bool:
        return self.consent.status == ConsentStatus.REQUESTED and self.agreement.status in (
            "pending_consent",
            "active",
        )


def wallet_rows(*, user: User) -> list[WalletRow]:
    """Every agreement touching my data (through a consent request to one of my DIDs), with
    its status, last access, the volume delivered and the purge of my records, if any.
    A fixed number of queries, whatever the number of rows."""
    consents = list(
        Consent.objects.select_related(
            "subject",
            "agreement__dataset__city",
            "agreement__consumer",
            "agreement__consumer_provider",
            "agreement__consumer_identity",
        )
        .filter(subject__user=user)
        .order_by("-requested_at", "-pk")
    )
    purges: dict[tuple[int, int | None], PurgeRequest] = {}
    agreement_ids = [c.agreement_id for c in consents]
    for purge in PurgeRequest.objects.filter(
        Q(consent__in=consents) | Q(agreement_id__in=agreement_ids, consent__isnull=True)
    ).order_by("created_at", "pk"):
        purges[(purge.agreement_id, purge.consent_id)] = purge
    last = dict(
        Delivery.objects.filter(agreement_id__in=agreement_ids)
        .values("agreement_id")
        .annotate(last=Max("created_at"))
        .values_list("agreement_id", "last")
    )
    return [
        WalletRow(
            consent=c,
            agreement=c.agreement,
            delivered_bytes=c.agreement.bytes_used,
            delivered_records=c.agreement.records_used,
            last_access_at=c.agreement.last_access_at or last.get(c.agreement_id),
            purge=purges.get((c.agreement_id, c.pk)) or purges.get((c.agreement_id, None)),
        )
        for c in consents
    ]


# --- GDPR: access (Article 15) -----------------------------------------------------------------


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _my_records(dids: list[str]) -> list[dict]:
    """The records about `dids` in every hosted dataset, decrypted (for the owner only)."""
    from .access import plaintext, selection

    rows = []
    subjects = (
        DistributionSubject.objects.select_related("distribution__version__dataset")
        .filter(did__in=dids)
        .order_by("distribution_id")
    )
    seen = set()
    for subject in subjects:
        distribution = subject.distribution
        if distribution.pk in seen or distribution.kind != DistributionKind.HOSTED:
            continue
        seen.add(distribution.pk)
        try:
            content = b"".join(
                piece
                for piece, _records in selection(
                    plaintext(distribution),
                    media_type=distribution.media_type,
                    field=distribution.subject_field,
                    allowed=frozenset(dids),
                )
            )
        except TamperedData:
            content = None
        dataset = distribution.version.dataset
        rows.append(
            {
                "dataset": dataset.public_id,
                "title": dataset.title,
                "version": distribution.version.label,
                "distribution": distribution.public_id,
                "media_type": distribution.media_type,
                "content": content.decode() if content is not None else None,
                "unreadable": content is None,
            }
        )
    return rows


def gdpr_export(*, user: User) -> dict:
    """Everything the platform holds about `user` (GDPR Article 15), as one JSON document:
    account, e-mail addresses, DIDs, memberships, ballots, comments, credentials,
    attestations, notifications, consents with their receipts, the agreements touching them
    and the ones they hold, their invoices, their records in datasets, and the ledger
    transactions their DIDs signed (references)."""
    from allauth.account.models import EmailAddress

    from governance.models import Ballot, Comment, Membership
    from identity.models import Attestation, Credential, Notification

    identities = list(user.identities.order_by("created_at"))
    dids = [i.did for i in identities]
    memberships = list(
        Membership.objects.select_related("city", "college").filter(user=user).order_by("pk")
    )
    consents = list(
        Consent.objects.select_related("agreement__dataset", "subject")
        .filter(subject__user=user)
        .order_by("pk")
    )
    held = list(
        Agreement.objects.select_related("dataset", "offer").filter(consumer=user).order_by("pk")
    )
    return {
        "format": "smartb-gdpr-export/1",
        "generated_at": timezone.now().isoformat(),
        "account": {
            "public_id": user.public_id,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "notification_mode": user.notification_mode,
            "is_active": user.is_active,
        },
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "dids": [
            {
                "did": i.did,
                "custody": i.custody,
                "label": i.label,
                "primary": i.is_primary,
                "created_at": _iso(i.created_at),
                "revoked_at": _iso(i.revoked_at),
            }
            for i in identities
        ],
        "memberships": [
            {
                "public_id": m.public_id,
                "city": m.city.slug,
                "college": m.college.slug,
                "status": m.status,
                "did": m.identity.did if m.identity_id else None,
                "postal_address": m.postal_address,
                "postal_code": m.postal_code,
                "siret": m.siret,
                "requested_at": _iso(m.requested_at),
                "decided_at": _iso(m.decided_at),
                "reason": m.reason,
            }
            for m in memberships
        ],
        "ballots": [
            {
                "proposal": b.proposal.public_id,
                "city": b.proposal.city.slug,
                "choice": b.choice,
                "selection": b.selection,
                "cast_at": _iso(b.cast_at),
                "tx_hash": b.entry.tx_hash,
            }
            for b in Ballot.objects.select_related("proposal__city", "entry")
            .filter(membership__user=user)
            .order_by("pk")
        ],
        "comments": [
            {"proposal": c.proposal.public_id, "body": c.body, "created_at": _iso(c.created_at)}
            for c in Comment.objects.select_related("proposal")
            .filter(membership__user=user)
            .order_by("pk")
        ],
        "credentials": [
            {"public_id": c.public_id, "kind": c.kind, "document": c.document}
            for c in Credential.objects.filter(subject_did__in=dids).order_by("pk")
        ],
        "attestations": [
            {"digest": a.digest, "did": a.identity.did, "created_at": _iso(a.created_at)}
            for a in Attestation.objects.select_related("identity")
            .filter(identity__user=user)
            .order_by("pk")
        ],
        "notifications": [
            {"subject": n.subject, "body": n.body, "created_at": _iso(n.created_at)}
            for n in Notification.objects.filter(user=user).order_by("pk")
        ],
        "consents": [
            {
                "public_id": c.public_id,
                "agreement": c.agreement.public_id,
                "dataset": c.agreement.dataset.public_id,
                "did": c.subject.did,
                "status": c.status,
                "receipt": c.receipt,
                "receipt_digest": c.receipt_digest,
            }
            for c in consents
        ],
        "agreements_touching_me": [
            {
                "agreement": c.agreement.public_id,
                "dataset": c.agreement.dataset.public_id,
                "consumer": c.agreement.consumer_identity.did,
                "status": c.agreement.status,
                "policy": c.agreement.policy,
                "requests_used": c.agreement.requests_used,
                "records_used": c.agreement.records_used,
                "bytes_used": c.agreement.bytes_used,
                "last_access_at": _iso(c.agreement.last_access_at),
            }
            for c in consents
        ],
        "agreements_held": [
            {
                "agreement": a.public_id,
                "dataset": a.dataset.public_id,
                "status": a.status,
                "policy": a.policy,
                "quote": a.quote.public_id if a.quote_id else None,
            }
            for a in held
        ],
        "invoices": [
            {
                "public_id": i.public_id,
                "agreement": i.agreement.public_id,
                "total_cents": i.total_cents,
                "status": i.status,
            }
            for i in Invoice.objects.select_related("agreement").filter(consumer=user)
        ],
        "records_in_datasets": _my_records(dids),
        "ledger_transactions": [
            {"chain": t.chain.slug, "index": t.index, "kind": t.kind, "tx_hash": t.tx_hash}
            for t in Transaction.objects.select_related("chain")
            .filter(actor__in=dids)
            .order_by("chain__slug", "index")[:10_000]
        ],
    }


# --- GDPR: erasure (Article 17) ----------------------------------------------------------------

KIND_SUBJECT_ERASE = "marketplace.data.subject.erase"
KIND_ACCOUNT_ERASE = "marketplace.data.account.erase"


def _rewrite_version(version: DatasetVersion, erased: frozenset[str]) -> list[dict]:
    """Re-encrypt every hosted file of `version` under a fresh data key, without the records
    of `erased`; the old key is overwritten in the database and the old files deleted after
    commit, so a backup of them no longer opens (crypto-shredding)."""
    from .access import selection

    kek = data_kek()
    new_key = data_key_generate()
    changes, old_paths, new_paths = [], [], []
    distributions = list(
        Distribution.objects.select_for_update()
        .filter(version=version, kind=DistributionKind.HOSTED)
        .order_by("pk")
    )
    try:
        for distribution in distributions:
            keep = None
            if distribution.subject_field:
                dids = set(
                    DistributionSubject.objects.filter(distribution=distribution).values_list(
                        "did", flat=True
                    )
                )
                keep = frozenset(dids - erased)
            storage_path = new_storage_path(version)
            path = absolute(storage_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            new_paths.append(path)
            records = 0
            with path.open("wb") as out:
                writer = ChunkWriter(out, data_key=new_key, context=storage_path)
                for piece, count in selection(
                    distribution_open(distribution),
                    media_type=distribution.media_type,
                    field=distribution.subject_field,
                    allowed=keep,
                    count_records=False,
                ):
                    writer.write(piece)
                    records += count
                writer.close()
            old_paths.append(absolute(distribution.storage_path))
            previous = distribution.sha256
            distribution.storage_path = storage_path
            distribution.sha256 = writer.sha256.hexdigest()
            distribution.byte_size = writer.plaintext_bytes
            distribution.chunk_size = CHUNK_BYTES
            distribution.chunk_count = writer.index
            distribution.stored_bytes = writer.stored_bytes
            if keep is not None:
                distribution.record_count = records
            distribution.save(
                update_fields=[
                    "storage_path",
                    "sha256",
                    "byte_size",
                    "chunk_size",
                    "chunk_count",
                    "stored_bytes",
                    "record_count",
                ]
            )
            changes.append(
                {
                    "distribution": distribution.public_id,
                    "previous_sha256": previous,
                    "sha256": distribution.sha256,
                }
            )
    except BaseException:
        for path in new_paths:
            path.unlink(missing_ok=True)
        raise
    version.wrapped_key = key_wrap(new_key, kek=kek, context=version.public_id)
    version.kek_id = kek_id(kek)
    version.save(update_fields=["wrapped_key", "kek_id"])
    transaction.on_commit(lambda: [p.unlink(missing_ok=True) for p in old_paths])
    return changes


def records_erase(*, dids: list[str]) -> list[dict]:
    """Remove the records of `dids` from every hosted dataset (inside the caller's
    transaction): each version holding some is re-encrypted without them under a new key;
    the validator records each file's old and new SHA-256 (no DID) on the city's chain."""
    erased = frozenset(dids)
    versions = list(
        DatasetVersion.objects.select_related("dataset__city__chain")
        .filter(distributions__subjects__did__in=dids)
        .distinct()
        .order_by("pk")
    )
    validator = platform_validator()
    actor_register(did=validator.did)
    done = []
    for version in versions:
        changes = _rewrite_version(version, erased)
        DistributionSubject.objects.filter(distribution__version=version, did__in=dids).delete()
        ledger_append(
            chain=version.dataset.city.chain,
            actor=validator,
            kind=KIND_SUBJECT_ERASE,
            payload={
                "dataset": version.dataset.public_id,
                "version": version.public_id,
                "files": changes,
            },
        )
        done.extend(changes)
    DataSubject.objects.filter(identity__did__in=dids).delete()
    return done


class CannotErase(DataError):
    code = "cannot_erase"
    status = 409
    default_message = gettext_lazy("This account cannot be erased this way.")


@transaction.atomic
def account_erase(*, user: User) -> User:
    """Erase `user` (GDPR Article 17). Their consents are refused or withdrawn (consumers
    holding copies get purge requests), their records leave every hosted dataset (re-encrypted
    under new keys, the old destroyed), their memberships are revoked and their addresses,
    comments, e-mail addresses, notifications, API tokens and profile blanked, their
    custodial keys destroyed and their DIDs deactivated. The ledger is not touched: it only
    ever held DIDs, ids and digests, so it still verifies. An operator account, or the owner
    of a provider, is refused (hand the organisation over first)."""
    from allauth.account.models import EmailAddress
    from rest_framework.authtoken.models import Token

    from governance.models import Comment, Membership, MembershipStatus
    from identity.models import Custody, Identity, Notification
    from identity.services import credential_revoke
    from ledger.services import actor_deactivate
    from marketplace.models import Provider

    from .consents import consent_decide, consent_revoke

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_staff or user.is_superuser:
        raise CannotErase(_("An operator account is erased by another operator."))
    if Provider.objects.filter(owner=user).exists():
        raise CannotErase(_("You own a provider: hand it over to someone else first."))
    if not user.is_active and user.username.startswith("erased-"):
        return user
    identities = list(Identity.objects.filter(user=user).order_by("pk"))
    dids = [i.did for i in identities]
    now = timezone.now()
    for consent in Consent.objects.select_related("agreement").filter(subject__user=user):
        if consent.status == ConsentStatus.GIVEN:
            consent_revoke(consent=consent, user=user, now=now)
        elif (
            consent.status == ConsentStatus.REQUESTED
            and consent.agreement.status != AgreementStatus.REVOKED
        ):
            consent_decide(consent=consent, user=user, give=False, now=now)
    files = records_erase(dids=dids)
    memberships = list(Membership.objects.select_related("city", "credential").filter(user=user))
    for membership in memberships:
        if membership.credential_id and membership.credential.revoked_at is None:
            credential_revoke(
                credential=membership.credential,
                by=membership.city.identity,
                reason="account-erased",
                chain=membership.city.chain.slug,
            )
        if membership.status in (MembershipStatus.PENDING, MembershipStatus.APPROVED):
            membership.status = MembershipStatus.REVOKED
            membership.decided_at = now
            membership.reason = "account-erased"
        membership.postal_address = ""
        membership.postal_code = ""
        membership.save(
            update_fields=["status", "decided_at", "reason", "postal_address", "postal_code"]
        )
    Comment.objects.filter(membership__user=user).update(body="")
    validator = platform_validator()
    actor_register(did=validator.did)
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=validator,
        kind=KIND_ACCOUNT_ERASE,
        payload={
            "account": user.public_id,
            "dids": dids,
            "memberships": [m.public_id for m in memberships],
            "files": len(files),
        },
    )
    for identity in identities:
        actor_deactivate(did=identity.did)
    # The custodial keys are destroyed: the platform no longer holds any private half.
    Identity.objects.filter(user=user).update(
        custody=Custody.SELF, sealed_private_key=None, is_primary=False, revoked_at=now
    )
    EmailAddress.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    Token.objects.filter(user=user).delete()
    user.username = f"erased-{user.public_id}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    return user

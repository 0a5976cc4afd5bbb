"""The only writers of identity state. Each writes its signed ledger transaction in the same
database transaction as the state it records."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.didkey import did_from_public_key, public_key_from_did
from ledger.errors import UnknownActor
from ledger.models import NETWORK_CHAIN_SLUG, Transaction
from ledger.services import actor_deactivate, actor_register, ledger_append

from . import crypto, vc
from .errors import (
    AlreadyAttested,
    AlreadyRegistered,
    CredentialRevoked,
    NoCustodialKey,
    NotYourIdentity,
)
from .models import Attestation, Credential, Custody, Identity, User

KIND_DID_REGISTER = "identity.did.register"
KIND_DID_REVOKE = "identity.did.revoke"
KIND_CREDENTIAL_ISSUE = "identity.credential.issue"
KIND_CREDENTIAL_REVOKE = "identity.credential.revoke"
KIND_DOCUMENT_ATTEST = "identity.document.attest"


def did_register_payload(*, user: User, did: str, custody: str) -> dict:
    return {"did": did, "account": user.public_id, "custody": custody}


@transaction.atomic
def identity_create_custodial(
    *,
    user: User,
    label: str = "",
    primary: bool | None = None,
    private_key: crypto.Ed25519PrivateKey | None = None,
):
    """Give `user` a new custodial DID; the new key signs its own registration (proof of
    possession) on the network chain.

    `private_key` installs a key handed over from elsewhere (a city's successor key, see
    `smartb.portability.handover`) instead of generating one; the platform seals it as any
    custodial key.
    """
    key = private_key or crypto.generate_private_key()
    did = did_from_public_key(crypto.public_key_raw(key))
    if primary is None:
        primary = not user.identities.filter(is_primary=True).exists()
    identity = Identity.objects.create(
        user=user,
        did=did,
        custody=Custody.CUSTODIAL,
        label=label,
        is_primary=primary,
        sealed_private_key=crypto.seal_private_key(
            crypto.private_key_raw(key),
            kek=crypto.kek_from_setting(settings.SMARTB_KEY_ENCRYPTION_KEY),
            context=did.encode(),
        ),
    )
    actor_register(did=did)
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=identity,
        kind=KIND_DID_REGISTER,
        payload=did_register_payload(user=user, did=did, custody=Custody.CUSTODIAL),
    )
    return identity


def identity_owned(*, user: User, did: str) -> Identity:
    identity = Identity.objects.filter(did=did, user=user, revoked_at__isnull=True).first()
    if identity is None:
        raise NotYourIdentity()
    return identity


def custodial_validator_signers(dids: list[str]) -> dict[str, Identity]:
    """The custodial identities (live, key held here) among `dids`: the `Signer`s the ledger
    uses to co-sign blocks for validators whose keys the platform holds."""
    rows = Identity.objects.filter(did__in=dids, custody=Custody.CUSTODIAL, revoked_at__isnull=True)
    return {identity.did: identity for identity in rows}


def signer_for(identity: Identity) -> Identity:
    if identity.custody != Custody.CUSTODIAL:
        raise NoCustodialKey()
    return identity


@transaction.atomic
def identity_register_self_custody(*, user: User, did: str, label: str, append) -> Identity:
    """Register a public key the platform never sees the private half of.

    `append(actor_did)` appends the `identity.did.register` transaction signed by the new key
    itself (see `identity.signed_actions`), which proves the client holds that key.
    """
    try:
        public_key_from_did(did)
    except ValueError as error:
        raise UnknownActor(str(error)) from error
    if Identity.objects.filter(did=did).exists():
        raise AlreadyRegistered()
    identity = Identity.objects.create(user=user, did=did, custody=Custody.SELF, label=label)
    actor_register(did=did)
    append()
    return identity


@transaction.atomic
def identity_revoke(*, identity: Identity, by: Identity) -> Identity:
    """Stop accepting signatures from `identity` (its past transactions stay valid).

    `by` is another identity of the same account (an account revokes its own keys).
    """
    if by.user_id != identity.user_id:
        raise NotYourIdentity()
    if identity.revoked_at is not None:
        return identity
    identity.revoked_at = timezone.now()
    identity.is_primary = False
    identity.save(update_fields=["revoked_at", "is_primary"])
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=signer_for(by),
        kind=KIND_DID_REVOKE,
        payload={"did": identity.did, "account": identity.user.public_id},
    )
    actor_deactivate(did=identity.did)
    return identity


@transaction.atomic
def document_attest(*, identity: Identity, digest: str, append) -> Attestation:
    """Record that `identity` attests a document whose SHA-256 is `digest`.

    `append()` writes the signed `identity.document.attest` transaction: signed by the
    custodial key, or pre-signed by a self-custody client.
    """
    if Attestation.objects.filter(identity=identity, digest=digest).exists():
        raise AlreadyAttested()
    entry: Transaction = append()
    return Attestation.objects.create(identity=identity, digest=digest, entry=entry)


def attest_payload(*, identity: Identity, digest: str) -> dict:
    return {"did": identity.did, "digest": digest}


@transaction.atomic
def credential_issue(
    *,
    issuer: Identity,
    subject_did: str,
    types: list[str],
    claims: dict,
    chain: str = NETWORK_CHAIN_SLUG,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Credential:
    """Issue a W3C VC 2.0 signed by `issuer` (eddsa-jcs-2022); its digest goes on `chain`."""
    signer_for(issuer)
    credential = Credential(issuer=issuer, subject_did=subject_did, kind=types[-1], document={})
    moment = valid_from or timezone.now()
    document = vc.credential_build(
        issuer=issuer.did,
        subject={"id": subject_did, **claims},
        types=types,
        credential_id=f"urn:smartb:credential:{credential.public_id}",
        valid_from=_utc_stamp(moment),
        valid_until=_utc_stamp(valid_until) if valid_until else None,
    )
    credential.document = vc.proof_add(
        document,
        private_key=issuer.private_key(),
        verification_method=issuer.verification_method,
    )
    credential.digest = vc.credential_digest(credential.document)
    credential.save()
    ledger_append(
        chain=chain,
        actor=issuer,
        kind=KIND_CREDENTIAL_ISSUE,
        payload={
            "credential": credential.public_id,
            "type": credential.kind,
            "issuer": issuer.did,
            "subject": subject_did,
            "digest": credential.digest,
        },
    )
    return credential


def _utc_stamp(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC ("Z"), whatever the time zone of `moment`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@transaction.atomic
def credential_revoke(
    *,
    credential: Credential,
    by: Identity,
    reason: str = "revoked",
    chain: str = NETWORK_CHAIN_SLUG,
) -> Credential:
    """Revoke a credential: verification answers "revoked" from now on."""
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if by.user_id != credential.issuer.user_id:  # first: a stranger learns nothing
        raise NotYourIdentity()
    if credential.revoked_at is not None:
        raise CredentialRevoked()
    credential.revoked_at = timezone.now()
    credential.revocation_reason = reason
    credential.save(update_fields=["revoked_at", "revocation_reason"])
    ledger_append(
        chain=chain,
        actor=signer_for(by),
        kind=KIND_CREDENTIAL_REVOKE,
        payload={"credential": credential.public_id, "digest": credential.digest, "reason": reason},
    )
    return credential

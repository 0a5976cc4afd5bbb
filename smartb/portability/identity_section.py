"""The identity section: the accounts the other sections name (username, e-mail, public id:
the city's own data, leaving with it; never a password hash), their public DIDs, and the
credentials issued by them or named by the other sections, and the documents they attested
on the city's chain.

Private keys never leave: a custodial key stays sealed on the origin platform. On the new
instance every identity holds its public key only (`custody = self`): a custodial member
re-keys, or exports their key from the origin and signs for themselves. Imported accounts
have no password: their owners set one with "forgot password" on their e-mail address.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils.translation import gettext as _

from identity import vc
from identity.models import Attestation, Credential, Custody, Identity, User
from identity.services import KIND_DID_REGISTER, KIND_DID_REVOKE, KIND_DOCUMENT_ATTEST
from ledger.models import NETWORK_CHAIN_SLUG, Transaction

from .errors import ImportRefused
from .registry import ExportContext, ImportContext, Tables, register_section
from .rows import insert_rows, moment, require_fields, stamp

USER_FIELDS = ("public_id", "username", "email", "email_verified", "is_active", "date_joined")
IDENTITY_FIELDS = ("did", "account", "custody", "label", "is_primary", "created_at")
CREDENTIAL_FIELDS = (
    "public_id",
    "issuer",
    "subject_did",
    "kind",
    "document",
    "digest",
    "issued_at",
)

ATTESTATION_FIELDS = ("public_id", "identity", "digest", "entry", "created_at")


def export_identity(ctx: ExportContext) -> Tables:
    users = list(User.objects.filter(pk__in=ctx.accounts).order_by("pk"))
    verified = set(
        EmailAddress.objects.filter(user__in=users, verified=True).values_list("email", "user_id")
    )
    identities = list(Identity.objects.filter(user__in=users).select_related("user").order_by("pk"))
    ctx.dids.update(identity.did for identity in identities)
    credentials = (
        Credential.objects.filter(Q(pk__in=ctx.credentials) | Q(issuer__in=identities))
        .select_related("issuer")
        .order_by("pk")
    )
    attestations = (
        Attestation.objects.filter(identity__in=identities, entry__chain=ctx.chain)
        .select_related("identity", "entry")
        .order_by("pk")
    )
    registrations = Transaction.objects.filter(
        chain__slug=NETWORK_CHAIN_SLUG,
        kind__in=[KIND_DID_REGISTER, KIND_DID_REVOKE],
        payload__did__in=sorted(ctx.dids),
    ).values_list("pk", flat=True)
    for pk in registrations:
        ctx.include_network_entry(pk)
    return {
        "users": [
            {
                "public_id": user.public_id,
                "username": user.username,
                "email": user.email,
                "email_verified": (user.email, user.pk) in verified,
                "is_active": user.is_active,
                "notification_mode": user.notification_mode,
                "date_joined": stamp(user.date_joined),
            }
            for user in users
        ],
        "identities": [
            {
                "did": identity.did,
                "account": identity.user.public_id,
                "custody": identity.custody,  # at the origin; the private key stays there
                "label": identity.label,
                "is_primary": identity.is_primary,
                "created_at": stamp(identity.created_at),
                "revoked_at": stamp(identity.revoked_at),
            }
            for identity in identities
        ],
        "credentials": [
            {
                "public_id": credential.public_id,
                "issuer": credential.issuer.did,
                "subject_did": credential.subject_did,
                "kind": credential.kind,
                "document": credential.document,
                "digest": credential.digest,
                "issued_at": stamp(credential.issued_at),
                "revoked_at": stamp(credential.revoked_at),
                "revocation_reason": credential.revocation_reason,
            }
            for credential in credentials
        ],
        "attestations": [
            {
                "public_id": attestation.public_id,
                "identity": attestation.identity.did,
                "digest": attestation.digest,
                "entry": ctx.entry_index(
                    chain_id=attestation.entry.chain_id, index=attestation.entry.index
                ),
                "created_at": stamp(attestation.created_at),
            }
            for attestation in attestations
        ],
    }


def check_identity(ctx: ImportContext, tables: Tables) -> None:
    """Refuse accounts, DIDs or credentials this instance holds already, and credentials
    whose document is not the one its digest and issuer's signature vouch for."""
    users = tables.get("users", [])
    identities = tables.get("identities", [])
    credentials = tables.get("credentials", [])
    require_fields(users, USER_FIELDS, "users")
    require_fields(identities, IDENTITY_FIELDS, "identities")
    require_fields(credentials, CREDENTIAL_FIELDS, "credentials")
    emails = [row["email"] for row in users if row["email"]]
    email_taken = Q()
    for email in emails:
        email_taken |= Q(email__iexact=email)
    clash = User.objects.filter(
        Q(public_id__in=[row["public_id"] for row in users])
        | Q(username__in=[row["username"] for row in users])
        | (email_taken if emails else Q(pk__in=[]))
    ).first()
    if clash is None and emails:
        clash = EmailAddress.objects.filter(email_taken).select_related("user").first()
        clash = clash.user if clash is not None else None
    if clash is not None:
        raise ImportRefused(
            _("An account of the export exists here already (%(username)s).")
            % {"username": clash.username}
        )
    if Identity.objects.filter(did__in=[row["did"] for row in identities]).exists():
        raise ImportRefused(_("A DID of the export is registered here already."))
    if Credential.objects.filter(
        Q(public_id__in=[row["public_id"] for row in credentials])
        | Q(digest__in=[row["digest"] for row in credentials])
    ).exists():
        raise ImportRefused(_("A credential of the export exists here already."))
    attestations = tables.get("attestations", [])
    require_fields(attestations, ATTESTATION_FIELDS, "attestations")
    if Attestation.objects.filter(public_id__in=[r["public_id"] for r in attestations]).exists():
        raise ImportRefused(_("An attestation of the export exists here already."))
    for row in attestations:
        tx = ctx.transaction(row["entry"])
        if (
            tx["kind"] != KIND_DOCUMENT_ATTEST
            or tx["actor"] != row["identity"]
            or tx["payload"].get("digest") != row["digest"]
        ):
            raise ImportRefused(
                _("An attestation of the export disagrees with ledger transaction %(index)s.")
                % {"index": row["entry"]}
            )
    dids = {row["did"] for row in identities}
    for row in credentials:
        result = vc.proof_verify(row["document"], now=moment(row.get("issued_at")))
        authentic = result.verified or result.reason in ("expired", "not yet valid")
        if (
            row["issuer"] not in dids
            or vc.credential_digest(row["document"]) != row["digest"]
            or not authentic
            or result.issuer != row["issuer"]
        ):
            raise ImportRefused(
                _("The credential %(id)s does not verify.") % {"id": row["public_id"]}
            )


def import_identity(ctx: ImportContext, tables: Tables) -> None:
    users = insert_rows(
        User,
        [
            User(
                public_id=row["public_id"],
                username=row["username"],
                email=row["email"],
                is_active=bool(row["is_active"]),
                notification_mode=row.get("notification_mode") or "immediate",
                date_joined=moment(row["date_joined"]),
                password=make_password(None),  # unusable: the owner resets it by e-mail
            )
            for row in tables.get("users", [])
        ],
    )
    for user in users:
        ctx.remember("identity.user", user.public_id, user)
    verified = {row["public_id"]: bool(row["email_verified"]) for row in tables.get("users", [])}
    insert_rows(
        EmailAddress,
        [
            EmailAddress(
                user=user, email=user.email, verified=verified[user.public_id], primary=True
            )
            for user in users
            if user.email
        ],
    )
    identities = insert_rows(
        Identity,
        [
            Identity(
                user=ctx.ref("identity.user", row["account"]),
                did=row["did"],
                # Public key only: the private key of a custodial identity stays sealed at
                # the origin.
                custody=Custody.SELF,
                sealed_private_key=None,
                label=row["label"],
                is_primary=bool(row["is_primary"]),
                created_at=moment(row["created_at"]),
                revoked_at=moment(row.get("revoked_at")),
            )
            for row in tables.get("identities", [])
        ],
    )
    for identity in identities:
        ctx.remember("identity.identity", identity.did, identity)
    credentials = insert_rows(
        Credential,
        [
            Credential(
                public_id=row["public_id"],
                issuer=ctx.ref("identity.identity", row["issuer"]),
                subject_did=row["subject_did"],
                kind=row["kind"],
                document=row["document"],
                digest=row["digest"],
                issued_at=moment(row.get("issued_at")),
                revoked_at=moment(row.get("revoked_at")),
                revocation_reason=row.get("revocation_reason") or "",
            )
            for row in tables.get("credentials", [])
        ],
    )
    for credential in credentials:
        ctx.remember("identity.credential", credential.public_id, credential)
    insert_rows(
        Attestation,
        [
            Attestation(
                public_id=row["public_id"],
                identity=ctx.ref("identity.identity", row["identity"]),
                digest=row["digest"],
                entry_id=ctx.entry_pk(row["entry"]),
                created_at=moment(row["created_at"]),
            )
            for row in tables.get("attestations", [])
        ],
    )


register_section(
    "identity",
    exporter=export_identity,
    importer=import_identity,
    checker=check_identity,
    after=("ledger",),
)

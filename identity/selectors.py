"""Reads of identity state, with the access checks that belong to them."""

from __future__ import annotations

from django.http import Http404

from ledger.selectors import entries_of_actor

from . import vc
from .models import Attestation, Credential, Identity, User


def identities_of(*, user: User):
    return Identity.objects.filter(user=user).order_by("-is_primary", "created_at")


def credentials_of(*, user: User):
    """Credentials whose subject is one of the user's DIDs."""
    dids = list(Identity.objects.filter(user=user).values_list("did", flat=True))
    return Credential.objects.filter(subject_did__in=dids).select_related("issuer")


def credentials_issued_by(*, user: User):
    return Credential.objects.filter(issuer__user=user).select_related("issuer")


def attestations_of(*, user: User):
    return Attestation.objects.filter(identity__user=user).select_related(
        "entry__chain", "identity"
    )


def ledger_history_of(*, user: User, limit: int = 50):
    dids = list(Identity.objects.filter(user=user).values_list("did", flat=True))
    return entries_of_actor(dids=dids, limit=limit)


def credential_get_for_user(*, user: User, public_id: str) -> Credential:
    """A credential its subject or its issuer may see; anyone else gets 404."""
    credential = Credential.objects.select_related("issuer").filter(public_id=public_id).first()
    if credential is None:
        raise Http404
    dids = set(Identity.objects.filter(user=user).values_list("did", flat=True))
    if credential.subject_did not in dids and credential.issuer.did not in dids:
        raise Http404
    return credential


def credential_verify(document) -> dict:
    """Check the proof; for a credential issued here, also its revocation status."""
    result = vc.proof_verify(document)
    if not result.verified:
        return {"verified": False, "reason": result.reason}
    digest = vc.credential_digest(document)
    issued = Credential.objects.filter(digest=digest).only("revoked_at").first()
    if issued is not None and issued.revoked_at is not None:
        return {"verified": False, "reason": "revoked"}
    return {"verified": True, "reason": "ok", "issued_here": issued is not None}

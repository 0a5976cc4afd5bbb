"""What the app store's services share: who signs, digests, and how work is named."""

from __future__ import annotations

import hashlib
import re

from django.db import models
from django.utils.translation import gettext as _

from governance.actions import platform_signer
from identity.models import Identity, User
from ledger.canonical import canonical_json

from ..errors import InvalidInput, NotAllowed

TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def signer_of(user: User) -> Identity:
    """The user's custodial DID, or a clear refusal (no DID, or a self-custody one)."""
    return platform_signer(user.primary_identity)


def provider_signer(provider) -> Identity:
    """The provider's DID, when the platform holds its key (custodial) and it is live."""
    if provider.identity.revoked_at is not None:
        raise NotAllowed(_("The provider's DID is revoked: the operator updates the provider."))
    return platform_signer(provider.identity)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_json(document) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def work_ref(work: models.Model | None) -> str | None:
    """The ledger's name of a work object: `app.model:public_id` (or its id)."""
    if work is None:
        return None
    key = getattr(work, "public_id", None) or str(work.pk)
    return f"{work._meta.app_label}.{work._meta.model_name}:{key}"


def clean_text(value: str, *, what: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) else None
    if text is None:
        raise InvalidInput(_("%(what)s is text.") % {"what": what})
    if required and not text:
        raise InvalidInput(_("%(what)s is required.") % {"what": what})
    if len(text) > max_length:
        raise InvalidInput(
            _("%(what)s is at most %(n)s characters.") % {"what": what, "n": max_length}
        )
    return text


def clean_cents(value, *, what: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidInput(_("%(what)s is a whole, non-negative number of cents.") % {"what": what})
    return value

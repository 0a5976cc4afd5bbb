"""What the data marketplace's services share: input cleaning, who signs, digests."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from identity.models import Identity, User

from ...services._common import clean_text, provider_signer, sha256_json, sha256_text, signer_of
from ..errors import InvalidInput
from ..models import Dataset, PublisherKind

__all__ = [
    "clean_date",
    "clean_email",
    "clean_text",
    "clean_url",
    "dataset_signer",
    "sha256_json",
    "sha256_text",
    "setting_int",
    "signer_of",
]

_URL = URLValidator(schemes=["http", "https"])
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+\-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+\-]{0,62}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def setting_int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    return default if value is None else int(value)


def clean_url(value, *, what: str, required: bool = True, max_length: int = 500) -> str:
    url = clean_text(value, what=what, max_length=max_length, required=required)
    if url:
        try:
            _URL(url)
        except ValidationError:
            raise InvalidInput(_("%(what)s is not a valid http(s) URL.") % {"what": what}) from None
    return url


def clean_email(value, *, what: str) -> str:
    email = clean_text(value, what=what, max_length=254)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("%(what)s is not a valid e-mail address.") % {"what": what}) from None
    return email


def clean_date(value, *, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(_("%(what)s is a date (YYYY-MM-DD).") % {"what": what})


def clean_sha256(value, *, what: str) -> str:
    text = (value or "").strip().lower() if isinstance(value, str) else None
    if text is None or (text and not SHA256_HEX.match(text)):
        raise InvalidInput(_("%(what)s is 64 hexadecimal digits (SHA-256).") % {"what": what})
    return text


def clean_media_type(value) -> str:
    text = (value or "").strip().lower() if isinstance(value, str) else ""
    if not MEDIA_TYPE.match(text):
        raise InvalidInput(_("The media type is not valid (e.g. text/csv)."))
    return text


def dataset_signer(dataset: Dataset, by: User) -> Identity:
    """Who signs a dataset's transactions: the provider's DID for a provider's dataset, else
    the acting person's own DID (a member, or the municipality's staff)."""
    if dataset.publisher_kind == PublisherKind.PROVIDER:
        return provider_signer(dataset.publisher_provider)
    return signer_of(by)

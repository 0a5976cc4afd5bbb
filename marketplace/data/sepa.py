"""SEPA credit transfers: IBAN and BIC checks (schwifty) and ISO 20022 `pain.001.001.09`
files (sepaxml, validated against the schema it ships with).

A consumer settling an invoice by transfer gets a pain.001 file to hand to its bank: the
consumer is the debtor, the creditor is the account of the dataset's city, set by its
municipality staff (`CreditorAccount`, `services.creditor.creditor_account_set`). A city that
has not set one falls back to the deployment's collection account (`SMARTB_DATA_CREDITOR_NAME`,
`_IBAN`, `_BIC`: settings read from the environment, required in production; development and
tests use a published example IBAN, `EXAMPLE_IBAN`), unless the deployment forbids that
fallback (`SMARTB_DATA_CREDITOR_FALLBACK`, off in production): then the transfer is refused
until the city sets its account. The file and the IBANs stay in the database; the ledger holds
the file's SHA-256 and the account's salted digest only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError as XmlParseError

from django.conf import settings
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from ledger.canonical import canonical_json

from .errors import InvalidInput, NoCreditorAccount

SCHEMA = "pain.001.001.09"
# The published example account of the development settings (smartb/settings/base.py): a
# transfer to it never reaches anyone.
EXAMPLE_IBAN = "FR7630006000011234567890189"
_END_TO_END = re.compile(r"^[A-Za-z0-9\-_.]{1,35}$")


@dataclass(frozen=True)
class Party:
    name: str
    iban: str
    bic: str
    account_digest: str = ""  # a city's creditor account: the digest its staff signed


def iban_clean(value) -> str:
    """The IBAN in compact form, or a clear InvalidInput (country, length, checksum)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("An IBAN is required."))
    try:
        iban = IBAN(value.strip())
    except SchwiftyException as error:
        raise InvalidInput(
            _("This IBAN is not valid (%(reason)s).") % {"reason": str(error)}
        ) from None
    if not iban.in_sepa_zone:
        raise InvalidInput(_("This IBAN is outside the SEPA zone."))
    return iban.compact


def bic_clean(value, *, iban: str) -> str:
    """The BIC given (checked), or the one of the IBAN's bank when schwifty knows it."""
    if isinstance(value, str) and value.strip():
        try:
            return BIC(value.strip()).compact
        except SchwiftyException as error:
            raise InvalidInput(
                _("This BIC is not valid (%(reason)s).") % {"reason": str(error)}
            ) from None
    derived = IBAN(iban).bic
    if derived is None:
        raise InvalidInput(_("Give the BIC of your bank: it cannot be found from the IBAN."))
    return derived.compact


def account_digest(*, holder_name: str, iban: str, bic: str, salt: str) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of the account and its salt: what the
    ledger holds of a city's creditor account."""
    document = {"bic": bic, "holder_name": holder_name, "iban": iban, "salt": salt}
    return hashlib.sha256(canonical_json(document)).hexdigest()


def deployment_creditor() -> Party:
    """The deployment's collection account, as configured (checked like any IBAN)."""
    iban = iban_clean(settings.SMARTB_DATA_CREDITOR_IBAN)
    return Party(
        name=settings.SMARTB_DATA_CREDITOR_NAME,
        iban=iban,
        bic=bic_clean(settings.SMARTB_DATA_CREDITOR_BIC, iban=iban),
    )


def fallback_allowed() -> bool:
    """May a city without its own account be paid into the deployment's account?"""
    return bool(getattr(settings, "SMARTB_DATA_CREDITOR_FALLBACK", True))


def is_example_account(party: Party) -> bool:
    """The published example account of the development settings: no money ever arrives."""
    return party.iban == EXAMPLE_IBAN


def creditor(*, city=None) -> Party:
    """Who a transfer for `city`'s data is paid to: the city's own account when its staff set
    one, else the deployment's (`NoCreditorAccount` when the deployment forbids that)."""
    from .models import CreditorAccount

    account = CreditorAccount.objects.filter(city=city).first() if city is not None else None
    if account is not None:
        return Party(
            name=account.holder_name,
            iban=account.iban,
            bic=account.bic,
            account_digest=account.digest,
        )
    if city is not None and not fallback_allowed():
        raise NoCreditorAccount()
    return deployment_creditor()


def pain001(
    *,
    debtor: Party,
    creditor: Party,
    amount_cents: int,
    end_to_end_id: str,
    description: str,
    execution_date: dt.date,
) -> bytes:
    """One credit transfer of `amount_cents` (integer cents, EUR) from `debtor` to `creditor`,
    as a pain.001.001.09 document validated against its XML schema."""
    if type(amount_cents) is not int or amount_cents <= 0:
        raise InvalidInput(_("A transfer is a positive whole number of cents."))
    if not _END_TO_END.match(end_to_end_id):
        raise ValueError("an end-to-end id is 1 to 35 letters, digits, - _ .")
    config = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "BIC": debtor.bic,
        "batch": False,
        "currency": "EUR",
    }
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    transfer.add_payment(
        {
            "name": creditor.name,
            "IBAN": creditor.iban,
            "BIC": creditor.bic,
            "amount": amount_cents,
            "execution_date": execution_date,
            "description": description,
            "endtoend_id": end_to_end_id,
        }
    )
    try:
        return transfer.export(validate=True)
    except (SepaValidationError, XmlParseError):
        # XmlParseError (xmlschema's parse error derives from it): a name or a description
        # holding a character XML cannot carry (a control character), which sepaxml's
        # cleaning lets through.
        raise InvalidInput(
            _("The transfer could not be written as a valid SEPA file: check the names and IBANs.")
        ) from None

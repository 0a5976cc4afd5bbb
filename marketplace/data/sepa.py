"""SEPA credit transfers: IBAN and BIC checks (schwifty) and ISO 20022 `pain.001.001.09`
files (sepaxml, validated against the schema it ships with).

A consumer settling an invoice by transfer gets a pain.001 file to hand to its bank: the
consumer is the debtor, the platform's collection account the creditor
(`SMARTB_DATA_CREDITOR_NAME`, `_IBAN`, `_BIC`: settings read from the environment, required in
production; development and tests use a published test IBAN). The file and the
IBAN stay in the database; the ledger holds the file's SHA-256 only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError as XmlParseError

from django.conf import settings
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from .errors import InvalidInput

SCHEMA = "pain.001.001.09"
_END_TO_END = re.compile(r"^[A-Za-z0-9\-_.]{1,35}$")


@dataclass(frozen=True)
class Party:
    name: str
    iban: str
    bic: str


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


def creditor() -> Party:
    """The platform's collection account, as configured (checked like any IBAN)."""
    iban = iban_clean(settings.SMARTB_DATA_CREDITOR_IBAN)
    return Party(
        name=settings.SMARTB_DATA_CREDITOR_NAME,
        iban=iban,
        bic=bic_clean(settings.SMARTB_DATA_CREDITOR_BIC, iban=iban),
    )


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

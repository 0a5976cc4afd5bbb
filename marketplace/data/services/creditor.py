"""The bank account a city's data invoices are paid into (the creditor of its SEPA transfer
files), set by the city's municipality staff.

The account stays in `CreditorAccount`; the ledger gets a `marketplace.data.creditor_account.set`
transaction signed by the staff member's DID with the account's salted digest
(`sepa.account_digest`), the IBAN's last 4 characters and the digest it replaces: enough to
check afterwards which account a city declared and when, never the IBAN itself.
"""

from __future__ import annotations

import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City
from identity.models import User
from ledger.services import ledger_append

from .. import sepa
from ..errors import InvalidInput, NotAllowed
from ..models import CreditorAccount
from ..permissions import is_staff_of
from ._common import clean_text, signer_of

KIND_CREDITOR_ACCOUNT_SET = "marketplace.data.creditor_account.set"
HOLDER_NAME_MAX = 70  # pain.001: a party's name is at most 70 characters
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _holder_name_clean(value) -> str:
    name = clean_text(value, what=_("The account holder's name"), max_length=HOLDER_NAME_MAX)
    if _CONTROL.search(name):
        raise InvalidInput(_("The account holder's name holds a control character."))
    return name


@transaction.atomic
def creditor_account_set(
    *, city: City, by: User, holder_name: str, iban: str, bic: str = ""
) -> CreditorAccount:
    """Set (or replace) the account `city`'s data invoices are paid into, signed by `by`, a
    member of the city's municipality staff. The IBAN and BIC are checked (schwifty; the BIC
    may be left out when the IBAN's bank is known), and the account must fit a valid
    pain.001 file. Setting the same account again changes nothing and signs nothing."""
    if not is_staff_of(by, city):
        raise NotAllowed(_("Only the city's municipality staff set its bank account."))
    name = _holder_name_clean(holder_name)
    iban = sepa.iban_clean(iban)
    bic = sepa.bic_clean(bic, iban=iban)
    # The account must make a valid transfer file (sepaxml's cleaning and the XML schema).
    sepa.pain001(
        debtor=sepa.Party(name=name, iban=iban, bic=bic),
        creditor=sepa.Party(name=name, iban=iban, bic=bic),
        amount_cents=1,
        end_to_end_id="SMARTB-CHECK",
        description="SMART B",
        execution_date=timezone.localdate(),
    )
    City.objects.select_for_update().filter(pk=city.pk).first()  # one change at a time
    account = CreditorAccount.objects.filter(city=city).first()
    if account is not None and (account.holder_name, account.iban, account.bic) == (
        name,
        iban,
        bic,
    ):
        return account
    previous = account.digest if account is not None else None
    salt = secrets.token_hex(16)
    digest = sepa.account_digest(holder_name=name, iban=iban, bic=bic, salt=salt)
    payload = {"city": city.slug, "account_digest": digest, "iban_last4": iban[-4:]}
    if previous:
        payload["replaces"] = previous
    entry = ledger_append(
        chain=city.chain,
        actor=signer_of(by),
        kind=KIND_CREDITOR_ACCOUNT_SET,
        payload=payload,
    )
    values = {
        "holder_name": name,
        "iban": iban,
        "bic": bic,
        "salt": salt,
        "digest": digest,
        "entry": entry,
    }
    if account is None:
        return CreditorAccount.objects.create(city=city, **values)
    for field, value in values.items():
        setattr(account, field, value)
    account.save()
    return account

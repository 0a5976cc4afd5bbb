"""The data billing section of a city export (`smartb.portability`): the bank account the
city's data invoices are paid into (`CreditorAccount`) leaves with the city, so the imported
city is still paid into its own account.

The row keeps its ledger index (`entry`). The import checks, before writing anything, that
the account is a valid one (IBAN, BIC), that it hashes to the digest it carries
(`sepa.account_digest`, with its salt), and that the transaction at `entry` is the chain's
last `marketplace.data.creditor_account.set`, signed with that digest and the IBAN's last 4
characters: a row changed in the export, or an account the ledger does not name, refuses the
import. A chain that names an account the export lacks refuses it too.

The rest of the data marketplace (datasets, offers, agreements, invoices) is not in the
export yet.

Registered from `MarketplaceConfig.ready`::

    register_section(
        "data_billing",
        exporter=export_data_billing,
        importer=import_data_billing,
        checker=check_data_billing,
        after=("ledger", "governance"),
    )
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from smartb.portability import ExportContext, ImportContext, ImportRefused
from smartb.portability.registry import Tables
from smartb.portability.rows import insert_rows, moment, require_fields, stamp

from . import sepa
from .errors import InvalidInput
from .models import CreditorAccount
from .services.creditor import KIND_CREDITOR_ACCOUNT_SET

FIELDS = ("holder_name", "iban", "bic", "salt", "digest", "entry", "updated_at")


def export_data_billing(ctx: ExportContext) -> Tables:
    account = CreditorAccount.objects.select_related("entry").filter(city=ctx.city).first()
    rows = []
    if account is not None:
        rows.append(
            {
                "holder_name": account.holder_name,
                "iban": account.iban,
                "bic": account.bic,
                "salt": account.salt,
                "digest": account.digest,
                "entry": ctx.entry_index(
                    chain_id=account.entry.chain_id, index=account.entry.index
                ),
                "updated_at": stamp(account.updated_at),
            }
        )
    return {"creditor_accounts": rows}


def _last_account_index(ctx: ImportContext) -> int | None:
    indexes = [
        tx["index"]
        for tx in ctx.bundle.get("transactions", [])
        if tx.get("kind") == KIND_CREDITOR_ACCOUNT_SET
    ]
    return max(indexes) if indexes else None


def check_data_billing(ctx: ImportContext, tables: Tables) -> None:
    """The account is valid, hashes to its digest, and is the one the chain last signed."""
    rows = tables.get("creditor_accounts", [])
    require_fields(rows, FIELDS, "creditor_accounts")
    last = _last_account_index(ctx)
    if len(rows) > 1:
        raise ImportRefused(_("A city has one bank account for its data invoices, not several."))
    if not rows:
        if last is not None:
            raise ImportRefused(
                _(
                    "The ledger names a bank account for the city's data invoices; the export "
                    "lacks it."
                )
            )
        return
    row = rows[0]
    try:
        valid = sepa.iban_clean(row["iban"]) == row["iban"]
        valid = valid and sepa.bic_clean(row["bic"], iban=row["iban"]) == row["bic"]
    except InvalidInput:
        valid = False
    digest = sepa.account_digest(
        holder_name=str(row["holder_name"]),
        iban=str(row["iban"]),
        bic=str(row["bic"]),
        salt=str(row["salt"]),
    )
    if moment(row["updated_at"]) is None or not valid or digest != row["digest"]:
        raise ImportRefused(_("The city's bank account for data invoices was altered."))
    if row["entry"] != last:
        raise ImportRefused(
            _("The city's bank account for data invoices is not the one its ledger last named.")
        )
    payload = ctx.transaction(row["entry"]).get("payload") or {}
    if payload.get("account_digest") != digest or payload.get("iban_last4") != row["iban"][-4:]:
        raise ImportRefused(
            _("The city's bank account for data invoices is not the one its ledger signed.")
        )


def import_data_billing(ctx: ImportContext, tables: Tables) -> None:
    insert_rows(
        CreditorAccount,
        [
            CreditorAccount(
                city=ctx.city,
                holder_name=row["holder_name"],
                iban=row["iban"],
                bic=row["bic"],
                salt=row["salt"],
                digest=row["digest"],
                entry_id=ctx.entry_pk(row["entry"]),
                updated_at=moment(row["updated_at"]),
            )
            for row in tables.get("creditor_accounts", [])
        ],
    )

"""The data billing section: the city's bank account for its data invoices leaves with the
city and comes back as it was; the import checks it against the digest the city's ledger
signed, and refuses, writing nothing, an account changed in the export or left out of it."""

from __future__ import annotations

import json

import pytest

from governance.models import CollegeKind
from ledger.services import chain_seal
from marketplace.data import sepa
from marketplace.data.models import CreditorAccount
from marketplace.data.services.creditor import creditor_account_set
from smartb.portability import ImportRefused
from smartb.portability.services import city_export, city_import

from .helpers import export_dir, rewrite_json, row_counts, wipe_database

IBAN = "FR183000600001DEMO340000144"


@pytest.fixture
def account(city):
    staff = city.memberships.get(college__kind=CollegeKind.MUNICIPALITY).user
    creditor_account_set(city=city, by=staff, holder_name="Ville de Bourg", iban=IBAN)
    account = creditor_account_set(
        city=city, by=staff, holder_name="Ville de Bourg", iban="DE89370400440532013000"
    )
    chain_seal(chain=city.chain)
    return account


def _export(city, tmp_path):
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    return directory


def test_the_account_leaves_and_comes_back_as_it_was(city, account, tmp_path):
    directory = _export(city, tmp_path)
    section = json.loads((directory / "data_billing.json").read_text(encoding="utf-8"))
    assert [row["digest"] for row in section["tables"]["creditor_accounts"]] == [account.digest]
    wipe_database()

    city_import(directory=directory)

    imported = CreditorAccount.objects.select_related("entry__chain").get(city__slug="bourg")
    assert (imported.holder_name, imported.iban, imported.bic, imported.digest) == (
        account.holder_name,
        account.iban,
        account.bic,
        account.digest,
    )
    assert (imported.entry.chain.slug, imported.entry.index) == ("bourg", account.entry.index)
    assert imported.entry.payload["account_digest"] == imported.digest
    assert imported.updated_at == account.updated_at
    assert sepa.creditor(city=imported.city).iban == "DE89370400440532013000"


def test_a_city_without_an_account_exports_none(city, tmp_path):
    directory = _export(city, tmp_path)
    section = json.loads((directory / "data_billing.json").read_text(encoding="utf-8"))
    assert section["tables"] == {"creditor_accounts": []}
    wipe_database()
    city_import(directory=directory)
    assert not CreditorAccount.objects.exists()


def _refused_after(city, tmp_path, change, match: str) -> None:
    directory = _export(city, tmp_path)
    wipe_database()
    rewrite_json(directory, "data_billing.json", change, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match=match):
        city_import(directory=directory)
    assert row_counts() == counts


def _first(data) -> dict:
    return data["tables"]["creditor_accounts"][0]


def test_an_iban_changed_in_the_export_is_refused(city, account, tmp_path):
    _refused_after(city, tmp_path, lambda d: _first(d).update(iban=IBAN), "was altered")


def test_a_recomputed_digest_the_ledger_did_not_sign_is_refused(city, account, tmp_path):
    def forge(data):
        row = _first(data)
        row["holder_name"] = "Escroc SARL"
        row["digest"] = sepa.account_digest(
            holder_name="Escroc SARL", iban=row["iban"], bic=row["bic"], salt=row["salt"]
        )

    _refused_after(city, tmp_path, forge, "not the one its ledger signed")


def test_the_previous_account_is_not_the_one_the_ledger_last_named(city, account, tmp_path):
    _refused_after(
        city, tmp_path, lambda d: _first(d).update(entry=_first(d)["entry"] - 1), "last named"
    )


def test_an_account_left_out_of_the_export_is_refused(city, account, tmp_path):
    def drop(data):
        data["tables"]["creditor_accounts"] = []

    _refused_after(city, tmp_path, drop, "the export lacks it")

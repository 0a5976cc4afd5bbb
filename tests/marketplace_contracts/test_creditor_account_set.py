"""A city's own creditor account: set by its municipality staff only, checked (IBAN, BIC, a
valid SEPA file), signed on the city's ledger with a salted digest and the IBAN's last 4
characters (never the IBAN), and used as the creditor of the city's SEPA transfer files; a
city without one falls back to the deployment's account, or is refused when the deployment
forbids it."""

from __future__ import annotations

import pytest

from governance.services import city_create
from ledger.models import Transaction
from marketplace.data import sepa
from marketplace.data.errors import InvalidInput, NoCreditorAccount, NotAllowed
from marketplace.data.models import CreditorAccount
from marketplace.data.services.billing import invoice_issue, invoice_pay_sepa
from marketplace.data.services.creditor import KIND_CREDITOR_ACCOUNT_SET, creditor_account_set
from tests.governance.helpers import appoint

from .helpers import agree, download, offer_make

CITY_IBAN = "FR183000600001DEMO340000144"  # valid checksum, fictitious account (DEMO)
OTHER_IBAN = "DE89370400440532013000"


def _set(city, by, **changes):
    values = {"holder_name": "Ville de Bourg - regie des donnees", "iban": CITY_IBAN, "bic": ""}
    values.update(changes)
    return creditor_account_set(city=city, by=by, **values)


def _account_entries(city):
    return Transaction.objects.filter(chain=city.chain, kind=KIND_CREDITOR_ACCOUNT_SET)


@pytest.fixture
def invoice(open_dataset, staff, consumer):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_request", unit_price_cents=700
    )
    agreement = agree(offer, consumer)
    download(agreement, consumer)
    return invoice_issue(agreement=agreement)


def _pay(invoice, consumer):
    return invoice_pay_sepa(
        invoice=invoice, by=consumer, debtor_name="Analyses SAS", iban=OTHER_IBAN, bic=""
    )


def test_the_staff_set_the_account_signed_with_a_digest_and_no_iban(city, staff):
    account = _set(city, staff, iban="fr18 3000 6000 01de mo34 0000 144")
    assert (account.iban, account.bic) == (CITY_IBAN, "AGRIFRPPXXX")  # BIC from the bank code
    entry = account.entry
    assert entry.kind == KIND_CREDITOR_ACCOUNT_SET and entry.chain_id == city.chain.pk
    assert entry.actor == staff.primary_identity.did
    assert entry.payload == {
        "city": city.slug,
        "account_digest": account.digest,
        "iban_last4": "0144",
    }
    assert account.digest == sepa.account_digest(
        holder_name=account.holder_name, iban=CITY_IBAN, bic="AGRIFRPPXXX", salt=account.salt
    )
    text = str(entry.payload)
    assert CITY_IBAN[:-4] not in text and "Bourg" not in text and "AGRIFRPP" not in text


def test_a_change_replaces_the_account_and_names_the_digest_it_replaces(city, staff):
    first = _set(city, staff)
    first_digest = first.digest
    second = _set(city, staff, iban=OTHER_IBAN, bic="COBADEFFXXX")
    assert second.pk == first.pk and CreditorAccount.objects.filter(city=city).count() == 1
    assert second.entry.payload["replaces"] == first_digest
    assert second.entry.payload["iban_last4"] == "3000"
    assert _account_entries(city).count() == 2


def test_setting_the_same_account_again_signs_nothing(city, staff):
    first = _set(city, staff)
    again = _set(city, staff, iban=f" {CITY_IBAN.lower()} ")
    assert again.entry_id == first.entry_id and again.digest == first.digest
    assert _account_entries(city).count() == 1


def test_two_accounts_with_the_same_iban_have_different_digests(city, staff, operator):
    other = city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])
    other_staff = appoint(other, operator).user
    ours = _set(city, staff)
    theirs = _set(other, other_staff)
    assert ours.digest != theirs.digest  # salted: the ledger's digest is not a guessable hash


@pytest.mark.parametrize("who", ["consumer", "operator", "foreign_staff"])
def test_only_the_citys_staff_set_its_account(city, consumer, operator, who):
    if who == "foreign_staff":
        other = city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])
        by = appoint(other, operator).user
    else:
        by = {"consumer": consumer, "operator": operator}[who]
    before = Transaction.objects.count()
    with pytest.raises(NotAllowed):
        _set(city, by)
    assert not CreditorAccount.objects.exists() and Transaction.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"iban": "FR18 3000 6000 01DE MO34 0000 145"}, "IBAN"),  # checksum
        ({"iban": ""}, "IBAN"),
        ({"iban": "GB33BUKB20201555555555", "bic": "NOPE"}, "BIC"),
        ({"holder_name": ""}, "holder"),
        ({"holder_name": "x" * 71}, "holder"),
        ({"holder_name": "Régie\x0bdes données"}, "control"),
    ],
)
def test_a_bad_account_is_refused_with_a_clear_error_and_nothing_written(
    city, staff, changes, word
):
    before = Transaction.objects.count()
    with pytest.raises(InvalidInput) as refused:
        _set(city, staff, **changes)
    assert word in refused.value.message
    assert not CreditorAccount.objects.exists() and Transaction.objects.count() == before


def test_a_transfer_file_pays_the_citys_own_account(city, staff, invoice, consumer):
    account = _set(city, staff)
    payment = _pay(invoice, consumer)
    assert f"<IBAN>{CITY_IBAN}</IBAN>" in payment.pain001
    assert sepa.EXAMPLE_IBAN not in payment.pain001
    assert payment.entry.payload["creditor"] == "city"
    assert payment.entry.payload["creditor_account_digest"] == account.digest


def test_without_its_own_account_a_city_is_paid_into_the_deployments(invoice, consumer, settings):
    settings.SMARTB_DATA_CREDITOR_FALLBACK = True
    payment = _pay(invoice, consumer)
    assert f"<IBAN>{settings.SMARTB_DATA_CREDITOR_IBAN}</IBAN>" in payment.pain001
    assert payment.entry.payload["creditor"] == "deployment"
    assert "creditor_account_digest" not in payment.entry.payload


def test_without_its_own_account_nor_a_fallback_the_transfer_is_refused(
    invoice, consumer, settings
):
    settings.SMARTB_DATA_CREDITOR_FALLBACK = False
    before = Transaction.objects.count()
    with pytest.raises(NoCreditorAccount) as refused:
        _pay(invoice, consumer)
    assert refused.value.status == 409
    assert not invoice.payments.exists() and Transaction.objects.count() == before


def test_a_city_with_its_own_account_needs_no_fallback(city, staff, invoice, consumer, settings):
    settings.SMARTB_DATA_CREDITOR_FALLBACK = False
    _set(city, staff)
    assert f"<IBAN>{CITY_IBAN}</IBAN>" in _pay(invoice, consumer).pain001


def test_the_creditor_of_another_city_is_not_ours(city, staff, operator):
    other = city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])
    _set(city, staff)
    assert sepa.creditor(city=city).iban == CITY_IBAN
    assert sepa.creditor(city=other).iban == sepa.EXAMPLE_IBAN
    assert sepa.creditor().account_digest == ""

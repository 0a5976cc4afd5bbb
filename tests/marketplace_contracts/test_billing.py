"""Billing: invoices from metered usage (per period or at a threshold), settlement from a
prepaid balance (never negative) or by SEPA transfer (a pain.001.001.09 file validated against
its schema, IBANs checked), and the revenue split in integer cents with nothing lost."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from governance.models import Account
from governance.services import account_balance
from marketplace.data import sepa
from marketplace.data.errors import InvalidInput, NotAllowed
from marketplace.data.models import BalanceMovement, Invoice, PrepaidBalance, UsageRecord
from marketplace.data.services.billing import (
    InsufficientBalance,
    agreements_due_for_invoice,
    balance_top_up,
    invoice_issue,
    invoice_pay_prepaid,
    invoice_pay_sepa,
    payment_settle,
    revenue_shares,
)

from .helpers import agree, answer, download, offer_make


@pytest.fixture
def paid_offer(open_dataset, staff):
    return offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_request", unit_price_cents=1_250
    )


@pytest.fixture
def invoice(paid_offer, consumer):
    agreement = agree(paid_offer, consumer)
    download(agreement, consumer)
    download(agreement, consumer)
    return invoice_issue(agreement=agreement)


def test_an_invoice_takes_the_unbilled_usage_once(invoice):
    assert invoice.total_cents == 2_500 and invoice.status == "issued"
    line = invoice.lines.get()
    assert (line.kind, line.quantity, line.unit_price_cents, line.amount_cents) == (
        "request",
        2,
        1_250,
        2_500,
    )
    assert set(UsageRecord.objects.values_list("invoice", flat=True)) == {invoice.pk}
    assert invoice.entry.payload["total_cents"] == 2_500
    assert invoice_issue(agreement=invoice.agreement) is None


def test_an_invoice_is_issued_at_the_threshold(
    paid_offer, consumer, settings, django_capture_on_commit_callbacks
):
    settings.SMARTB_DATA_INVOICE_THRESHOLD_CENTS = 2_000
    agreement = agree(paid_offer, consumer)
    with django_capture_on_commit_callbacks(execute=True):
        download(agreement, consumer)
    assert not Invoice.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        download(agreement, consumer)
    invoice = Invoice.objects.get()
    assert invoice.total_cents == 2_500 and invoice.threshold_cents == 2_000


def test_an_agreement_is_due_once_its_oldest_usage_is_a_period_old(paid_offer, consumer):
    agreement = agree(paid_offer, consumer)
    download(agreement, consumer)
    assert agreements_due_for_invoice() == []
    assert agreements_due_for_invoice(now=timezone.now() + timedelta(days=31)) == [agreement]


def test_free_usage_is_not_invoiced(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    download(agreement, consumer)
    assert invoice_issue(agreement=agreement) is None


def test_a_prepaid_balance_pays_and_the_revenue_is_split(invoice, consumer, staff, city):
    balance_top_up(city=city, consumer=consumer, amount_cents=3_000, by=staff)
    payment = invoice_pay_prepaid(invoice=invoice, by=consumer)
    assert payment.status == "settled" and payment.amount_cents == 2_500
    assert PrepaidBalance.objects.get(consumer=consumer).cents == 500
    assert list(BalanceMovement.objects.order_by("pk").values_list("amount_cents", flat=True)) == [
        3_000,
        -2_500,
    ]
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    shares = {s.kind: s.amount_cents for s in invoice.shares.all()}
    # 20 % commission = 500: operator 100, data owners 150, treasury 250; producer 2,000
    assert shares == {"producer": 2_000, "operator": 100, "data_owners": 150, "treasury": 250}
    fees = Account.objects.get(city=city, code="fees")
    assert account_balance(fees) == -250
    assert payment.entry.actor == consumer.primary_identity.did


def test_a_balance_never_goes_negative(invoice, consumer, staff, city):
    balance_top_up(city=city, consumer=consumer, amount_cents=2_000, by=staff)
    with pytest.raises(InsufficientBalance):
        invoice_pay_prepaid(invoice=invoice, by=consumer)
    assert PrepaidBalance.objects.get(consumer=consumer).cents == 2_000
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_only_staff_or_the_operator_top_up(city, consumer):
    with pytest.raises(NotAllowed):
        balance_top_up(city=city, consumer=consumer, amount_cents=100, by=consumer)


def test_a_sepa_transfer_gives_a_valid_pain_001(invoice, consumer, operator):
    payment = invoice_pay_sepa(
        invoice=invoice,
        by=consumer,
        debtor_name="Analyses SAS",
        iban="FR76 3000 6000 0112 3456 7890 189",
    )
    assert payment.status == "pending" and payment.iban == "FR7630006000011234567890189"
    assert "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" in payment.pain001
    assert '<InstdAmt Ccy="EUR">25.00</InstdAmt>' in payment.pain001
    assert payment.entry.payload["pain001_digest"] == payment.pain001_digest
    assert "FR76" not in str(payment.entry.payload)
    payment_settle(payment=payment, by=operator)
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.shares.count() == 4


@pytest.mark.parametrize(
    "iban",
    ["FR76 3000 6000 0112 3456 7890 188", "XX00 1234", "", "FR76300060000112345678901890000"],
)
def test_a_bad_iban_gets_a_clear_error(invoice, consumer, iban):
    with pytest.raises(InvalidInput) as refused:
        invoice_pay_sepa(invoice=invoice, by=consumer, debtor_name="Analyses SAS", iban=iban)
    assert "IBAN" in str(refused.value.message)
    assert not invoice.payments.exists()


def test_the_pain_001_validates_against_the_schema():
    document = sepa.pain001(
        debtor=sepa.Party("Lea Martin", "DE89370400440532013000", "COBADEFFXXX"),
        creditor=sepa.creditor(),
        amount_cents=1,
        end_to_end_id="SMARTB-x",
        description="test",
        execution_date=timezone.localdate(),
    )
    from sepaxml.validation import try_valid_xml

    try_valid_xml(document, "pain.001.001.09")  # raises if invalid


def test_personal_data_revenue_goes_to_the_residents_whose_records_flowed(
    personal_dataset, staff, consumer, residents, city
):
    offer = offer_make(
        dataset=personal_dataset,
        by=staff,
        policy={"permission": [{"action": "read"}]},
        pricing_model="per_request",
        unit_price_cents=1_001,
    )
    agreement = agree(offer, consumer)
    answer(agreement, residents[0])
    answer(agreement, residents[1])
    answer(agreement, residents[2], give=False)
    download(agreement, consumer)
    invoice = invoice_issue(agreement=agreement)
    balance_top_up(city=city, consumer=consumer, amount_cents=1_001, by=staff)
    invoice_pay_prepaid(invoice=invoice, by=consumer)
    owners = {s.beneficiary_did: s.amount_cents for s in invoice.shares.filter(kind="data_owners")}
    # commission 20 % of 1,001 rounded down = 200; data owners' 30 % = 60, in equal parts
    assert owners == {residents[0].identity.did: 30, residents[1].identity.did: 30}
    assert sum(s.amount_cents for s in invoice.shares.all()) == 1_001


@st.composite
def percents(draw):
    operator = draw(st.integers(0, 100))
    data_owners = draw(st.integers(0, 100 - operator))
    return {
        "operator": operator,
        "data_owners": data_owners,
        "local_projects": 100 - operator - data_owners,
    }


@given(
    total=st.integers(0, 10**12),
    split=percents(),
    commission=st.integers(0, 100),
    owners=st.lists(st.text("abcdef", min_size=1, max_size=4), max_size=7, unique=True),
)
def test_the_split_loses_no_cent(total, split, commission, owners):
    shares = revenue_shares(
        total_cents=total,
        percents=split,
        commission=commission,
        producer_did="did:key:producer",
        owner_dids=sorted(owners),
    )
    assert sum(cents for _, _, cents in shares) == total
    assert all(cents >= 0 for _, _, cents in shares)
    platform = sum(cents for kind, _, cents in shares if kind != "producer")
    assert abs(platform - Fraction(total * commission, 100)) < 1
    owner_cents = [cents for kind, _, cents in shares if kind == "data_owners"]
    assert max(owner_cents) - min(owner_cents) <= 1

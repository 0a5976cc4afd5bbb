"""Billing of agreements: metered usage, invoices, prepaid balances, SEPA transfers, and the
split of revenue, all in integer cents.

Usage is metered per agreement (`UsageRecord`, written by each delivery; see
`contracts.metered_amount` for its rounding). An invoice takes every unbilled record of an
agreement: when the unbilled amount reaches `SMARTB_DATA_INVOICE_THRESHOLD_CENTS` (default
10,000 = 100 €; the delivery schedules it), or once its oldest record is older than
`SMARTB_DATA_BILLING_PERIOD_DAYS` (default 30; `tasks.issue_due_invoices`, daily).

Settlement: from the consumer's prepaid balance in the city (debited atomically by a guarded
update, never negative: the database refuses it too), or by SEPA credit transfer (a
pain.001.001.09 file; the payment is settled when the city's staff or the operator sees the
money arrive).

Revenue split of a paid invoice (`revenue_shares`), nothing lost to rounding:

1. the platform's commission is `SMARTB_DATA_COMMISSION_PERCENT` (default 20) of the total,
   rounded down; the producer gets the rest;
2. the commission is split by the city's rules in force (`governance.rules.revenue_split`:
   operator, data owners, local projects = the city's treasury) with the largest-remainder
   rule of `marketplace.revenue.split_amount`;
3. the data owners' part goes in equal parts to the residents whose records flowed under the
   agreement (consent given, even if withdrawn since), the leftover cents one each in DID
   order; without such residents (open data) it stays with the city's data-owners account.

The city's books (`governance.services.treasury_move`) receive the commission: bank debited,
`fees` (treasury), `operator-payable` and `data-owners-payable` credited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.actions import platform_signer
from governance.models import City
from governance.rules import revenue_split
from governance.services import rules_in_force, treasury_move
from identity.models import User
from ledger.services import actor_register, ledger_append
from ledger.signing import platform_validator
from ledger.timefmt import format_timestamp
from marketplace.permissions import is_operator
from marketplace.revenue import split_amount
from marketplace.services._common import provider_signer

from .. import sepa
from ..errors import DataError, InvalidInput, NotAllowed, WrongState
from ..models import (
    Agreement,
    BalanceMovement,
    Consent,
    ConsentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    PrepaidBalance,
    RevenueShare,
    RevenueShareKind,
    UsageKind,
    UsageRecord,
)
from ..permissions import is_staff_of
from ._common import sha256_json, signer_of

KIND_INVOICE_ISSUE = "marketplace.data.invoice.issue"
KIND_INVOICE_PAY = "marketplace.data.invoice.pay"
KIND_TOP_UP = "marketplace.data.balance.top_up"
KIND_SEPA = "marketplace.data.payment.sepa"
KIND_SETTLE = "marketplace.data.payment.settle"

DEFAULT_THRESHOLD_CENTS = 10_000
DEFAULT_PERIOD_DAYS = 30
DEFAULT_COMMISSION_PERCENT = 20
MAX_TOP_UP_CENTS = 10**10


class InsufficientBalance(DataError):
    code = "insufficient_balance"
    status = 409
    default_message = gettext_lazy("Your prepaid balance does not cover this invoice.")


class InvoiceNotFound(DataError):
    code = "not_found"
    status = 404
    default_message = gettext_lazy("No such invoice.")


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    return default if value is None else int(value)


def threshold_cents() -> int:
    return _setting("SMARTB_DATA_INVOICE_THRESHOLD_CENTS", DEFAULT_THRESHOLD_CENTS)


def commission_percent() -> int:
    percent = _setting("SMARTB_DATA_COMMISSION_PERCENT", DEFAULT_COMMISSION_PERCENT)
    if not 0 <= percent <= 100:
        raise ValueError("SMARTB_DATA_COMMISSION_PERCENT is a whole percent from 0 to 100")
    return percent


# --- metering and invoices ---------------------------------------------------------------------


def unbilled_cents(agreement: Agreement) -> int:
    return (
        UsageRecord.objects.filter(agreement=agreement, invoice__isnull=True).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )


def threshold_reached(agreement: Agreement) -> bool:
    return unbilled_cents(agreement) >= threshold_cents()


def agreements_due_for_invoice(now: datetime | None = None) -> list[Agreement]:
    """Agreements whose oldest unbilled, non-free usage is older than the billing period."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=_setting("SMARTB_DATA_BILLING_PERIOD_DAYS", DEFAULT_PERIOD_DAYS))
    ids = (
        UsageRecord.objects.filter(invoice__isnull=True, amount_cents__gt=0)
        .values("agreement_id")
        .annotate(oldest=Min("created_at"))
        .filter(oldest__lte=cutoff)
        .values_list("agreement_id", flat=True)
    )
    return list(Agreement.objects.filter(pk__in=list(ids)).order_by("pk"))


def _unit_price(agreement: Agreement, kind: str) -> int:
    if kind == UsageKind.TRANSFORMATION:
        return agreement.offer.transformation_fee_cents
    return agreement.offer.unit_price_cents


@transaction.atomic
def invoice_issue(*, agreement: Agreement, now: datetime | None = None) -> Invoice | None:
    """Invoice every unbilled usage record of `agreement` (none, or all free: no invoice).

    One line per kind of usage (quantity and amount summed: per-MB amounts were already
    telescoped, so the line is exactly the price of its volume). The validator records the
    invoice's id, total and the digest of its lines on the city's chain."""
    now = now or timezone.now()
    # The agreement's row first, as deliveries lock it: one invoice takes each record once.
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("offer", "dataset__city__chain")
        .get(pk=agreement.pk)
    )
    records = list(
        UsageRecord.objects.select_for_update()
        .filter(agreement=agreement, invoice__isnull=True, created_at__lte=now)
        .order_by("pk")
    )
    total = sum(r.amount_cents for r in records)
    if not records or total == 0:
        return None
    previous = Invoice.objects.filter(agreement=agreement).order_by("-period_end").first()
    start = previous.period_end if previous else min(r.created_at for r in records)
    start = min(start, now)
    reached = total >= threshold_cents()
    invoice = Invoice.objects.create(
        agreement=agreement,
        consumer_id=agreement.consumer_id,
        period_start=start,
        period_end=now,
        threshold_cents=threshold_cents() if reached else None,
        total_cents=total,
        status=InvoiceStatus.ISSUED,
        issued_at=now,
    )
    by_kind: dict[str, list[int]] = {}
    for record in records:
        quantity, amount = by_kind.setdefault(record.kind, [0, 0])
        by_kind[record.kind] = [quantity + record.quantity, amount + record.amount_cents]
    lines = [
        InvoiceLine(
            invoice=invoice,
            kind=kind,
            quantity=quantity,
            unit_price_cents=_unit_price(agreement, kind),
            amount_cents=amount,
        )
        for kind, (quantity, amount) in sorted(by_kind.items())
    ]
    InvoiceLine.objects.bulk_create(lines)
    UsageRecord.objects.filter(pk__in=[r.pk for r in records]).update(invoice=invoice)
    validator = platform_validator()
    actor_register(did=validator.did)
    invoice.entry = ledger_append(
        chain=agreement.dataset.city.chain,
        actor=validator,
        kind=KIND_INVOICE_ISSUE,
        payload={
            "invoice": invoice.public_id,
            "agreement": agreement.public_id,
            "consumer": agreement.consumer_identity.did,
            "period_start": format_timestamp(invoice.period_start),
            "period_end": format_timestamp(invoice.period_end),
            "total_cents": total,
            "lines_digest": sha256_json(
                [
                    [line.kind, line.quantity, line.unit_price_cents, line.amount_cents]
                    for line in lines
                ]
            ),
        },
    )
    invoice.save(update_fields=["entry"])
    return invoice


# --- the revenue split -------------------------------------------------------------------------


def split_equally(amount_cents: int, beneficiaries: list[str]) -> dict[str, int]:
    """`amount_cents` in equal parts; the leftover cents one each, in the list's order."""
    if not beneficiaries:
        raise ValueError("no beneficiary")
    base, left = divmod(amount_cents, len(beneficiaries))
    return {did: base + (1 if position < left else 0) for position, did in enumerate(beneficiaries)}


def data_owner_dids(agreement: Agreement) -> list[str]:
    """The residents whose records flowed under `agreement`, by DID, sorted."""
    return sorted(
        Consent.objects.filter(
            agreement=agreement, status__in=[ConsentStatus.GIVEN, ConsentStatus.REVOKED]
        ).values_list("subject__did", flat=True)
    )


def revenue_shares(
    *,
    total_cents: int,
    percents: dict[str, int],
    commission: int,
    producer_did: str,
    owner_dids: list[str],
) -> list[tuple[str, str, int]]:
    """(kind, beneficiary DID or "", cents) of a paid total; they sum to `total_cents`."""
    if type(total_cents) is not int or total_cents < 0:
        raise ValueError("a total is a non-negative integer of cents")
    platform = total_cents * commission // 100
    split = split_amount(platform, percents)
    shares = [(RevenueShareKind.PRODUCER, producer_did, total_cents - platform)]
    if owner_dids:
        for did, cents in split_equally(split["data_owners"], owner_dids).items():
            shares.append((RevenueShareKind.DATA_OWNERS, did, cents))
    else:
        shares.append((RevenueShareKind.DATA_OWNERS, "", split["data_owners"]))
    shares.append((RevenueShareKind.TREASURY, "", split["local_projects"]))
    shares.append((RevenueShareKind.OPERATOR, "", split["operator"]))
    return shares


def _book_revenue(invoice: Invoice) -> list[RevenueShare]:
    """Split a paid invoice (inside the caller's transaction) and book the commission into
    the city's treasury."""
    agreement = invoice.agreement
    city = agreement.dataset.city
    shares = revenue_shares(
        total_cents=invoice.total_cents,
        percents=revenue_split(rules_in_force(city).rules),
        commission=commission_percent(),
        producer_did=agreement.producer_identity.did,
        owner_dids=data_owner_dids(agreement),
    )
    assert sum(cents for _, _, cents in shares) == invoice.total_cents
    rows = RevenueShare.objects.bulk_create(
        RevenueShare(invoice=invoice, kind=kind, beneficiary_did=did, amount_cents=cents)
        for kind, did, cents in shares
    )
    by_kind: dict[str, int] = {}
    for kind, _did, cents in shares:
        by_kind[kind] = by_kind.get(kind, 0) + cents
    postings = [
        (account, -by_kind.get(kind, 0))
        for kind, account in (
            (RevenueShareKind.TREASURY, "fees"),
            (RevenueShareKind.OPERATOR, "operator-payable"),
            (RevenueShareKind.DATA_OWNERS, "data-owners-payable"),
        )
        if by_kind.get(kind, 0)
    ]
    collected = -sum(amount for _, amount in postings)
    if collected:
        treasury_move(
            city=city,
            label=f"Données : facture {invoice.public_id}",
            postings=[("bank", collected), *postings],
        )
    return rows


def _shares_payload(invoice: Invoice) -> dict:
    return {
        "shares_digest": sha256_json(
            [
                [s.kind, s.beneficiary_did, s.amount_cents]
                for s in invoice.shares.order_by("kind", "beneficiary_did", "pk")
            ]
        )
    }


# --- settlement --------------------------------------------------------------------------------


def invoice_get_for_consumer(*, public_id: str, user: User) -> Invoice:
    invoice = (
        Invoice.objects.select_related("agreement__dataset__city__chain")
        .filter(public_id=public_id, consumer=user)
        .first()
    )
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def _consumer_signer(agreement: Agreement):
    if agreement.consumer_provider_id:
        return provider_signer(agreement.consumer_provider)
    return platform_signer(agreement.consumer_identity)


def _locked_invoice(invoice: Invoice, user: User) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related(
            "agreement__dataset__city__chain",
            "agreement__consumer_identity",
            "agreement__consumer_provider",
            "agreement__producer_identity",
        )
        .get(pk=invoice.pk)
    )
    if invoice.consumer_id != user.pk:
        raise InvoiceNotFound()
    if invoice.status == InvoiceStatus.PAID:
        raise WrongState(_("This invoice is already paid."))
    if invoice.status != InvoiceStatus.ISSUED:
        raise WrongState(_("This invoice cannot be paid."))
    return invoice


@transaction.atomic
def balance_top_up(*, city: City, consumer: User, amount_cents: int, by: User) -> PrepaidBalance:
    """Credit `consumer`'s prepaid balance in `city` with money received (recorded by the
    city's staff or the operator, signed by their DID)."""
    if not (is_operator(by) or is_staff_of(by, city)):
        raise NotAllowed(_("Only the city's staff or the operator record a top-up."))
    if type(amount_cents) is not int or not 0 < amount_cents <= MAX_TOP_UP_CENTS:
        raise InvalidInput(_("A top-up is a positive whole number of cents."))
    if consumer.primary_identity is None:
        raise InvalidInput(_("This account has no DID."))
    balance, _created = PrepaidBalance.objects.get_or_create(city=city, consumer=consumer)
    PrepaidBalance.objects.filter(pk=balance.pk).update(cents=F("cents") + amount_cents)
    entry = ledger_append(
        chain=city.chain,
        actor=signer_of(by),
        kind=KIND_TOP_UP,
        payload={
            "consumer": consumer.primary_identity.did,
            "city": city.slug,
            "amount_cents": amount_cents,
        },
    )
    BalanceMovement.objects.create(balance=balance, amount_cents=amount_cents, entry=entry)
    balance.refresh_from_db()
    return balance


def balance_of(*, city: City, consumer: User) -> int:
    row = PrepaidBalance.objects.filter(city=city, consumer=consumer).first()
    return row.cents if row else 0


@transaction.atomic
def invoice_pay_prepaid(*, invoice: Invoice, by: User, now: datetime | None = None) -> Payment:
    """Pay `invoice` from the consumer's prepaid balance in the dataset's city: one guarded
    update (only if the balance covers it), so two payments at once can never overdraw it.
    Signed by the consumer's DID; the revenue is split and booked at once."""
    now = now or timezone.now()
    invoice = _locked_invoice(invoice, by)
    agreement = invoice.agreement
    city = agreement.dataset.city
    total = invoice.total_cents
    debited = PrepaidBalance.objects.filter(city=city, consumer=by, cents__gte=total).update(
        cents=F("cents") - total
    )
    if not debited:
        raise InsufficientBalance()
    balance = PrepaidBalance.objects.get(city=city, consumer=by)
    payment = Payment(
        invoice=invoice, kind=PaymentKind.PREPAID, amount_cents=total, status=PaymentStatus.SETTLED
    )
    payment.settled_at = now
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.save(update_fields=["status", "paid_at"])
    _book_revenue(invoice)
    payment.entry = ledger_append(
        chain=city.chain,
        actor=_consumer_signer(agreement),
        kind=KIND_INVOICE_PAY,
        payload={
            "invoice": invoice.public_id,
            "payment": payment.public_id,
            "kind": PaymentKind.PREPAID,
            "amount_cents": total,
            **_shares_payload(invoice),
        },
    )
    payment.save()
    BalanceMovement.objects.create(
        balance=balance, amount_cents=-total, payment=payment, entry=payment.entry
    )
    return payment


@transaction.atomic
def invoice_pay_sepa(
    *,
    invoice: Invoice,
    by: User,
    debtor_name: str,
    iban: str,
    bic: str = "",
    execution_date: dt.date | None = None,
) -> Payment:
    """Settle `invoice` by SEPA credit transfer: the pain.001.001.09 file the consumer hands
    to its bank (validated against the schema), its digest signed by the consumer's DID.
    The creditor is the dataset's city's own account (`sepa.creditor`; refused with
    `NoCreditorAccount` when it has none and the deployment allows no fallback).
    The payment waits until the money arrives (`payment_settle`)."""
    invoice = _locked_invoice(invoice, by)
    if invoice.payments.filter(kind=PaymentKind.SEPA, status=PaymentStatus.PENDING).exists():
        raise WrongState(_("A transfer for this invoice is already waiting to arrive."))
    name = (debtor_name or "").strip()
    if not name or len(name) > 70:
        raise InvalidInput(_("The account holder's name is 1 to 70 characters."))
    iban = sepa.iban_clean(iban)
    bic = sepa.bic_clean(bic, iban=iban)
    city = invoice.agreement.dataset.city
    creditor = sepa.creditor(city=city)  # the city's own account, or the deployment's
    payment = Payment(
        invoice=invoice, kind=PaymentKind.SEPA, amount_cents=invoice.total_cents, iban=iban, bic=bic
    )
    document = sepa.pain001(
        debtor=sepa.Party(name=name, iban=iban, bic=bic),
        creditor=creditor,
        amount_cents=invoice.total_cents,
        end_to_end_id=f"SMARTB-{payment.public_id}"[:35].replace("_", "-"),
        description=f"SMART B facture {invoice.public_id}",
        execution_date=execution_date or timezone.localdate(),
    )
    payment.pain001 = document.decode()
    payment.pain001_digest = hashlib.sha256(document).hexdigest()
    payment.entry = ledger_append(
        chain=city.chain,
        actor=_consumer_signer(invoice.agreement),
        kind=KIND_SEPA,
        payload={
            "invoice": invoice.public_id,
            "payment": payment.public_id,
            "amount_cents": invoice.total_cents,
            "pain001_digest": payment.pain001_digest,
            # Paid into the city's own account (its digest, as its staff signed it) or the
            # deployment's.
            "creditor": "city" if creditor.account_digest else "deployment",
            **(
                {"creditor_account_digest": creditor.account_digest}
                if creditor.account_digest
                else {}
            ),
        },
    )
    payment.save()
    return payment


@transaction.atomic
def payment_settle(*, payment: Payment, by: User, now: datetime | None = None) -> Payment:
    """The money of a SEPA transfer arrived: the city's staff or the operator settle it,
    signed by their DID; the invoice is paid and its revenue split and booked."""
    now = now or timezone.now()
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("invoice__agreement__dataset__city__chain")
        .get(pk=payment.pk)
    )
    city = payment.invoice.agreement.dataset.city
    if not (is_operator(by) or is_staff_of(by, city)):
        raise NotAllowed(_("Only the city's staff or the operator settle a transfer."))
    if payment.status == PaymentStatus.SETTLED:
        return payment
    if payment.kind != PaymentKind.SEPA or payment.status != PaymentStatus.PENDING:
        raise WrongState(_("Only a transfer waiting to arrive is settled."))
    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payment.invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise WrongState(_("This invoice is not waiting for payment."))
    payment.status = PaymentStatus.SETTLED
    payment.settled_at = now
    payment.save(update_fields=["status", "settled_at"])
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = now
    invoice.save(update_fields=["status", "paid_at"])
    _book_revenue(invoice)
    ledger_append(
        chain=city.chain,
        actor=signer_of(by),
        kind=KIND_SETTLE,
        payload={
            "invoice": invoice.public_id,
            "payment": payment.public_id,
            "amount_cents": payment.amount_cents,
            **_shares_payload(invoice),
        },
    )
    return payment

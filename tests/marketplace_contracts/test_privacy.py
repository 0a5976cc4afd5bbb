"""Nothing the contract services write to the ledger holds personal data: DIDs, ids, integers
and SHA-256 digests only. Names, e-mails, titles, records, receipts and IBANs stay here."""

from __future__ import annotations

from ledger.models import Transaction
from marketplace.data.services.billing import (
    balance_top_up,
    invoice_issue,
    invoice_pay_sepa,
)
from marketplace.data.services.consents import consent_revoke
from marketplace.data.services.wallet import account_erase, purge_acknowledge

from .helpers import agree, answer, consent_of, download, offer_make


def test_a_whole_contract_flow_leaves_only_ids_and_digests(
    personal_dataset, staff, consumer, residents, city
):
    alice, bob, _ = residents
    offer = offer_make(
        dataset=personal_dataset,
        by=staff,
        policy={"permission": [{"action": "read"}]},
        pricing_model="per_record",
        unit_price_cents=3,
    )
    agreement = agree(offer, consumer)
    answer(agreement, alice)
    answer(agreement, bob, give=False)
    download(agreement, consumer)
    consent = consent_revoke(consent=consent_of(agreement, alice), user=alice.user)
    purge_acknowledge(purge=consent.purges.get(), user=consumer)
    invoice = invoice_issue(agreement=agreement)
    invoice_pay_sepa(
        invoice=invoice, by=consumer, debtor_name="Jean Dupont", iban="DE89370400440532013000"
    )
    balance_top_up(city=city, consumer=consumer, amount_cents=100, by=staff)
    account_erase(user=bob.user)
    secrets = [
        personal_dataset.title,
        alice.user.email,
        alice.user.last_name,
        consumer.email,
        "Jean Dupont",
        "DE89370400440532013000",
        "2026-03-01,100",
        alice.postal_address,
    ]
    payloads = [
        str(t.payload) for t in Transaction.objects.filter(kind__startswith="marketplace.data.")
    ]
    assert len(payloads) > 10
    for text in payloads:
        for secret in secrets:
            assert secret not in text

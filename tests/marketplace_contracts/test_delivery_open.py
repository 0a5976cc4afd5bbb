"""Access only through an agreement: the data streams decrypted, counted, with a delivery
receipt on the ledger; refused (nothing counted) when expired, revoked, over a limit, not
consented or when the stored ciphertext was tampered with; refused residents' records are
left out, and a withdrawal applies from the very next request."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.data.errors import InvalidInput, StoredDataCorrupt
from marketplace.data.models import Agreement, Delivery, UsageRecord
from marketplace.data.services.access import (
    AgreementExpired,
    AgreementNotFound,
    AgreementRevoked,
    NotConsented,
    OverLimit,
    delivery_acknowledge,
    delivery_open,
)
from marketplace.data.services.consents import consent_revoke
from marketplace.data.services.contracts import agreement_revoke
from marketplace.data.storage import absolute
from tests.factories import DATA_CSV, dataset_make, hosted_csv

from .helpers import agree, answer, consent_of, download, offer_make, personal_csv, policy


def test_the_consumer_gets_the_decrypted_data_and_a_receipt(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    body, stream = download(agreement, consumer)
    assert body == DATA_CSV
    delivery = stream.delivery
    assert delivery.sha256 == hashlib.sha256(body).hexdigest()
    assert (delivery.bytes_sent, delivery.records_sent) == (len(body), 0)
    entry = delivery.entry
    assert entry.kind == "marketplace.data.delivery"
    assert entry.payload["sha256"] == delivery.sha256
    assert entry.payload["agreement"] == agreement.public_id
    agreement.refresh_from_db()
    assert agreement.requests_used == 1 and agreement.bytes_used == len(body)
    assert agreement.last_access_at is not None


def test_no_access_without_an_agreement_of_one_s_own(open_offer, consumer, residents):
    agreement = agree(open_offer, consumer)
    with pytest.raises(AgreementNotFound):
        delivery_open(agreement=agreement, user=residents[0].user)
    assert not Delivery.objects.exists()


def test_an_expired_agreement_refuses(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    Agreement.objects.filter(pk=agreement.pk).update(ends_at=timezone.now() + timedelta(days=1))
    with pytest.raises(AgreementExpired):
        delivery_open(agreement=agreement, user=consumer, now=timezone.now() + timedelta(days=2))
    agreement.refresh_from_db()
    assert agreement.status == "expired" and agreement.requests_used == 0
    assert not Delivery.objects.exists()


def test_a_revoked_agreement_refuses_the_next_request(open_offer, consumer, staff):
    agreement = agree(open_offer, consumer)
    download(agreement, consumer)
    agreement_revoke(agreement=agreement, by=staff)
    with pytest.raises(AgreementRevoked):
        delivery_open(agreement=agreement, user=consumer)
    assert Delivery.objects.count() == 1


def test_the_request_limit_holds(open_dataset, staff, consumer):
    offer = offer_make(dataset=open_dataset, by=staff, policy=policy(count=2))
    agreement = agree(offer, consumer)
    download(agreement, consumer)
    download(agreement, consumer)
    with pytest.raises(OverLimit):
        delivery_open(agreement=agreement, user=consumer)
    agreement.refresh_from_db()
    assert agreement.requests_used == 2


def test_the_record_limit_holds_and_a_range_fits_under_it(open_dataset, staff, consumer):
    offer = offer_make(dataset=open_dataset, by=staff, policy=policy(**{"smartb:records": 3}))
    agreement = agree(offer, consumer)
    body, stream = download(agreement, consumer, start=0, end=1)
    assert body == b"station,date,pm10\nCOMEDIE,2026-01-01,21\n"
    assert (stream.delivery.range_start, stream.delivery.range_end) == (0, 1)
    download(agreement, consumer)  # the two records: 3 in all
    with pytest.raises(OverLimit):
        delivery_open(agreement=agreement, user=consumer, start=1, end=2)
    agreement.refresh_from_db()
    assert agreement.records_used == 3


def test_the_byte_limit_holds(open_dataset, staff, consumer):
    offer = offer_make(
        dataset=open_dataset, by=staff, policy=policy(**{"smartb:bytes": len(DATA_CSV) + 10})
    )
    agreement = agree(offer, consumer)
    download(agreement, consumer)
    with pytest.raises(OverLimit):
        delivery_open(agreement=agreement, user=consumer)


def test_a_range_is_for_record_files_and_must_be_ordered(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    with pytest.raises(InvalidInput):
        delivery_open(agreement=agreement, user=consumer, start=2, end=1)


def test_a_tampered_ciphertext_fails_closed_and_counts_nothing(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    distribution = agreement.dataset.versions.get().distributions.get()
    path = absolute(distribution.storage_path)
    stored = bytearray(path.read_bytes())
    stored[-5] ^= 0x01
    path.write_bytes(bytes(stored))
    with pytest.raises(StoredDataCorrupt):
        delivery_open(agreement=agreement, user=consumer)
    agreement.refresh_from_db()
    assert agreement.requests_used == 0
    assert not Delivery.objects.exists()


def test_personal_data_waits_for_a_consent(personal_offer, consumer):
    agreement = agree(personal_offer, consumer)
    with pytest.raises(NotConsented):
        delivery_open(agreement=agreement, user=consumer)


def test_refused_residents_records_are_left_out(personal_offer, consumer, residents):
    alice, bob, chloe = residents
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    answer(agreement, bob, give=False)
    answer(agreement, chloe)
    body, stream = download(agreement, consumer)
    lines = body.decode().splitlines()
    assert lines[0] == "subject,date,litres"
    assert [line.split(",")[0] for line in lines[1:]] == [alice.identity.did] * 2 + [
        chloe.identity.did
    ] * 2
    assert stream.delivery.records_sent == 4


def test_a_withdrawal_mid_stream_stops_the_next_request(personal_offer, consumer, residents):
    alice, bob, _chloe = residents
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    answer(agreement, bob)
    stream = delivery_open(agreement=agreement, user=consumer)
    pieces = iter(stream)
    first = next(pieces)  # the consumer is reading…
    consent_revoke(consent=consent_of(agreement, alice), user=alice.user)
    assert alice.identity.did.encode() in first + b"".join(pieces)  # …this request was planned
    body, _stream = download(agreement, consumer)  # the very next one
    assert alice.identity.did.encode() not in body
    assert bob.identity.did.encode() in body


def test_when_every_consent_is_withdrawn_nothing_flows(personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    answer(agreement, residents[0])
    download(agreement, consumer)
    consent_revoke(consent=consent_of(agreement, residents[0]), user=residents[0].user)
    with pytest.raises(NotConsented):
        delivery_open(agreement=agreement, user=consumer)


def test_a_json_lines_dataset_is_filtered_too(city, staff, residents, consumer):
    alice, bob, _ = residents
    content = "".join(
        f'{{"subject": "{m.identity.did}", "litres": {n}}}\n' for n, m in enumerate(residents)
    ).encode()
    dataset = dataset_make(
        city=city,
        by=staff,
        is_personal=True,
        subject_dids=[m.identity.did for m in residents],
        files=[hosted_csv(content, format="JSON", media_type="application/jsonl")],
    )
    agreement = agree(offer_make(dataset=dataset, by=staff), consumer)
    answer(agreement, bob)
    body, _ = download(agreement, consumer)
    assert body == f'{{"subject": "{bob.identity.did}", "litres": 1}}\n'.encode()


def test_usage_is_metered_per_delivery(open_dataset, staff, consumer):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_record", unit_price_cents=7
    )
    agreement = agree(offer, consumer)
    download(agreement, consumer)
    usage = UsageRecord.objects.get(agreement=agreement)
    assert (usage.kind, usage.quantity, usage.amount_cents) == ("records", 2, 14)


def test_the_consumer_acknowledges_a_receipt_with_its_signature(open_offer, consumer):
    agreement = agree(open_offer, consumer)
    _body, stream = download(agreement, consumer)
    delivery = delivery_acknowledge(delivery=stream.delivery, user=consumer)
    assert delivery.acknowledged_at is not None
    assert delivery.ack_entry.actor == consumer.primary_identity.did
    assert delivery.ack_entry.payload["sha256"] == delivery.sha256
    assert delivery.ack_signature == delivery.ack_entry.signature


def test_a_quoted_csv_record_keeps_its_bytes(city, staff, residents, consumer):
    alice = residents[0]
    content = (
        f'subject,note\n{alice.identity.did},"deux\nlignes"\n{residents[1].identity.did},x\n'
    ).encode()
    dataset = dataset_make(
        city=city,
        by=staff,
        is_personal=True,
        subject_dids=[m.identity.did for m in residents],
        files=[hosted_csv(content)],
    )
    agreement = agree(offer_make(dataset=dataset, by=staff), consumer)
    answer(agreement, alice)
    body, _ = download(agreement, consumer)
    assert body == f'subject,note\n{alice.identity.did},"deux\nlignes"\n'.encode()


def test_personal_csv_helper_has_two_rows_each(residents):
    assert personal_csv(residents).count(b"\n") == 7

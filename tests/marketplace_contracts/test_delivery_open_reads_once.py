"""A delivery decrypts the hosted file once: a small file is read into memory, measured and
streamed from there; a larger one's receipt is written from figures measured before (the
distribution's own when it is sent whole, else a `DeliveryFigures` row measured on that
selection's first delivery). The receipt is still written before any byte leaves, its digest
is the digest of the bytes the consumer gets, and figures that prove wrong never make a
complete response."""

from __future__ import annotations

import hashlib

import pytest

from marketplace.data.crypto import TamperedData
from marketplace.data.errors import StoredDataCorrupt
from marketplace.data.models import Delivery, DeliveryFigures, Distribution
from marketplace.data.services import access
from marketplace.data.services.access import delivery_open
from marketplace.data.services.wallet import account_erase
from marketplace.data.storage import absolute
from tests.factories import DATA_CSV
from tests.marketplace_api.support import Api

from .helpers import agree, answer, download, offer_make


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """The public ids of the distributions the decrypting reader opened, in order."""
    calls: list[str] = []
    reader = access.distribution_open

    def counting(distribution):
        calls.append(distribution.public_id)
        return reader(distribution)

    monkeypatch.setattr(access, "distribution_open", counting)
    return calls


@pytest.fixture
def large(settings):
    """Every file counts as too large to hold in memory: the kept figures are used."""
    settings.SMARTB_DATA_DELIVERY_MEMORY_BYTES = 0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_receipt_matches(body: bytes, delivery: Delivery) -> None:
    delivery.refresh_from_db()
    assert delivery.sha256 == sha(body)
    assert delivery.bytes_sent == len(body)
    assert delivery.entry.payload["sha256"] == sha(body)
    assert delivery.entry.payload["bytes"] == len(body)


def consented(personal_offer, consumer, *members):
    agreement = agree(personal_offer, consumer)
    for member in members:
        answer(agreement, member)
    return agreement


# --- small files: read into memory once ------------------------------------------------------


def test_a_small_file_is_decrypted_once_per_delivery(open_offer, consumer, opened):
    agreement = agree(open_offer, consumer)
    for number in (1, 2):
        body, stream = download(agreement, consumer)
        assert body == DATA_CSV
        assert_receipt_matches(body, stream.delivery)
        assert len(opened) == number
    assert not DeliveryFigures.objects.exists()


def test_a_small_personal_file_is_decrypted_once_and_filtered(
    personal_offer, consumer, residents, opened
):
    alice, bob, _chloe = residents
    agreement = consented(personal_offer, consumer, alice)
    body, stream = download(agreement, consumer)
    assert alice.identity.did.encode() in body and bob.identity.did.encode() not in body
    assert_receipt_matches(body, stream.delivery)
    assert stream.delivery.records_sent == 2
    assert len(opened) == 1


# --- larger files: the kept figures ----------------------------------------------------------


def test_a_file_sent_whole_uses_its_stored_figures_and_is_read_once(
    open_offer, consumer, opened, large
):
    agreement = agree(open_offer, consumer)
    distribution = Distribution.objects.get(version__dataset=open_offer.dataset)
    body, stream = download(agreement, consumer)
    assert body == DATA_CSV
    assert_receipt_matches(body, stream.delivery)
    assert (stream.delivery.sha256, stream.delivery.bytes_sent) == (
        distribution.sha256,
        distribution.byte_size,
    )
    assert opened == [distribution.public_id]
    assert not DeliveryFigures.objects.exists()


def test_a_selection_is_measured_on_its_first_delivery_then_read_once(
    personal_offer, consumer, residents, opened, large
):
    alice, bob, _chloe = residents
    agreement = consented(personal_offer, consumer, alice, bob)
    first, stream = download(agreement, consumer)
    assert len(opened) == 2  # measured, then streamed
    assert_receipt_matches(first, stream.delivery)
    figures = DeliveryFigures.objects.get()
    assert (figures.sha256, figures.bytes, figures.records) == (sha(first), len(first), 4)

    second, stream = download(agreement, consumer)
    assert len(opened) == 3  # streamed only
    assert second == first
    assert_receipt_matches(second, stream.delivery)
    assert stream.delivery.records_sent == 4
    assert DeliveryFigures.objects.count() == 1


def test_another_agreement_with_the_same_consents_reuses_the_figures(
    personal_offer, consumer, residents, opened, large
):
    one = consented(personal_offer, consumer, *residents)
    two = consented(personal_offer, consumer, *residents)
    body_one, _ = download(one, consumer)
    opened.clear()
    body_two, stream = download(two, consumer)
    assert len(opened) == 1
    assert body_two == body_one
    assert_receipt_matches(body_two, stream.delivery)


def test_a_new_consent_is_a_new_selection(personal_offer, consumer, residents, opened, large):
    alice, bob, chloe = residents
    agreement = consented(personal_offer, consumer, alice, bob)
    download(agreement, consumer)
    answer(agreement, chloe)
    opened.clear()
    body, stream = download(agreement, consumer)
    assert len(opened) == 2  # this selection's first delivery
    assert chloe.identity.did.encode() in body
    assert_receipt_matches(body, stream.delivery)
    assert stream.delivery.records_sent == 6
    assert DeliveryFigures.objects.count() == 2


def test_each_range_has_its_own_figures(open_dataset, staff, consumer, opened, large):
    offer = offer_make(
        dataset=open_dataset, by=staff, pricing_model="per_record", unit_price_cents=1
    )
    agreement = agree(offer, consumer)
    ranged, stream = download(agreement, consumer, start=1, end=2)
    assert ranged == b"station,date,pm10\nANTIGONE,2026-01-01,17\n"
    assert_receipt_matches(ranged, stream.delivery)
    whole, stream = download(agreement, consumer)
    assert whole == DATA_CSV and stream.delivery.records_sent == 2
    assert_receipt_matches(whole, stream.delivery)
    assert DeliveryFigures.objects.count() == 2
    opened.clear()
    again, stream = download(agreement, consumer, start=1, end=2)
    assert again == ranged and len(opened) == 1
    assert stream.delivery.records_sent == 1


def test_after_an_erasure_the_rewritten_file_is_measured_afresh(
    personal_offer, consumer, residents, large
):
    alice, bob, _chloe = residents
    agreement = consented(personal_offer, consumer, alice, bob)
    download(agreement, consumer)
    account_erase(user=alice.user)
    body, stream = download(agreement, consumer)
    assert alice.identity.did.encode() not in body
    assert bob.identity.did.encode() in body
    assert_receipt_matches(body, stream.delivery)


# --- what the client gets is what the receipt says ------------------------------------------


def test_through_the_api_the_bytes_received_match_the_receipt(
    personal_offer, consumer, residents, opened, large
):
    agreement = consented(personal_offer, consumer, *residents)
    client = Api(consumer)
    for expected_opens in (2, 3):
        response = client.get(f"/api/v1/marketplace/agreements/{agreement.public_id}/data")
        assert response.status_code == 200
        received = b"".join(response.streaming_content)
        delivery = Delivery.objects.get(public_id=response["X-Delivery-Receipt"])
        assert_receipt_matches(received, delivery)
        assert int(response["Content-Length"]) == len(received)
        assert len(opened) == expected_opens


def test_wrong_kept_figures_never_make_a_complete_response(
    personal_offer, consumer, residents, opened, large
):
    agreement = consented(personal_offer, consumer, *residents)
    expected, _ = download(agreement, consumer)
    DeliveryFigures.objects.update(sha256="0" * 64)
    stream = delivery_open(agreement=agreement, user=consumer)
    received = b""
    with pytest.raises(TamperedData):
        for piece in stream:
            received += piece
    assert expected.startswith(received) and len(received) < len(expected)
    assert not DeliveryFigures.objects.exists()  # dropped: measured afresh next time
    opened.clear()
    body, stream = download(agreement, consumer)
    assert body == expected and len(opened) == 2
    assert_receipt_matches(body, stream.delivery)


def test_a_tampered_file_fails_closed_before_anything_is_counted(
    personal_offer, consumer, residents, large
):
    agreement = consented(personal_offer, consumer, *residents)
    download(agreement, consumer)  # the figures are kept
    distribution = Distribution.objects.get(version__dataset=personal_offer.dataset)
    path = absolute(distribution.storage_path)
    stored = bytearray(path.read_bytes())
    stored[-5] ^= 0x01
    path.write_bytes(bytes(stored))
    with pytest.raises(StoredDataCorrupt):
        delivery_open(agreement=agreement, user=consumer)
    agreement.refresh_from_db()
    assert agreement.requests_used == 1
    assert Delivery.objects.filter(agreement=agreement).count() == 1


def test_a_missing_file_fails_closed_before_anything_is_counted(open_offer, consumer, large):
    agreement = agree(open_offer, consumer)
    distribution = Distribution.objects.get(version__dataset=open_offer.dataset)
    absolute(distribution.storage_path).unlink()
    with pytest.raises(StoredDataCorrupt):
        delivery_open(agreement=agreement, user=consumer)
    agreement.refresh_from_db()
    assert agreement.requests_used == 0
    assert not Delivery.objects.exists()

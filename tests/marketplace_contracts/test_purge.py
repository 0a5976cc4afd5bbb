"""Purge requests: sent to the consumer until it acknowledges with its DID's signature; the
acknowledgement is recorded and shown."""

from __future__ import annotations

import pytest

from marketplace.data.models import PurgeRequest
from marketplace.data.services.consents import consent_revoke
from marketplace.data.services.contracts import agreement_revoke
from marketplace.data.services.wallet import PurgeNotFound, purge_acknowledge
from marketplace.data.tasks import purge_retry_delay, resend_stale_purges, send_purge_request

from .helpers import agree, answer, consent_of, download


@pytest.fixture
def purge(personal_offer, consumer, residents, django_capture_on_commit_callbacks):
    alice = residents[0]
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    download(agreement, consumer)
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(consent=consent_of(agreement, alice), user=alice.user)
    return PurgeRequest.objects.get()


def test_the_request_is_sent_at_once_to_the_consumer(purge, consumer, mailoutbox):
    assert purge.status == "sent" and purge.attempts == 1
    assert [m.to for m in mailoutbox if "Purge" in m.subject or "purge" in m.subject.lower()] == [
        [consumer.email]
    ]


def test_each_retry_sends_it_again_until_acknowledged(purge, consumer, mailoutbox):
    send_purge_request.apply(args=[purge.pk])
    purge.refresh_from_db()
    assert purge.attempts == 2
    purge_acknowledge(purge=purge, user=consumer)
    assert send_purge_request.apply(args=[purge.pk]).get() == "acknowledged"
    purge.refresh_from_db()
    assert purge.attempts == 2


def test_the_acknowledgement_is_signed_by_the_consumer(purge, consumer):
    purge = purge_acknowledge(purge=purge, user=consumer)
    assert purge.status == "acknowledged" and purge.acknowledged_at is not None
    assert purge.ack_entry.actor == consumer.primary_identity.did
    assert purge.ack_entry.payload == {
        "purge": purge.public_id,
        "agreement": purge.agreement.public_id,
        "request_tx": purge.entry.tx_hash,
    }
    assert purge.ack_signature == purge.ack_entry.signature
    again = purge_acknowledge(purge=purge, user=consumer)
    assert again.ack_entry == purge.ack_entry


def test_only_the_consumer_acknowledges(purge, residents):
    with pytest.raises(PurgeNotFound):
        purge_acknowledge(purge=purge, user=residents[0].user)


def test_the_retry_delay_grows_to_a_day():
    assert [purge_retry_delay(n) for n in (1, 2, 3)] == [60, 120, 240]
    assert purge_retry_delay(30) == 24 * 3600


def test_an_agreement_ended_after_deliveries_asks_for_a_full_purge(open_offer, consumer, staff):
    agreement = agree(open_offer, consumer)
    download(agreement, consumer)
    agreement_revoke(agreement=agreement, by=staff)
    purge = PurgeRequest.objects.get()
    assert purge.consent is None and purge.entry.payload["subject"] is None


def test_stale_purges_are_sent_again(purge):
    PurgeRequest.objects.filter(pk=purge.pk).update(last_attempt_at=None, status="pending")
    assert resend_stale_purges() == 1
    purge.refresh_from_db()
    assert purge.attempts == 2

"""Requesting access: a quote, then the agreement signed by the consumer's DID; the consent
progress without the residents' identities; my agreements with the download and the purge
acknowledgement; who may not."""

from __future__ import annotations

from marketplace.data.models import Agreement, PurgeRequest, PurgeStatus, Quote
from marketplace.data.services.contracts import KIND_AGREEMENT_ACCEPT
from tests.marketplace_contracts.helpers import agree, answer, consent_of

from .conftest import login_redirect, url


def _accept(client, city, offer, **fields) -> Agreement:
    response = client.post(url("offer_request", city.slug, offer.public_id), {"requests": "1"})
    assert response.status_code == 302
    quote = Quote.objects.get(offer=offer)
    assert response["Location"] == url("quote_detail", city.slug, quote.public_id)
    assert client.get(response["Location"]).status_code == 200
    response = client.post(response["Location"], fields)
    agreement = Agreement.objects.get(quote=quote)
    assert response.status_code == 302
    assert response["Location"] == url("agreement_detail", city.slug, agreement.public_id)
    return agreement


def test_a_member_requests_access_and_signs_with_their_did(client, consumer, city, open_offer):
    client.force_login(consumer)
    agreement = _accept(client, city, open_offer)
    assert agreement.status == "active"
    assert agreement.consumer_identity == consumer.primary_identity
    assert agreement.consumer_entry.kind == KIND_AGREEMENT_ACCEPT

    response = client.post(url("agreement_download", city.slug, agreement.public_id))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
    agreement.refresh_from_db()
    assert agreement.requests_used == 1


def test_on_personal_data_the_consumer_sees_counts_never_who(
    client, consumer, city, personal_offer, residents
):
    client.force_login(consumer)
    agreement = _accept(client, city, personal_offer, purposes=["research"])
    assert agreement.status == "pending_consent"
    answer(agreement, residents[0], give=True)
    answer(agreement, residents[1], give=False)

    page = client.get(url("agreement_detail", city.slug, agreement.public_id)).content.decode()
    assert "1 given · 1 refused · 1 pending" in page
    for member in residents:
        assert member.identity.did not in page
        assert member.user.email not in page


def test_a_purpose_is_required_when_the_offer_names_some(client, consumer, city, personal_offer):
    client.force_login(consumer)
    client.post(url("offer_request", city.slug, personal_offer.public_id), {"requests": "1"})
    quote = Quote.objects.get(offer=personal_offer)
    response = client.post(url("quote_detail", city.slug, quote.public_id), {})
    assert response.status_code == 400
    assert not Agreement.objects.exists()


def test_a_member_of_another_city_cannot_accept(client, foreign_member, city, open_offer):
    client.force_login(foreign_member)
    assert client.get(url("offer_detail", city.slug, open_offer.public_id)).status_code == 200
    response = client.post(url("offer_request", city.slug, open_offer.public_id), {"requests": 1})
    assert response.status_code == 403
    assert not Quote.objects.exists()


def test_the_publisher_cannot_request_its_own_offer(client, staff, city, open_offer):
    client.force_login(staff)
    response = client.post(url("offer_request", city.slug, open_offer.public_id), {"requests": 1})
    assert response.status_code == 403
    assert not Quote.objects.exists()


def test_an_anonymous_visitor_sees_the_offer_and_is_sent_to_log_in(client, city, open_offer):
    assert client.get(url("offer_detail", city.slug, open_offer.public_id)).status_code == 200
    response = client.post(url("offer_request", city.slug, open_offer.public_id))
    assert login_redirect(response)
    assert login_redirect(client.get(url("agreement_list", city.slug)))


def test_another_account_does_not_see_an_agreement(
    client, consumer, foreign_member, city, open_offer
):
    agreement = agree(open_offer, consumer)
    client.force_login(foreign_member)
    assert client.get(url("agreement_detail", city.slug, agreement.public_id)).status_code == 404
    target = url("agreement_download", city.slug, agreement.public_id)
    assert client.post(target).status_code == 404


def test_download_refused_after_revocation_then_purge_acknowledged(
    client, consumer, city, personal_offer, residents
):
    agreement = agree(personal_offer, consumer)
    answer(agreement, residents[0], give=True)
    client.force_login(consumer)
    download = url("agreement_download", city.slug, agreement.public_id)
    assert client.post(download).status_code == 200

    from marketplace.data.services.consents import consent_revoke

    consent_revoke(consent=consent_of(agreement, residents[0]), user=residents[0].user)
    refused = client.post(download)
    assert refused.status_code == 409
    assert "No data subject has consented" in refused.content.decode()

    purge = PurgeRequest.objects.get(agreement=agreement)
    listing = client.get(url("agreement_list", city.slug)).content.decode()
    assert url("purge_acknowledge", city.slug, purge.public_id) in listing
    response = client.post(url("purge_acknowledge", city.slug, purge.public_id))
    assert response.status_code == 302
    purge.refresh_from_db()
    assert purge.status == PurgeStatus.ACKNOWLEDGED
    assert purge.ack_entry.actor == agreement.consumer_identity.did


def test_only_the_consumer_acknowledges_a_purge(
    client, consumer, staff, city, personal_offer, residents
):
    agreement = agree(personal_offer, consumer)
    answer(agreement, residents[0], give=True)
    client.force_login(consumer)
    client.post(url("agreement_download", city.slug, agreement.public_id))
    from marketplace.data.services.consents import consent_revoke

    consent_revoke(consent=consent_of(agreement, residents[0]), user=residents[0].user)
    purge = PurgeRequest.objects.get(agreement=agreement)
    client.force_login(staff)
    assert client.post(url("purge_acknowledge", city.slug, purge.public_id)).status_code == 404
    purge.refresh_from_db()
    assert purge.status != PurgeStatus.ACKNOWLEDGED

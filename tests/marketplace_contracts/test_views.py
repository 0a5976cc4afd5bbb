"""The wallet page (/me/data/): agreements touching my data with status, last access, volume
and purge status; consent requests answered in place; Revoke with HTMX or a plain form, taking
effect on the very next request; my GDPR archive; erasing my account."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.data.services.wallet import purge_acknowledge
from tests.factories import PASSWORD

from .helpers import agree, answer, consent_of, download

WALLET = "/me/data/"


@pytest.fixture
def alice(residents):
    return residents[0]


@pytest.fixture
def browser(client, alice):
    client.force_login(alice.user)
    return client


def test_the_wallet_is_for_signed_in_residents(client):
    response = client.get(WALLET)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_pending_request_shows_who_what_why_and_how_long(
    browser, personal_offer, consumer, alice
):
    agreement = agree(personal_offer, consumer)
    page = browser.get(WALLET).content.decode()
    consent = consent_of(agreement, alice)
    assert agreement.dataset.title.replace("'", "&#x27;") in page
    assert consumer.primary_identity.did in page
    assert "water-leak-detection" in page
    assert reverse("marketplace_data:consent_answer", args=[consent.public_id]) in page
    assert 'name="decision" value="give"' in page


def test_answering_without_javascript_comes_back_to_the_page(
    browser, personal_offer, consumer, alice
):
    agreement = agree(personal_offer, consumer)
    consent = consent_of(agreement, alice)
    response = browser.post(
        reverse("marketplace_data:consent_answer", args=[consent.public_id]), {"decision": "give"}
    )
    assert response.status_code == 302 and response["Location"] == WALLET
    consent.refresh_from_db()
    assert consent.status == "given"


def test_revoke_with_htmx_swaps_the_row_and_the_next_request_leaves_me_out(
    browser, personal_offer, consumer, alice, residents
):
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    answer(agreement, residents[1])
    download(agreement, consumer)
    consent = consent_of(agreement, alice)
    response = browser.post(
        reverse("marketplace_data:consent_revoke", args=[consent.public_id]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith("<article") and f'id="consent-{consent.public_id}"' in row
    assert 'data-testid="consent-status">' in row
    assert reverse("marketplace_data:consent_revoke", args=[consent.public_id]) not in row
    body, _ = download(agreement, consumer)
    assert alice.identity.did.encode() not in body


def test_the_purge_status_shows_until_acknowledged(browser, personal_offer, consumer, alice):
    agreement = agree(personal_offer, consumer)
    answer(agreement, alice)
    download(agreement, consumer)
    consent = consent_of(agreement, alice)
    browser.post(reverse("marketplace_data:consent_revoke", args=[consent.public_id]))
    page = browser.get(WALLET).content.decode()
    assert 'data-testid="purge-status"' in page
    purge_acknowledge(purge=consent.purges.get(), user=consumer)
    page = browser.get(WALLET).content.decode()
    status = page.split('data-testid="purge-status"')[1][:200]
    assert "badge ok" in status


def test_someone_else_s_consent_is_not_found(client, personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    client.force_login(residents[1].user)
    consent = consent_of(agreement, residents[0])
    response = client.post(
        reverse("marketplace_data:consent_revoke", args=[consent.public_id]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404


def test_a_refusal_of_the_service_shows_its_message(browser, personal_offer, consumer, alice):
    agreement = agree(personal_offer, consumer)
    consent = answer(agreement, alice, give=False)
    response = browser.post(
        reverse("marketplace_data:consent_revoke", args=[consent.public_id]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()


def test_the_page_costs_the_same_queries_with_more_agreements(
    browser, personal_offer, consumer, alice
):
    agree(personal_offer, consumer)
    with CaptureQueriesContext(connection) as one:
        browser.get(WALLET)
    for _ in range(3):
        agree(personal_offer, consumer)
    with CaptureQueriesContext(connection) as four:
        assert browser.get(WALLET).content.decode().count('data-testid="consent-row"') == 4
    assert len(four) == len(one)


def test_my_archive_downloads_as_json(browser, personal_offer, consumer, alice):
    agree(personal_offer, consumer)
    response = browser.get(reverse("marketplace_data:gdpr_export"))
    assert response["Content-Disposition"].startswith("attachment;")
    archive = json.loads(response.content)
    assert archive["account"]["email"] == alice.user.email
    assert archive["consents"][0]["status"] == "requested"


def test_erasing_needs_my_password_then_logs_me_out(browser, alice):
    url = reverse("marketplace_data:account_erase")
    refused = browser.post(url, {"account_password": "wrong", "confirm": "on"})
    assert refused.status_code == 400
    alice.user.refresh_from_db()
    assert alice.user.is_active
    response = browser.post(url, {"account_password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert not alice.user.is_active and alice.user.email == ""
    assert browser.get(WALLET).status_code == 302

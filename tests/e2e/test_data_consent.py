"""Consent in the browser, from an offer to an acknowledged purge: the demo provider's
personal dataset (built through the services, its records carrying the demo residents' DIDs)
gets an offer from its publisher's page; the municipality requests access and signs; the
resident consents in the wallet; the municipality downloads; the resident revokes; the next
download is refused; the municipality acknowledges the purge and the resident's wallet shows
it acknowledged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from governance.models import Membership
from marketplace.data.models import Agreement, Offer, PurgeRequest
from marketplace.data.services import HostedFile, dataset_create, dataset_version_add
from marketplace.models import Provider
from tests.factories import dataset_metadata

from .conftest import (
    DEMO_CITY,
    DEMO_PASSWORD,
    DEMO_RESIDENT,
    pass_second_factor,
    prepare_context,
)

DEMO_PROVIDER = "provider@demo.smartb.fr"
DEMO_CONSUMER = "mairie@demo.smartb.fr"
SUBJECTS = [DEMO_RESIDENT, "lea@demo.smartb.fr", "hugo@demo.smartb.fr", "ines@demo.smartb.fr"]
TITLE = "Trajets vélo des abonnés"
OFFERS_URL = f"/c/{DEMO_CITY}/data/offers/"


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error allowed."""
    errors = []

    def open_page(*, javascript: bool = True):
        context = new_context(java_script_enabled=javascript)
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    assert errors == [], errors


@pytest.fixture(autouse=True)
def data_root(tmp_path, settings):
    settings.SMARTB_DATA_ROOT = str(tmp_path / "data")


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


def personal_dataset():
    """The provider's dataset of trips, one record per demo resident (by DID)."""
    owner = Provider.objects.get(name="Vélo Services").owner
    members = {
        m.user.email: m
        for m in Membership.objects.select_related("identity", "user").filter(
            city__slug=DEMO_CITY, user__email__in=SUBJECTS, status="approved"
        )
    }
    dids = [members[email].identity.did for email in SUBJECTS]
    lines = ["subject,date,km"] + [f"{did},2026-04-01,{n + 3}" for n, did in enumerate(dids)]
    dataset = dataset_create(
        by=owner,
        city=members[DEMO_RESIDENT].city,
        metadata=dataset_metadata(title=TITLE),
        publisher_kind="provider",
        provider=Provider.objects.get(name="Vélo Services"),
        is_personal=True,
        subject_dids=dids,
    )
    content = ("\n".join(lines) + "\n").encode()
    dataset_version_add(
        by=owner,
        dataset=dataset,
        files=[HostedFile(content=[content], format="CSV", media_type="text/csv")],
    )
    return dataset, dids


def my_row(page):
    return page.get_by_test_id("consent-row").filter(has_text=TITLE)


@pytest.mark.django_db(transaction=True)
def test_publish_request_consent_download_revoke_refuse_purge(open_browser, demo_ledger):
    dataset, dids = personal_dataset()

    # 1. The provider makes an offer on its dataset, from its publisher's page.
    provider = open_browser()
    log_in(provider, DEMO_PROVIDER)
    provider.goto(f"{OFFERS_URL}new/{dataset.public_id}/")
    provider.get_by_label("Title").fill("Trajets pour la planification")
    provider.get_by_label("Pricing").select_option("free")
    provider.get_by_label("read the data").first.check()
    provider.get_by_label("sell it").check()
    provider.get_by_label("Purposes allowed").fill("urban-planning")
    provider.get_by_label("Duration of an agreement (days)").fill("90")
    provider.get_by_label("The consumer deletes the data after (days)").fill("30")
    provider.get_by_role("button", name="Publish the offer").click()
    expect(provider.locator("#messages")).to_contain_text("Offer published")
    offer = Offer.objects.get(dataset=dataset)
    expect(provider.get_by_test_id("offer-policy")).to_contain_text(offer.policy["uid"])

    # 2. The municipality requests access and signs the agreement with its DID.
    consumer = open_browser()
    log_in(consumer, DEMO_CONSUMER)
    consumer.goto(f"{OFFERS_URL}o/{offer.public_id}/")
    consumer.get_by_role("button", name="Get a quote").click()
    expect(consumer.get_by_test_id("quote-total")).to_contain_text("0")
    consumer.get_by_label("urban-planning").check()
    consumer.get_by_role("button", name="Accept and sign the agreement").click()
    expect(consumer.locator("#messages")).to_contain_text("Agreement signed")
    agreement = Agreement.objects.get(offer=offer)
    card = consumer.locator(f"#agreement-{agreement.public_id}")
    expect(card.get_by_test_id("consent-progress")).to_have_text("0 given · 0 refused · 4 pending")
    page_text = consumer.locator("main").inner_text()
    assert not any(did in page_text for did in dids)  # counts, never who

    # 3. The resident consents in the wallet (no JavaScript: plain forms).
    resident = open_browser(javascript=False)
    log_in(resident, DEMO_RESIDENT)
    resident.goto("/me/data/")
    my_row(resident).get_by_role("button", name="I consent").click()
    expect(my_row(resident).get_by_test_id("consent-status")).to_have_text("given")

    # 4. The municipality downloads: only the resident's record flows.
    consumer.reload()
    expect(card.get_by_test_id("consent-progress")).to_have_text("1 given · 0 refused · 3 pending")
    with consumer.expect_download() as download:
        card.get_by_role("button", name="Download the data").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert dids[0] in content
    assert not any(did in content for did in dids[1:])

    # 5. The resident revokes; the very next download is refused.
    resident.goto("/me/data/")
    my_row(resident).get_by_role("button", name="Revoke").click()
    expect(my_row(resident).get_by_test_id("consent-status")).to_have_text("revoked")
    consumer.goto(f"{OFFERS_URL}a/{agreement.public_id}/")
    card.get_by_role("button", name="Download the data").click()
    expect(consumer.get_by_test_id("download-refused")).to_contain_text(
        "No data subject has consented"
    )

    # 6. The municipality acknowledges the purge; the resident's wallet shows it.
    consumer.goto(f"{OFFERS_URL}agreements/")
    purge = PurgeRequest.objects.get(agreement=agreement)
    card.get_by_test_id("purge-request").get_by_role(
        "button", name="I deleted it: acknowledge"
    ).click()
    expect(consumer.locator("#messages")).to_contain_text("Deletion acknowledged")
    purge.refresh_from_db()
    assert purge.status == "acknowledged"
    resident.goto("/me/data/")
    expect(my_row(resident).get_by_test_id("purge-status")).to_contain_text("acknowledged")

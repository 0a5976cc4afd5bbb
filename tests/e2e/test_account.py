"""Accounts: sign up and see my DID; log in as the demo resident and attest a document."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from identity.models import Attestation, User

from .conftest import DEMO_PASSWORD, DEMO_RESIDENT

PASSWORD = "Un-long-mot-de-passe-42"
DID_KEY = re.compile(r"^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$")


@pytest.mark.django_db(transaction=True)
def test_sign_up_then_see_my_did_on_my_profile(page, english):
    email = "lea.moreau@example.fr"
    page.goto("/accounts/signup/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    # Logged in: the navigation offers "Log out" and "My profile", no longer "Log in".
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    expect(nav.get_by_role("link", name="Log in")).to_have_count(0)

    nav.get_by_role("link", name="My profile").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    did = page.get_by_test_id("did")
    expect(did).to_have_count(1)
    expect(did).to_have_text(DID_KEY)

    user = User.objects.get(email=email)
    assert did.inner_text().strip() == user.primary_identity.did


@pytest.mark.django_db(transaction=True)
def test_demo_resident_attests_a_document(page, english, demo_ledger):
    document = b"Avis sur la rue scolaire, quartier Boutonnet.\n"
    digest = hashlib.sha256(document).hexdigest()

    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(DEMO_RESIDENT)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/me/$"))

    attest = page.get_by_role("region", name="Attest a document")
    attest.get_by_label("Document").set_input_files(
        {"name": "avis.txt", "mimeType": "text/plain", "buffer": document}
    )
    attest.get_by_role("button", name="Attest", exact=True).click()

    expect(page).to_have_url(re.compile(r"/me/$"))
    success = page.locator("#messages li.success")
    expect(success).to_have_count(1)
    expect(success).to_contain_text(re.compile(r"Attested: transaction \d+ on the \w+ chain"))
    listed = attest.get_by_text(digest)
    expect(listed).to_be_visible()

    attestation = Attestation.objects.select_related("entry__chain").get(
        identity__user__email=DEMO_RESIDENT, digest=digest
    )
    entry = attestation.entry
    expect(success).to_contain_text(f"transaction {entry.index} on the {entry.chain.slug} chain")
    # The attestation links to its ledger transaction.
    link = attest.get_by_role("listitem").filter(has_text=digest).get_by_role("link")
    expect(link).to_have_attribute("href", f"/ledger/{entry.chain.slug}/entries/{entry.index}/")

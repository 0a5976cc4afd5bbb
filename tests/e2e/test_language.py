"""The language switch in the header: French by default, English on demand, and back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.django_db(transaction=True)
def test_switch_between_french_and_english(page):
    html = page.locator("html")
    page.goto("/")
    expect(html).to_have_attribute("lang", "fr")
    expect(page.locator("#language-select")).to_have_value("fr")

    page.locator("#language-select").select_option("en")
    page.locator("#language-submit").click()

    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/$"))  # set_language brings us back to the page
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to SMART B")
    expect(page.get_by_role("link", name="Open the ledger explorer")).to_be_visible()
    # The select is labelled (an accessible name), and shows the current language.
    select = page.get_by_label("Language", exact=True)
    expect(select).to_have_value("en")

    # The choice sticks while browsing.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ledger").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ledger explorer")

    select.select_option("fr")
    page.locator("#language-submit").click()
    expect(html).to_have_attribute("lang", "fr")
    expect(page).to_have_url(re.compile(r"/ledger/$"))
    expect(page.locator("#language-select")).to_have_value("fr")

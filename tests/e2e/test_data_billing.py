"""The municipality staff's data billing page in the browser: from the municipality portal to
the city's bank account (the demo's fictitious one), a wrong IBAN shown on the form, then a
new account saved and signed on the city's ledger."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.data.models import CreditorAccount

from .conftest import DEMO_CITY, DEMO_PASSWORD, pass_second_factor

DEMO_STAFF = "mairie@demo.smartb.fr"


@pytest.mark.django_db(transaction=True)
def test_staff_change_the_citys_bank_account(page, demo_ledger):
    before = CreditorAccount.objects.get(city__slug=DEMO_CITY)
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(DEMO_STAFF)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    pass_second_factor(page, DEMO_STAFF)
    expect(page).to_have_url(re.compile(r"/me/$"))

    page.goto(f"/c/{DEMO_CITY}/admin/")
    page.get_by_test_id("data-billing-link").click()
    expect(page).to_have_url(re.compile(rf"/c/{DEMO_CITY}/data/offers/billing/$"))
    expect(page.get_by_test_id("creditor-account")).to_contain_text("FR18 3000 6000 01DE MO34")

    form = page.get_by_test_id("creditor-form")
    form.locator("input[name=holder_name]").fill("Ville de Montpellier (autre compte fictif)")
    form.locator("input[name=iban]").fill("FR18 3000 6000 01DE MO34 0000 145")  # bad checksum
    form.locator("button[type=submit]").click()
    expect(page.locator(".form-errors[role=alert]")).to_contain_text("IBAN")
    assert CreditorAccount.objects.get(pk=before.pk).entry_id == before.entry_id

    form.locator("input[name=iban]").fill("DE89 3704 0044 0532 0130 00")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("creditor-account")).to_contain_text("DE89 3704 0044 0532 0130 00")
    after = CreditorAccount.objects.select_related("entry").get(pk=before.pk)
    assert after.entry.payload["replaces"] == before.digest
    assert after.entry.payload["iban_last4"] == "3000"

"""Municipality staff see their city's validators: in the demo, 3 of 4 (the platform, the
city's DID and two providers' custodial DIDs) co-sign montpellier's blocks, all final."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.models import City
from ledger.selectors import validator_set_at

from .conftest import DEMO_CITY, DEMO_PASSWORD, pass_second_factor

DEMO_STAFF = "mairie@demo.smartb.fr"


@pytest.mark.django_db(transaction=True)
def test_staff_see_their_validators(page, demo_ledger):
    in_force = validator_set_at(chain=demo_ledger, height=demo_ledger.block_count)
    assert (in_force.size, in_force.quorum) == (4, 3)
    city = City.objects.get(slug=DEMO_CITY)
    assert city.identity.did in in_force

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(DEMO_STAFF)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    pass_second_factor(page, DEMO_STAFF)
    expect(page).to_have_url(re.compile(r"/me/$"))

    page.goto(f"/c/{DEMO_CITY}/admin/")
    page.get_by_test_id("validators-link").click()
    expect(page).to_have_url(re.compile(rf"/c/{DEMO_CITY}/admin/validators/$"))
    rows = page.get_by_test_id("validator")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("validator-table")).to_contain_text(city.identity.did)
    expect(page.get_by_test_id("validator-quorum")).to_contain_text("3")
    head = demo_ledger.block_count - 1
    expect(page.get_by_test_id(f"block-status-{head}").locator("[data-final=true]")).to_be_visible()

    # The explorer shows the same set and each block's signatures.
    page.locator(f'a[href="/ledger/{DEMO_CITY}/blocks/{head}/"]').first.click()
    expect(page).to_have_url(re.compile(rf"/ledger/{DEMO_CITY}/blocks/{head}/$"))
    expect(page.get_by_test_id("block-status").locator("[data-final=true]")).to_be_visible()
    page.goto(f"/ledger/{DEMO_CITY}/")
    expect(page.get_by_test_id("validator-list").get_by_test_id("validator")).to_have_count(4)

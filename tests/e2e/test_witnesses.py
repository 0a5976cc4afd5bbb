"""Municipality staff see the witnesses of their city's checkpoint: in the demo, Sète
co-signs montpellier's latest checkpoint (and montpellier Sète's), shown on the city's
witnessing page and in the ledger explorer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from witnesses.models import Cosignature

from .conftest import DEMO_CITY, DEMO_PASSWORD, pass_second_factor

DEMO_STAFF = "mairie@demo.smartb.fr"


@pytest.mark.django_db(transaction=True)
def test_staff_see_the_witnesses_of_their_checkpoint(page, demo_ledger):
    cosigned = Cosignature.objects.get(relation__chain=demo_ledger, relation__witness__slug="sete")
    assert cosigned.tree_size == demo_ledger.sealed_size

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(DEMO_STAFF)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    pass_second_factor(page, DEMO_STAFF)
    expect(page).to_have_url(re.compile(r"/me/$"))

    # The city's witnessing page: Sète witnesses our checkpoint, which carries its line.
    page.goto(f"/witnesses/{DEMO_CITY}/")
    witnessed_by = page.get_by_test_id("witnessed-by")
    expect(witnessed_by.get_by_test_id("witness-sete")).to_be_visible()
    expect(witnessed_by.get_by_test_id("witness-sete")).to_contain_text(str(cosigned.tree_size))
    text = page.locator("#witnessed-checkpoint").inner_text()
    assert cosigned.line.strip() in text
    # Staff also see the ledgers the city witnesses, and may check them now.
    expect(page.get_by_test_id("watched-logs").locator("tbody tr")).to_have_count(2)
    page.get_by_test_id("check-now").click()
    expect(page).to_have_url(re.compile(rf"/witnesses/{DEMO_CITY}/$"))
    expect(page.locator("#messages li").first).to_be_visible()

    # The ledger explorer shows who co-signed the latest checkpoint, linking to the witness.
    page.goto(f"/ledger/{DEMO_CITY}/")
    witnesses = page.get_by_test_id("checkpoint-witnesses")
    row = witnesses.get_by_test_id("cosignature")
    expect(row).to_have_count(1)
    expect(row.locator('a[href="/witnesses/sete/"]')).to_be_visible()
    expect(row).to_contain_text(cosigned.witness_did[:20])

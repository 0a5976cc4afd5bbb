"""Verifying a receipt, with JavaScript (HTMX swaps #result) and without (plain form posts)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_CITY, prepare_context

JS = pytest.param(True, id="js")
NO_JS = pytest.param(False, id="no-js")


def tampered(receipt: dict) -> dict:
    """The same receipt with one hex character of its leaf hash changed."""
    leaf = receipt["leaf_hash"]
    flipped = "1" if leaf[0] == "0" else "0"
    return {**receipt, "leaf_hash": flipped + leaf[1:]}


@pytest.fixture(params=[JS, NO_JS])
def verify_page(request, new_context, base_url, demo_ledger):
    """A page in English, with JavaScript on or off (`page.javascript`)."""
    context = new_context(java_script_enabled=request.param)
    prepare_context(context, base_url, english=True)
    page = context.new_page()
    page.javascript = request.param
    return page


def submit(page, text: str):
    """Paste `text` on the verify page and submit it. With JavaScript, check that HTMX posted
    it and that the page was not reloaded (#result is swapped in place). Returns the response."""
    page.get_by_label("Receipt (JSON)").fill(text)
    button = page.locator("#receipt-submit")
    if not page.javascript:
        with page.expect_navigation() as navigation:
            button.click()
        return navigation.value
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(
        lambda r: r.url.endswith("/ledger/verify/") and r.request.method == "POST"
    ) as posted:
        button.click()
    assert posted.value.request.headers.get("hx-request") == "true"
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling')")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded, not swapped"
    return posted.value


@pytest.mark.django_db(transaction=True)
def test_verify_a_receipt_then_a_tampered_one(verify_page):
    page = verify_page
    page.goto(f"/ledger/{DEMO_CITY}/entries/3/")
    receipt = json.loads(page.locator("#receipt").inner_text())

    # "Verify this receipt" posts the receipt to the verify page (a plain form, also with JS).
    page.get_by_role("main").get_by_role("button", name="Verify this receipt").click()
    expect(page).to_have_url(re.compile(r"/ledger/verify/$"))
    result = page.locator("#result")
    expect(result.get_by_role("status")).to_contain_text("The receipt holds.")
    expect(result.get_by_role("status")).to_contain_text("recorded in this ledger")
    expect(result.get_by_role("listitem")).to_have_count(4)
    expect(result.locator("li.bad")).to_have_count(0)
    assert json.loads(page.get_by_label("Receipt (JSON)").input_value()) == receipt

    # One hex character of the leaf hash changed: the audit path no longer leads to the root.
    submit(page, json.dumps(tampered(receipt), indent=2))
    expect(result.get_by_role("alert")).to_contain_text("The receipt does not hold.")
    expect(result.get_by_role("status")).to_have_count(0)
    expect(result.locator("li.bad")).not_to_have_count(0)


@pytest.mark.parametrize(
    "verify_page",
    [
        pytest.param(
            True,
            id="js",
            marks=pytest.mark.xfail(
                strict=True,
                reason="BUG: the view answers 400 to non-JSON and htmx 2 does not swap 4xx "
                "responses, so #result is not updated; remove this mark once fixed",
            ),
        ),
        NO_JS,
    ],
    indirect=True,
)
@pytest.mark.django_db(transaction=True)
def test_verify_rejects_text_that_is_not_json(verify_page):
    page = verify_page
    page.goto("/ledger/verify/")
    response = submit(page, "this is not a receipt {")
    assert response.status == 400
    alert = page.locator("#result").get_by_role("alert")
    expect(alert).to_contain_text("Not checked:", timeout=1_000)
    expect(alert).to_contain_text("This is not JSON.")

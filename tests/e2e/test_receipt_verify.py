"""Verifying a receipt, with JavaScript (HTMX swaps #result) and without (plain form posts)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_CITY, prepare_context


def tampered(receipt: dict) -> dict:
    """The same receipt with one hex character of its leaf hash changed."""
    leaf = receipt["leaf_hash"]
    flipped = "1" if leaf[0] == "0" else "0"
    return {**receipt, "leaf_hash": flipped + leaf[1:]}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
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
    # A locator, not wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)
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


@pytest.mark.django_db(transaction=True)
def test_verify_rejects_text_that_is_not_json(verify_page):
    page = verify_page
    page.goto("/ledger/verify/")
    # The view answers 400; with JavaScript, htmx must swap that answer in too (base.html
    # configures htmx to swap 4xx responses: by default it drops them, showing nothing).
    response = submit(page, "this is not a receipt {")
    assert response.status == 400
    alert = page.locator("#result").get_by_role("alert")
    expect(alert).to_contain_text("Not checked:", timeout=1_000)
    expect(alert).to_contain_text("This is not JSON.")


@pytest.mark.django_db(transaction=True)
def test_check_a_receipt_in_the_browser_without_the_server(new_context, base_url, demo_ledger):
    """WebCrypto recomputes the proof and the checkpoint signature; no request is made."""
    context = new_context()
    prepare_context(context, base_url, english=True)
    page = context.new_page()
    page.goto(f"/ledger/{DEMO_CITY}/entries/5/")
    receipt = json.loads(page.locator("#receipt").inner_text())
    page.goto("/ledger/verify/")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    browser_button = page.locator("#receipt-check-browser")
    expect(browser_button).to_be_visible()
    result = page.locator("#result")

    page.get_by_label("Receipt (JSON)").fill(json.dumps(receipt))
    browser_button.click()
    expect(result).to_have_attribute("data-checked-in", "browser")
    expect(result.get_by_role("status")).to_contain_text("checked in your browser")
    expect(result.locator("li.ok")).to_have_count(4)

    page.get_by_label("Receipt (JSON)").fill(json.dumps(tampered(receipt)))
    browser_button.click()
    expect(result.get_by_role("alert")).to_contain_text("does not hold")
    expect(result.locator("li.bad")).to_have_count(1)

    # A checkpoint signed by a key that is not the chain's validator is refused.
    forged = {**receipt, "checkpoint": receipt["checkpoint"].replace("\u2014 ", "\u2014 x")}
    page.get_by_label("Receipt (JSON)").fill(json.dumps(forged))
    browser_button.click()
    expect(result.get_by_role("alert")).to_contain_text("does not hold")
    assert posts == [], "the browser check must not ask the server"

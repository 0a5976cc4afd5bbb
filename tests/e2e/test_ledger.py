"""The public ledger explorer: chains, checkpoint, blocks, transactions and their receipts."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .conftest import DEMO_CITY


@pytest.mark.django_db(transaction=True)
def test_browse_chain_block_transaction_and_receipt(page, demo_ledger):
    page.goto("/")
    page.get_by_role("navigation").first.locator('a[href="/ledger/"]').click()
    expect(page).to_have_url(re.compile(r"/ledger/$"))
    chains = page.get_by_role("table")
    expect(chains.get_by_role("cell").filter(has_text=DEMO_CITY).first).to_be_visible()

    chains.get_by_role("link", name=demo_ledger.name).click()
    expect(page).to_have_url(re.compile(rf"/ledger/{DEMO_CITY}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(demo_ledger.name)

    # The checkpoint: a C2SP signed note, origin line first, then "— <key> <signature>" lines.
    checkpoint = page.locator("#checkpoint")
    expect(checkpoint).to_be_visible()
    lines = checkpoint.inner_text().splitlines()
    assert lines[0] == f"{settings.SMARTB_LEDGER_ORIGIN}/{DEMO_CITY}"
    assert lines[1] == str(demo_ledger.size)
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", lines[2]), lines  # base64 Merkle root
    signatures = [line for line in lines if line.startswith("\u2014 ")]
    assert signatures, lines
    assert all(line.split(" ")[1].startswith(lines[0]) for line in signatures), signatures

    # A block, then one of its transactions.
    page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(page).to_have_url(re.compile(rf"/ledger/{DEMO_CITY}/blocks/\d+/$"))
    height = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(height))
    expect(page.get_by_role("main").locator("pre")).to_contain_text(lines[0])

    tx_link = page.get_by_role("table").get_by_role("link", name=re.compile(r"^\d+$")).first
    index = int(tx_link.inner_text())
    tx_link.click()
    expect(page).to_have_url(re.compile(rf"/ledger/{DEMO_CITY}/entries/{index}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(index))

    receipt_box = page.locator("#receipt")
    expect(receipt_box).to_be_visible()
    receipt = json.loads(receipt_box.inner_text())
    assert receipt["chain"] == DEMO_CITY
    assert receipt["leaf_index"] == index
    assert receipt["tx_hash"] == page.locator("#tx-hash").inner_text().strip()
    assert receipt["tree_size"] == demo_ledger.size
    assert receipt["checkpoint"].splitlines()[0] == lines[0]

    # The breadcrumb leads back to the chain.
    page.get_by_role("navigation").filter(has_text=DEMO_CITY).get_by_role(
        "link", name=DEMO_CITY
    ).click()
    expect(page).to_have_url(re.compile(rf"/ledger/{DEMO_CITY}/$"))

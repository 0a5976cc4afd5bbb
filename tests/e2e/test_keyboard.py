"""The core flows with the keyboard alone: Tab, Shift+Tab, Enter and Space, no mouse and no
typed address after the first page. The demo resident skips to the main content, signs in,
revokes a consent in the personal-data wallet, votes on the open proposal, and verifies the
vote's receipt; every element reached shows a visible focus ring (its computed outline).

Elements are found by href, name or id, never by text: the test runs in French, the default.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from governance.models import Ballot, Proposal
from marketplace.data.models import Consent

from .conftest import DEMO_CITY, DEMO_PASSWORD, DEMO_RESIDENT

CITY_URL = f"/c/{DEMO_CITY}/"
OPEN_PROPOSAL = "Rue scolaire avenue de Toulouse"
FOCUSED = """(selector) => {
  const element = document.activeElement;
  return Boolean(element && element !== document.body && element.matches(selector));
}"""
# The focus ring: a keyboard focus (:focus-visible) drawn with a real outline.
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    element: element.outerHTML.slice(0, 120),
    focusVisible: element.matches(":focus-visible"),
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    drawn: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""


def assert_focus_visible(page) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring["focusVisible"] and ring["drawn"] and ring["onScreen"], ring


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 150) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`; its focus must
    be visible."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(FOCUSED, selector):
            assert_focus_visible(page)
            return
    raise AssertionError(f"{key} × {limit} never reached {selector} (on {page.url})")


def follow(page, href: str, *, backwards: bool = False) -> None:
    """Tab to the link to `href` and press Enter."""
    tab_to(page, f'a[href="{href}"]', backwards=backwards)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{re.escape(href)}$"))


@pytest.mark.django_db(transaction=True)
def test_sign_in_revoke_a_consent_vote_and_verify_with_the_keyboard_alone(page, demo_ledger):
    consent = Consent.objects.get(subject__user__email=DEMO_RESIDENT, status="given")
    proposal = Proposal.objects.get(city__slug=DEMO_CITY, title=OPEN_PROPOSAL)
    proposal_url = f"{CITY_URL}p/{proposal.public_id}/"
    page.goto("/")  # the only address typed

    # 1. The first Tab reaches the skip link, visible; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED, "a.skip-link[href='#main']")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED, "main#main")

    # 2. Sign in: back up to the header's link, then the form.
    follow(page, "/accounts/login/", backwards=True)
    tab_to(page, "input[name=login]")
    page.keyboard.type(DEMO_RESIDENT)
    tab_to(page, "input[name=password]")
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/me/$"))

    # 3. The wallet, through the city's data catalogue: revoke the given consent.
    follow(page, "/c/")
    follow(page, CITY_URL)
    follow(page, f"{CITY_URL}data/")
    follow(page, "/me/data/")
    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first: Enter on OK
    tab_to(page, f"#consent-{consent.public_id} form[action$='/revoke/'] button")
    page.keyboard.press("Enter")
    row = page.locator(f"#consent-{consent.public_id}")
    expect(row.get_by_test_id("consent-status")).to_have_class(re.compile(r"\bbad\b"))
    consent.refresh_from_db()
    assert consent.status == "revoked"

    # 4. Vote yes on the open proposal: Space checks the radio, Enter sends the form.
    follow(page, "/c/", backwards=True)
    follow(page, CITY_URL)
    follow(page, proposal_url)
    tab_to(page, "#vote-panel input[name=choice][value=yes]")
    page.keyboard.press("Space")
    expect(page.locator("#vote-panel input[name=choice][value=yes]")).to_be_checked()
    tab_to(page, "#vote-panel form button[type=submit]")
    page.keyboard.press("Enter")
    panel = page.locator("#vote-panel")
    expect(panel.locator("[role=status]")).to_be_visible()
    ballot = Ballot.objects.select_related("entry").get(
        proposal=proposal, membership__user__email=DEMO_RESIDENT
    )
    assert ballot.choice == "yes"

    # 5. The block is sealed; "Refresh" brings the receipt; the entry's page verifies it.
    call_command("ledger_seal", chain=DEMO_CITY, stdout=_Sink())
    tab_to(page, "#vote-panel .notice a[hx-get]")
    page.keyboard.press("Enter")
    expect(panel.locator("#receipt")).to_be_visible()
    follow(page, f"/ledger/{DEMO_CITY}/entries/{ballot.entry.index}/")
    tab_to(page, "main form[action='/ledger/verify/'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ledger/verify/$"))
    result = page.locator("#result")
    expect(result.get_by_role("status")).to_be_visible()
    expect(result.locator("li.ok")).not_to_have_count(0)
    expect(result.locator("li.bad")).to_have_count(0)


class _Sink:
    """Swallows a management command's output."""

    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass

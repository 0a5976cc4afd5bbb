"""The operator's cooperative in the browser: an investor subscribes shares (a newcomer, the
board admits them), votes yes on the general assembly's approval of the year's accounts, and
once the vote is closed and carried out, finds their line of the distribution with its
arithmetic. No page may throw a JavaScript error or break the Content-Security-Policy.

The cooperative is built here through its services (not seed_demo), so the test depends only
on the cooperative's pages. Elements are found by name, data-testid and href, never by the
text of a new string.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from cooperative.models import Allocation, ShareMovement
from cooperative.services import cooperative_setup, member_of, subscription_admit
from governance.models import Proposal
from governance.selectors import Money
from governance.services import proposal_close, proposal_create, proposal_execute, proposal_open
from tests.cooperative.helpers import ACCOUNTS_DIGEST, admitted
from tests.factories import PASSWORD, UserFactory

from .conftest import prepare_context


@pytest.fixture
def world(transactional_db):
    operator = UserFactory(is_staff=True)
    body = cooperative_setup(operator=operator)
    board = admitted(body, operator, "operators", shares=10, by=operator)
    investor = UserFactory()
    return {"body": body, "operator": operator, "board": board, "investor": investor}


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new (French) browser context; no uncaught JavaScript error and no console
    error (a Content-Security-Policy violation is one) allowed."""
    errors = []

    def open_page():
        context = new_context()
        prepare_context(context, base_url)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
            ),
        )
        return page

    yield open_page
    assert errors == [], errors


def log_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url("**/me/")


def test_an_investor_subscribes_votes_and_sees_the_distribution(world, open_browser):
    investor, board = world["investor"], world["board"]
    page = open_browser()
    log_in(page, investor)

    # Through the site navigation to the cooperative, then to "my shares".
    page.locator("nav.site-nav a[href='/cooperative/']").click()
    page.locator("nav.subnav a[href='/cooperative/me/']").click()
    form = page.get_by_test_id("subscribe-form")
    form.locator("input[name=shares]").fill("12")
    form.locator("input[name=horizon_years]").fill("10")
    form.locator("select[name=college]").select_option("investors")
    page.get_by_test_id("subscribe-submit").click()
    expect(page.get_by_test_id("subscription-pending")).to_be_visible()

    # The board admits the newcomer; the shares are theirs.
    subscription_admit(movement=ShareMovement.objects.get(user=investor), by=world["operator"])
    page.reload()
    expect(page.get_by_test_id("holding-10").get_by_test_id("holding-shares")).to_have_text("12")
    member = member_of(investor, world["body"])

    # The general assembly votes on the 2025 accounts; the investor votes yes in the browser.
    proposal = proposal_create(
        author=board,
        kind="approve_accounts",
        title="Comptes 2025",
        parameters={"year": 2025, "result_cents": 1_000_003, "accounts_digest": ACCOUNTS_DIGEST},
    )
    closes_at = timezone.now() + timedelta(hours=2)
    proposal_open(proposal=proposal, by=board, closes_at=closes_at)
    page.goto("/cooperative/")
    page.locator(f"a[href='/cooperative/p/{proposal.public_id}/']").click()
    page.locator("input[name=choice][value=yes]").check()
    page.get_by_test_id("vote-submit").click()
    expect(page.locator("#vote-panel [role=status]")).to_be_visible()

    # The vote closes at its deadline and the decision is carried out.
    closed = proposal_close(proposal=Proposal.objects.get(pk=proposal.pk), now=closes_at)
    proposal_execute(proposal=closed)
    page.reload()
    expect(page.get_by_test_id("proposal-outcome")).to_be_visible()
    expect(page.get_by_test_id("proposal-distribution")).to_be_visible()

    # The distributions page, then the year's arithmetic with the investor's own line.
    page.locator("nav.subnav a[href='/cooperative/distributions/']").click()
    page.get_by_test_id("distribution-2025").locator("th a").click()
    expect(page.get_by_test_id("dist-cap")).to_contain_text("= 425001")
    allocation = Allocation.objects.get(membership=member)
    with translation.override("fr"):
        amount = str(Money(allocation.amount_cents))
    mine = page.locator("tr", has=page.get_by_test_id("dist-mine"))
    expect(mine.get_by_test_id("dist-amount")).to_have_text(amount)
    assert allocation.amount_cents == 425_001  # the only investor receives the whole cap

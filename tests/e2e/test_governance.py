"""A city's governance in the browser: join the demo city and be approved by the municipality,
vote (with and without JavaScript) and verify the receipt, read the results of a closed vote,
and the doors that stay shut (the municipality portal, voting while logged out).

The demo resident votes on the demo's open proposal: a person approved after that vote opened
is not in its electorate (the roster is frozen when a vote opens), which the first test checks.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from governance.models import Ballot, Membership, MembershipStatus, Proposal, ProposalStatus
from governance.services import proposal_close, vote_cast

from .conftest import (
    DEMO_CITY,
    DEMO_PASSWORD,
    DEMO_RESIDENT,
    pass_second_factor,
    prepare_context,
)

DEMO_STAFF = "mairie@demo.smartb.fr"
DEMO_PROVIDER = "provider@demo.smartb.fr"
OPEN_PROPOSAL = "Rue scolaire avenue de Toulouse"
CITY_URL = f"/c/{DEMO_CITY}/"


@pytest.fixture
def open_browser(new_context, base_url):
    """Open a page in a new, English browser context: `open_browser(javascript=False)`.
    No page may throw an uncaught JavaScript error (checked at the end of the test)."""
    errors = []

    def open_page(*, javascript: bool = True):
        context = new_context(java_script_enabled=javascript)
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    assert errors == [], errors


@pytest.fixture
def open_proposal(demo_ledger) -> Proposal:
    return Proposal.objects.get(city__slug=DEMO_CITY, title=OPEN_PROPOSAL)


def proposal_url(proposal: Proposal) -> str:
    return f"{CITY_URL}p/{proposal.public_id}/"


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


def messages(page):
    return page.locator("#messages li")


# --- 1. join the city ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_join_the_city_and_be_approved_by_the_municipality(open_browser, open_proposal):
    email, password = "alix.fabre@example.fr", "Un-long-mot-de-passe-42"
    newcomer = open_browser()
    newcomer.goto("/accounts/signup/")
    newcomer.get_by_label("Email", exact=True).fill(email)
    newcomer.get_by_label("Password", exact=True).fill(password)
    newcomer.get_by_label("Password (again)", exact=True).fill(password)
    newcomer.get_by_role("button", name="Sign Up").click()
    expect(newcomer).to_have_url(re.compile(r"/me/$"))

    # The city's home page invites a visitor who is not a member to join.
    newcomer.goto(CITY_URL)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Montpellier")
    newcomer.get_by_role("link", name="Join this city").click()
    expect(newcomer).to_have_url(re.compile(rf"{CITY_URL}join/$"))
    expect(newcomer.get_by_role("main")).to_contain_text("34000")  # the city's postal codes
    newcomer.get_by_label("Residents", exact=True).check()
    newcomer.get_by_label("Postal address").fill("12 rue de l'Université")
    newcomer.get_by_label("Postal code").fill("34000")
    newcomer.get_by_role("button", name="Send my request").click()

    expect(newcomer).to_have_url(re.compile(rf"{CITY_URL}$"))
    expect(messages(newcomer)).to_have_text(
        ["Your request was sent. The municipality staff will check it."]
    )
    pending = newcomer.locator(".notice.warn")
    expect(pending).to_contain_text("Your request to join the residents college is waiting")
    membership = Membership.objects.get(user__email=email, city__slug=DEMO_CITY)
    assert membership.status == MembershipStatus.PENDING
    newcomer.goto("/me/")
    expect(newcomer.get_by_role("region", name="My credentials")).to_contain_text(
        "No credential yet."
    )

    # The municipality staff, in another browser, check the address and approve.
    staff = open_browser()
    log_in(staff, DEMO_STAFF)
    staff.goto(CITY_URL)
    staff.get_by_role("navigation", name="Montpellier: sections").get_by_role(
        "link", name="Municipality portal"
    ).click()
    expect(staff).to_have_url(re.compile(rf"{CITY_URL}admin/$"))
    requests = staff.get_by_role("region", name=re.compile(r"^Requests to check"))
    row = requests.get_by_role("row").filter(has_text=email)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("12 rue de l'Université")
    expect(row).to_contain_text("in the city")  # 34000 is one of the city's postal codes
    row.get_by_role("button", name="Approve").click()

    expect(staff).to_have_url(re.compile(rf"{CITY_URL}admin/$"))
    expect(messages(staff)).to_have_text(["Membership approved; its credential is issued."])
    expect(requests.get_by_role("row").filter(has_text=email)).to_have_count(0)
    members = staff.get_by_role("region", name=re.compile(r"^Members"))
    expect(members.get_by_role("row").filter(has_text=email)).to_have_count(1)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.APPROVED

    # The newcomer is now a member, and holds the city's membership credential.
    newcomer.goto(CITY_URL)
    expect(newcomer.locator(".notice.ok")).to_contain_text(
        "You are a member of the residents college."
    )
    expect(newcomer.get_by_role("link", name="Make a proposal")).to_be_visible()
    newcomer.goto("/me/")
    credential = newcomer.get_by_role("region", name="My credentials").get_by_role("listitem")
    expect(credential).to_have_count(1)
    expect(credential).to_contain_text("CityMembershipCredential")
    expect(credential).to_contain_text("valid")

    # The vote already open froze its electorate before the approval: no vote there.
    newcomer.goto(proposal_url(open_proposal))
    panel = newcomer.locator("#vote-panel")
    expect(panel).to_contain_text("you are not in its electorate")
    expect(panel.get_by_role("radio")).to_have_count(0)


# --- 2. vote and verify the receipt ----------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.django_db(transaction=True)
def test_vote_then_verify_my_receipt(open_browser, open_proposal, javascript, tmp_path):
    page = open_browser(javascript=javascript)
    log_in(page, DEMO_RESIDENT)
    page.goto(CITY_URL)
    page.get_by_role("region", name="Latest proposals").get_by_role(
        "link", name=OPEN_PROPOSAL
    ).click()
    expect(page).to_have_url(re.compile(rf"{proposal_url(open_proposal)}$"))

    panel = page.locator("#vote-panel")
    expect(panel.get_by_role("group", name="My vote")).to_be_visible()
    panel.get_by_label("Yes", exact=True).check()
    vote = panel.get_by_role("button", name="Sign and cast my vote")
    if javascript:
        # HTMX posts the vote and swaps the panel in place: the page is not reloaded.
        page.evaluate("window.__sameDocument = true")
        with page.expect_response(
            lambda r: r.url.endswith("/vote/") and r.request.method == "POST"
        ) as posted:
            vote.click()
        assert posted.value.status == 200
        assert posted.value.request.headers.get("hx-request") == "true"
        expect(panel).to_contain_text("You voted “yes”")
        assert page.evaluate("window.__sameDocument === true"), "reloaded, not swapped"
    else:
        # A plain form post, then back to the proposal's vote panel with a message.
        with page.expect_navigation():
            vote.click()
        expect(page).to_have_url(re.compile(rf"{proposal_url(open_proposal)}#vote-panel$"))
        expect(messages(page)).to_have_text(["Your vote is recorded and signed."])
        expect(panel).to_contain_text("You voted “yes”")

    ballot = Ballot.objects.select_related("entry").get(
        proposal=open_proposal, membership__user__email=DEMO_RESIDENT
    )
    assert ballot.choice == "yes"
    expect(panel).to_contain_text(ballot.entry.tx_hash)
    # Changing one's vote is allowed by the rules: the form stays, as "Change my vote".
    expect(panel.get_by_role("group", name="Change my vote")).to_be_visible()
    expect(panel).to_contain_text("Waiting for the block to be sealed")
    expect(panel.locator("#receipt")).to_have_count(0)

    # The block is sealed; "Refresh" brings the receipt (an HTMX swap, or a plain link).
    call_command("ledger_seal", chain=DEMO_CITY, stdout=_Sink())
    panel.get_by_role("link", name="Refresh", exact=True).click()
    receipt_box = panel.locator("#receipt")
    expect(receipt_box).to_be_visible()
    shown = json.loads(receipt_box.inner_text())
    assert shown["chain"] == DEMO_CITY
    assert shown["leaf_index"] == ballot.entry.index
    assert shown["tx_hash"] == ballot.entry.tx_hash

    with page.expect_download() as download_info:
        panel.get_by_role("link", name="Download my receipt (JSON)").click()
    download = download_info.value
    assert re.fullmatch(
        rf"receipt-{DEMO_CITY}-{open_proposal.public_id}-{ballot.entry.index}\.json",
        download.suggested_filename,
    ), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = Path(saved).read_text()
    assert json.loads(text) == shown

    # Paste it on the verify page: the server checks it, then (with JavaScript) the browser.
    panel.get_by_role("link", name="Verify a receipt").click()
    expect(page).to_have_url(re.compile(r"/ledger/verify/$"))
    page.get_by_label("Receipt (JSON)").fill(text)
    page.locator("#receipt-submit").click()
    result = page.locator("#result")
    expect(result.get_by_role("status")).to_contain_text("The receipt holds.")
    expect(result.get_by_role("status")).to_contain_text("recorded in this ledger")
    expect(result.locator("li.bad")).to_have_count(0)
    expect(result.locator("li.ok")).not_to_have_count(0)

    browser_check = page.locator("#receipt-check-browser")
    if not javascript:
        return  # "Check in my browser" needs JavaScript: see the test below
    expect(page.get_by_label("Receipt (JSON)")).to_have_value(text)
    browser_check.click()
    expect(result).to_have_attribute("data-checked-in", "browser")
    expect(result.get_by_role("status")).to_contain_text("checked in your browser")
    expect(result.locator("li.bad")).to_have_count(0)
    expect(result.locator("li.ok")).not_to_have_count(0)

    # My votes lists the ballot, with its receipt now that the block is sealed.
    page.goto(f"{CITY_URL}my-votes/")
    row = page.get_by_role("row").filter(has_text=OPEN_PROPOSAL)
    expect(row).to_contain_text("Yes")
    expect(row.get_by_role("link", name=f"#{ballot.entry.index}")).to_be_visible()
    expect(row.get_by_role("link", name="Download (JSON)")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_check_in_my_browser_is_not_offered_without_javascript(open_browser):
    """Without JavaScript the button would do nothing: it keeps its `hidden` attribute."""
    page = open_browser(javascript=False)
    page.goto("/ledger/verify/")
    browser_check = page.locator("#receipt-check-browser")
    expect(browser_check).to_have_attribute("hidden", "")
    expect(browser_check).to_be_hidden(timeout=1_000)


class _Sink:
    """Swallows a management command's output."""

    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass


# --- 3. the vote closes: results and their arithmetic -----------------------------------


def _percent(text: str) -> Fraction:
    """ "66.67 %" (as displayed, two decimals) -> Fraction("66.67")."""
    return Fraction(text.replace("%", "").replace("\u00a0", "").strip())


@pytest.mark.django_db(transaction=True)
def test_closed_vote_shows_the_results_and_their_arithmetic(open_browser, open_proposal):
    # Before the close: the demo resident and the municipality vote yes, the provider no.
    votes = ((DEMO_RESIDENT, "yes"), (DEMO_STAFF, "yes"), (DEMO_PROVIDER, "no"))
    for email, choice in votes:
        member = Membership.objects.get(user__email=email, city__slug=DEMO_CITY)
        vote_cast(proposal=open_proposal, member=member, choice=choice)
    page = open_browser()
    page.goto(proposal_url(open_proposal))
    expect(page.locator("#results")).to_have_count(0)

    closed = proposal_close(
        proposal=open_proposal, now=open_proposal.closes_at + timedelta(minutes=1)
    )
    assert closed.status == ProposalStatus.ACCEPTED
    open_proposal.refresh_from_db()
    # Accepted, then executed by the (eager) Celery task: a general proposal has no effect.
    assert open_proposal.status == ProposalStatus.EXECUTED
    tally = open_proposal.tally

    page.reload()
    results = page.locator("#results")
    expect(results.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_role("main").locator(".badge").first).to_have_text("executed")
    expect(page.locator("#vote-panel")).to_contain_text("The vote is closed.")
    expect(page.locator("#vote-panel").get_by_role("radio")).to_have_count(0)
    expect(page.locator("#debate")).to_contain_text("The debate is closed.")

    # The table by college, read from the page, holds the recorded tally.
    table = results.get_by_role("table", name="Count by college")
    header = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert header == [
        "College",
        "Electorate",
        "Yes",
        "No",
        "Abstain",
        "Turnout",
        "Quorum",
        "Counts?",
        "Weight",
        "Support",
    ]
    rows = {}
    for row in table.locator("tbody tr").all():
        name = row.get_by_role("rowheader").inner_text().strip()
        rows[name] = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
    assert set(rows) == {"Residents", "Providers", "Municipality"}, rows
    # Residents: Léa yes, Hugo no, the curator yes (the seed), the demo resident yes.
    residents = rows["Residents"]
    assert residents[:4] == [str(tally["colleges"]["residents"]["electorate"]), "3", "1", "0"]
    assert residents[6] == "counts"
    assert rows["Municipality"][:4] == ["1", "1", "0", "0"]
    assert rows["Providers"][:4] == ["1", "0", "1", "0"]

    # Redo the arithmetic from what the page shows: every figure follows from the table.
    counting = []
    for name, cells in rows.items():
        electorate, yes, no, abstain = (int(c) for c in cells[:4])
        turnout, quorum = _percent(cells[4]), _percent(cells[5])
        weight, support = int(cells[7]), _percent(cells[8])
        voted = yes + no + abstain
        assert abs(turnout - Fraction(100 * voted, electorate)) <= Fraction(1, 200), name
        counts = turnout >= quorum and yes + no > 0
        assert (cells[6] == "counts") == counts, (name, cells)
        if counts:
            assert abs(support - Fraction(100 * yes, yes + no)) <= Fraction(1, 200), name
            counting.append((weight, Fraction(100 * yes, yes + no)))
    assert len(counting) == 3, rows  # every college reached its quorum
    result = sum(w * s for w, s in counting) / sum(w for w, _ in counting)

    outcome = results.locator(".notice")
    expect(outcome).to_have_class(re.compile(r"\bok\b"))
    expect(outcome).to_contain_text("Accepted")
    shown = re.search(
        r"weighted result ([\d.]+) % against a threshold of (\d+) %", outcome.inner_text()
    )
    assert shown, outcome.inner_text()
    assert abs(Fraction(shown[1]) - result) <= Fraction(1, 200)
    threshold = int(shown[2])
    assert threshold == tally["approval_threshold_percent"]
    assert result > threshold
    assert result == 60  # (40 × 75 % + 30 × 0 % + 30 × 100 %) ÷ 100, with the default rules

    # The formula line: (w × s % + w × s %) ÷ total weight = result % > threshold %.
    formula = results.locator("p.mono").inner_text()
    expected = " + ".join(f"{w} × {_two(s)} %" for w, s in counting)
    total = sum(w for w, _ in counting)
    assert formula.strip() == f"({expected}) ÷ {total} = {_two(result)} % > {threshold} %", formula
    expect(results).to_contain_text(f"weighted result = {tally['weighted_result']}")


def _two(value: Fraction) -> str:
    """Two decimals, half up, like Django's floatformat:2 on the recorded percentages."""
    hundredths = (value * 100 + Fraction(1, 2)).__floor__()
    return f"{hundredths // 100}.{hundredths % 100:02d}"


# --- 4. the doors that stay shut -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_resident_cannot_open_the_municipality_portal(open_browser, demo_ledger):
    page = open_browser()
    log_in(page, DEMO_RESIDENT)
    page.goto(CITY_URL)
    sections = page.get_by_role("navigation", name="Montpellier: sections")
    expect(sections.get_by_role("link", name="Proposals")).to_be_visible()
    expect(sections.get_by_role("link", name="Municipality portal")).to_have_count(0)

    response = page.goto(f"{CITY_URL}admin/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("main")).not_to_contain_text("Requests to check")

    # Nor approve a request by posting the portal's form (the pending demo request).
    pending = Membership.objects.get(city__slug=DEMO_CITY, status=MembershipStatus.PENDING)
    token = _csrf_token(page)
    refused = page.request.post(
        f"{CITY_URL}admin/memberships/{pending.public_id}/approve/",
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )
    assert refused.status == 403
    pending.refresh_from_db()
    assert pending.status == MembershipStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visitor_is_sent_to_log_in_to_vote(open_browser, open_proposal):
    page = open_browser()
    url = proposal_url(open_proposal)
    page.goto(url)
    panel = page.locator("#vote-panel")
    expect(panel.get_by_role("radio")).to_have_count(0)
    expect(panel).to_contain_text("to vote, if you are a member of this city.")

    # A vote posted anyway (the form of a page left open after logging out) goes to log in.
    posted = page.request.post(
        f"{url}vote/",
        form={"choice": "yes"},
        headers={"X-CSRFToken": _csrf_token(page)},
        max_redirects=0,
    )
    assert posted.status == 302
    assert posted.headers["location"].startswith("/accounts/login/?next=")
    assert not Ballot.objects.filter(proposal=open_proposal, membership__user__email=DEMO_RESIDENT)
    # So does the join page.
    page.goto(f"{CITY_URL}join/")
    expect(page).to_have_url(re.compile(rf"/accounts/login/\?next={re.escape(CITY_URL)}join/$"))

    # The panel's "Log in" link comes back to the proposal, where the member may vote.
    page.goto(url)
    panel.get_by_role("link", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/accounts/login/\?next={re.escape(url)}$"))
    page.get_by_label("Email", exact=True).fill(DEMO_RESIDENT)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(url)}$"))
    expect(panel.get_by_role("group", name="My vote")).to_be_visible()


def _csrf_token(page) -> str:
    """The CSRF cookie of the page's context (Django accepts it as the token, over HTTP)."""
    for cookie in page.context.cookies():
        if cookie["name"] == "csrftoken":
            return cookie["value"]
    raise AssertionError("no CSRF cookie: the page rendered no form")

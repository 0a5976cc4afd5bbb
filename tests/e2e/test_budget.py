"""A participatory budget in the browser: a resident of the demo city picks projects within
the budget and casts the ballot (with JavaScript: a running total warns over the budget and
HTMX swaps the vote panel; without: a plain form post); after the close the results page
ranks the projects and says which are funded, as the recorded tally does."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance import services
from governance.budget import ProjectFields, budget_call_create, budget_vote_cast
from governance.models import Ballot, Membership, Proposal, ProposalStatus

from .conftest import DEMO_CITY, DEMO_PASSWORD, DEMO_RESIDENT, prepare_context

CITY_URL = f"/c/{DEMO_CITY}/"
DEMO_STAFF = "mairie@demo.smartb.fr"
DEMO_PROVIDER = "provider@demo.smartb.fr"
BUDGET = 2_000_000  # 20,000 €
PROJECTS = [  # title, cost in cents
    ("Potager partagé", 1_200_000),
    ("Bancs ombragés", 900_000),
    ("Nichoirs", 500_000),
    ("Fontaine", 300_000),
]


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error allowed."""
    errors = []

    def open_page(*, javascript: bool = True):
        context = new_context(java_script_enabled=javascript)
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    assert errors == [], errors


def member(email: str) -> Membership:
    return Membership.objects.get(user__email=email, city__slug=DEMO_CITY, status="approved")


@pytest.fixture
def budget_call(demo_ledger) -> Proposal:
    """An open budget call of 20,000 € by the municipality, with four projects."""
    mairie = member(DEMO_STAFF)
    recipient = member(DEMO_PROVIDER).identity.did
    call = budget_call_create(
        author=mairie,
        title="Budget participatif 2028",
        body="Vos projets pour les parcs.",
        budget_cents=BUDGET,
        projects=[
            ProjectFields(title=title, cost_cents=cost, recipient=recipient)
            for title, cost in PROJECTS
        ],
    )
    return services.proposal_open(
        proposal=call, by=mairie, closes_at=timezone.now() + timedelta(hours=48)
    )


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/me/$"))


def project_box(panel, title: str):
    return panel.get_by_role("checkbox", name=re.compile(rf"^{re.escape(title)} — "))


def ids_of(call: Proposal, *titles: str) -> list[str]:
    by_title = dict(call.budget_projects.values_list("title", "public_id"))
    return sorted(by_title[title] for title in titles)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.django_db(transaction=True)
def test_a_resident_picks_projects_and_the_results_rank_and_fund_them(
    open_browser, budget_call, javascript
):
    page = open_browser(javascript=javascript)
    log_in(page, DEMO_RESIDENT)
    page.goto(f"{CITY_URL}p/{budget_call.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget participatif 2028")
    projects = page.get_by_role("region", name="Participatory budget")
    expect(projects).to_contain_text("20,000.00")
    panel = page.locator("#vote-panel")
    expect(panel.get_by_role("group", name="The projects I support")).to_be_visible()
    expect(panel.get_by_role("checkbox")).to_have_count(4)
    cast = panel.get_by_role("button", name="Sign and cast my vote")

    if javascript:
        # 12,000 + 9,000 is over the budget: the running total says so, and the server too.
        project_box(panel, "Potager partagé").check()
        project_box(panel, "Bancs ombragés").check()
        total = page.locator("#budget-total")
        expect(total).to_be_visible()
        expect(total.locator("output")).to_have_text("21000.00")
        expect(total).to_have_class(re.compile(r"\bbad\b"))
        with page.expect_response(lambda r: r.url.endswith("/budget-vote/")) as refused:
            cast.click()
        assert refused.value.status == 400
        expect(panel).to_contain_text("The projects you picked cost more than the budget.")
        assert not Ballot.objects.filter(proposal=budget_call).exists()
        project_box(panel, "Bancs ombragés").uncheck()
        project_box(panel, "Nichoirs").check()
        project_box(panel, "Fontaine").check()
        expect(page.locator("#budget-total output")).to_have_text("20000.00")
        expect(page.locator("#budget-total")).not_to_have_class(re.compile(r"\bbad\b"))
        page.evaluate("window.__sameDocument = true")
        with page.expect_response(lambda r: r.url.endswith("/budget-vote/")) as posted:
            cast.click()
        assert posted.value.status == 200
        assert posted.value.request.headers.get("hx-request") == "true"
        expect(panel).to_contain_text("You cast your ballot on")
        assert page.evaluate("window.__sameDocument === true"), "reloaded, not swapped"
    else:
        for title in ("Potager partagé", "Nichoirs", "Fontaine"):
            project_box(panel, title).check()
        with page.expect_navigation():
            cast.click()
        expect(page).to_have_url(re.compile(r"#vote-panel$"))
        expect(page.locator("#messages li")).to_have_text(["Your vote is recorded and signed."])

    picks = panel.locator("#my-picks")
    for title in ("Potager partagé", "Nichoirs", "Fontaine"):
        expect(picks).to_contain_text(title)
    expect(picks).not_to_contain_text("Bancs ombragés")
    ballot = Ballot.objects.get(proposal=budget_call, membership__user__email=DEMO_RESIDENT)
    assert ballot.selection == ids_of(budget_call, "Potager partagé", "Nichoirs", "Fontaine")
    # My votes lists the ballot with the projects it picks.
    page.goto(f"{CITY_URL}my-votes/")
    row = page.get_by_role("row").filter(has_text="Budget participatif 2028")
    expect(row).to_contain_text("Projects I picked:")
    expect(row).to_contain_text("Nichoirs")

    # Others vote; the treasury receives a grant; the call closes (and is paid).
    for email, titles in (
        ("lea@demo.smartb.fr", ("Bancs ombragés", "Nichoirs", "Fontaine")),
        (DEMO_PROVIDER, ("Bancs ombragés", "Fontaine")),
        (DEMO_STAFF, ("Potager partagé", "Nichoirs")),
    ):
        budget_vote_cast(
            proposal=budget_call, member=member(email), project_ids=ids_of(budget_call, *titles)
        )
    services.treasury_move(
        city=budget_call.city,
        label="Dotation budget participatif 2028",
        postings=[("bank", BUDGET), ("grants", -BUDGET)],
    )
    services.proposal_close(proposal=budget_call, now=budget_call.closes_at + timedelta(minutes=1))
    budget_call.refresh_from_db()
    assert budget_call.status == ProposalStatus.EXECUTED, budget_call.failure_reason

    page.goto(f"{CITY_URL}p/{budget_call.public_id}/")
    ranking = page.get_by_role("table", name="Ranking of the projects")
    rows = [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in ranking.locator("tbody tr").all()
    ]
    # Fontaine and Nichoirs 70 % (the cheaper first), Bancs and Potager 50 %: Fontaine,
    # Nichoirs and Bancs cost 17,000 €; Potager (12,000 €) no longer fits in the 3,000 € left.
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("1", "Fontaine", "70.00 %", "funded"),
        ("2", "Nichoirs", "70.00 %", "funded"),
        ("3", "Bancs ombragés", "50.00 %", "funded"),
        ("4", "Potager partagé", "50.00 %", "not funded"),
    ]
    titles = dict(budget_call.budget_projects.values_list("public_id", "title"))
    recorded = budget_call.tally
    assert [(titles[r["project"]], r["funded"]) for r in recorded["ranking"]] == [
        (r[1], r[4] == "funded") for r in rows
    ]
    expect(page.locator("#budget")).to_contain_text("Funded: 17,000.00 € of 20,000.00 €.")
    expect(page.locator("#vote-panel")).to_contain_text("The vote is closed.")
    expect(page.locator("#vote-panel").get_by_role("checkbox")).to_have_count(0)

"""Impact simulation in the browser: municipality staff build two scenarios, compare them,
attach one to a proposal put to vote; a resident sees its expected impact on the proposal's
page.

The city is built here through the services (not seed_demo), like tests/e2e/test_impact.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.services import city_create
from impact.models import Methodology
from impact.services import impact_load_catalogue
from impact.simulation.models import ScenarioAttachment
from tests.factories import PASSWORD, UserFactory
from tests.governance.helpers import POSTAL_CODES, appoint, draft, join, open_vote

from .conftest import pass_second_factor, prepare_context

CITY = "bourg"
PROPOSAL = "Rénover le lavoir"
CYCLING = "cycling-instead-of-car__"  # the scenario form's prefix of its parameter fields


@pytest.fixture
def world(transactional_db):
    """A city with its staff, a resident, and a proposal open to vote."""
    impact_load_catalogue()
    operator = UserFactory(is_staff=True)
    city = city_create(
        operator=operator, slug=CITY, name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )
    mayor = appoint(city, operator)
    resident = join(city, "residents", by=mayor.user)
    proposal = open_vote(draft(mayor))
    return {"city": city, "mayor": mayor, "resident": resident, "proposal": proposal}


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error and no console
    error (a Content-Security-Policy violation is one) allowed."""
    errors = []

    def open_page():
        context = new_context()
        prepare_context(context, base_url, english=True)
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
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, user.email)
    expect(page).to_have_url(re.compile(r"/me/$"))


def build_scenario(page, title: str, years: str) -> None:
    page.goto(f"/c/{CITY}/impact/")
    page.get_by_role("navigation", name="Impact: sections").get_by_role(
        "link", name="Scenarios", exact=True
    ).click()
    page.get_by_role("link", name="Build a scenario").click()
    cycling = Methodology.objects.get(code="cycling-instead-of-car", version=1)
    page.locator(f"input[name=methodology][value='{cycling.public_id}']").check()
    page.locator("#choose-methodologies").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Investment").select_option("cycle_lane")
    page.get_by_label("Cost (€)").fill("10000")
    page.get_by_label("Yearly savings (€)").fill("1000")
    page.get_by_label("First year").fill("2027")
    page.locator("input[name=years]").fill(years)
    page.get_by_label("Ramp-up years").fill("2")
    page.get_by_label("Districts").fill("centre")
    page.locator(f"input[name={CYCLING}low_distance_km]").fill("30000")
    page.locator(f"input[name={CYCLING}expected_distance_km]").fill("50000")
    page.locator(f"input[name={CYCLING}high_distance_km]").fill("70000")
    page.locator(f"input[name={CYCLING}fallback_price_cents]").fill("8")
    page.locator("#simulate").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator("svg.chart__svg").first).to_be_visible()


def test_staff_build_compare_attach_and_a_resident_sees_it(world, open_browser):
    staff = open_browser()
    log_in(staff, world["mayor"].user)
    build_scenario(staff, "Piste courte", "3")
    expect(staff.locator("#roi-impact")).to_contain_text("5,070")  # hand-computed: −5070 bp
    build_scenario(staff, "Piste longue", "5")

    staff.get_by_role("link", name="Scenarios", exact=True).first.click()
    staff.get_by_label(re.compile("Compare Piste courte")).check()
    staff.get_by_label(re.compile("Compare Piste longue")).check()
    staff.get_by_role("button", name="Compare").click()
    table = staff.locator("#compare-table")
    expect(table).to_contain_text("Piste courte")
    expect(table).to_contain_text("Piste longue")
    expect(staff.get_by_test_id("compare-chart-0").locator("svg")).to_be_visible()
    expect(staff.get_by_test_id("compare-chart-value").locator("svg")).to_be_visible()
    expect(staff.get_by_role("link", name="Download as CSV")).to_be_visible()

    staff.get_by_role("link", name="Piste courte").click()
    # After deployment: the forecast against certified impact, with its chart and table.
    staff.locator("#forecast-link").click()
    expect(staff.get_by_test_id("forecast-chart")).to_be_visible()
    expect(staff.locator("#forecast-table-cycling-instead-of-car")).to_contain_text("2027")
    expect(staff.get_by_test_id("forecast-csv")).to_be_visible()
    staff.go_back()
    staff.get_by_role("combobox", name="Proposal").select_option(label=PROPOSAL)
    staff.get_by_role("button", name="Attach to the proposal").click()
    expect(staff.locator("#messages li")).to_contain_text("attached")
    assert ScenarioAttachment.objects.filter(proposal=world["proposal"]).count() == 1

    resident = open_browser()
    log_in(resident, world["resident"].user)
    resident.goto(f"/c/{CITY}/p/{world['proposal'].public_id}/")
    section = resident.locator("#expected-impact")
    expect(section).to_contain_text("Piste courte")
    expect(section).to_contain_text("Expected impact")

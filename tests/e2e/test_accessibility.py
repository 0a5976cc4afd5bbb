"""Accessibility: axe-core (WCAG 2.1 A and AA) finds no serious or critical violation on any
page of the site, in French and in English.

The pages: every visitor of `VISITORS` (anonymous, then the demo's accounts, each logged in)
opens its entry points and follows the site's links, and each page pattern (URL route) is
checked once per language, by the first visitor who reaches it. Which pages is kept honest by
`test_every_page_the_browser_tests_open_is_checked`: every HTML page that another browser test
of the same session opens must be one the sweep checked (tests/e2e/conftest.py records them
on the live server).

A page that only a later step reaches (a new section of the site, a page behind a form) is one
line: its path in the entry points of the visitor who may open it.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import Error, expect

from .accessibility import axe_violations, describe
from .conftest import (
    DEMO_CITY,
    DEMO_PASSWORD,
    DEMO_RESIDENT,
    pages_opened,
    pass_second_factor,
    prepare_context,
)

CITY = f"/c/{DEMO_CITY}"
# (the account, or None for an anonymous visitor; where the visit starts). The first visitor to
# reach a page pattern checks it: the owners of private pages come before the public visitor.
# `{name}` is an id of the demo city (`demo_ids`): pages that only their owner reaches.
VISITORS = [
    (
        DEMO_RESIDENT,
        [
            "/me/",
            "/me/data/",
            "/me/data/erase/",
            f"{CITY}/",
            f"{CITY}/my-votes/",
            f"{CITY}/impact/portfolio/",
            "/ledger/verify/",
            "/cooperative/me/",
        ],
    ),
    (
        "provider@demo.smartb.fr",
        [
            "/apps/provider/",
            f"{CITY}/data/",
            f"{CITY}/data/new/",
            f"{CITY}/data/d/{{dataset}}/versions/new/",
            f"{CITY}/data/d/{{dataset}}/links/new/",
            f"{CITY}/data/v/{{version}}/files/",
            f"{CITY}/data/offers/new/{{dataset}}/",
            f"{CITY}/data/offers/a/{{agreement}}/",
        ],
    ),
    ("donnees@demo.smartb.fr", [f"{CITY}/data/curation/"]),
    ("curator@demo.smartb.fr", [f"{CITY}/impact/queue/"]),
    ("investisseur@demo.smartb.fr", [f"{CITY}/impact/market/"]),
    (
        "mairie@demo.smartb.fr",
        [
            f"{CITY}/admin/",
            f"{CITY}/admin/apps/",
            f"{CITY}/impact/",
            f"{CITY}/impact/dashboard/",
            f"{CITY}/data/offers/q/{{quote}}/",
            f"{CITY}/impact/scenarios/",
            f"{CITY}/impact/scenarios/new/",
            f"{CITY}/impact/scenarios/compare/?scenarios={{scenario}}&scenarios={{scenario2}}",
            f"{CITY}/impact/scenarios/{{scenario}}/forecast/",
            f"{CITY}/admin/validators/",
            f"{CITY}/data/offers/billing/",
            f"/witnesses/{DEMO_CITY}/",
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/2fa/",
            "/accounts/reauthenticate/",
            "/accounts/2fa/reauthenticate/",
        ],
    ),
    (
        "operator@demo.smartb.fr",
        ["/operator/", f"{CITY}/join/", "/cooperative/", "/cooperative/board/"],
    ),
    (
        None,
        [
            "/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
            "/ledger/",
            f"{CITY}/proposals/",
        ],
    ),
]


# Violations on pages whose templates another change owns, waiting for its fix: (URL route,
# axe rule id) -> what to do. The sweep tolerates them and fails once they are gone, so that
# this list only shrinks.
KNOWN: dict[tuple[str, str], str] = {}

# Pages that ask again for the password (or the authenticator's code) first.
BEHIND_REAUTHENTICATION = {
    DEMO_RESIDENT: ["/accounts/2fa/totp/activate/"],
    "mairie@demo.smartb.fr": ["/accounts/2fa/recovery-codes/"],
}


def demo_ids() -> dict[str, str]:
    """Public ids of the demo city's objects that the entry points name; and what the demo
    lacks: a quote of the municipality on the provider's offer (as test_data_consent.py asks
    for), two scenarios to compare, and recovery codes of the municipality staff (the page a
    new staff member meets after setting up the authenticator: test_security.py)."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from governance.models import City
    from identity.models import User
    from marketplace.data.models import Agreement, Dataset
    from marketplace.data.services.contracts import quote_create
    from tests.impact_simulation.helpers import known_scenario

    dataset = Dataset.objects.get(publisher_provider__owner__email="provider@demo.smartb.fr")
    city = City.objects.get(slug=DEMO_CITY)
    mairie = User.objects.get(email="mairie@demo.smartb.fr")
    RecoveryCodes.activate(mairie)
    scenarios = [known_scenario(city, mairie, draws=100, title=t) for t in ("A", "B")]
    quote = quote_create(offer=dataset.offers.get(status="active"), consumer=mairie)
    return {
        "dataset": dataset.public_id,
        "version": dataset.versions.first().public_id,
        "quote": quote.public_id,
        "agreement": Agreement.objects.get(offer__dataset=dataset).public_id,
        "scenario": scenarios[0].public_id,
        "scenario2": scenarios[1].public_id,
    }


# Files, not pages (a download aborts the navigation); pages that are not the site's own
# (Django admin, DRF's browsable API, Swagger UI drawn from the schema); the logout page (it
# would end the visitor's session).
SKIPPED = re.compile(
    r"\.(json|csv|ttl|jsonld|pem|txt)$|/export|/download/|^/admin/|^/api/|^/accounts/logout/"
)
NOT_THE_SITES = re.compile(r"^(admin/|api/)")


def route_of(path: str) -> str | None:
    try:
        return resolve(path).route
    except Resolver404:
        return None


def log_in(page, email: str, checked: dict[str, str], problems: list[str]) -> None:
    """Sign in; an account with an authenticator meets the second-factor page: checked too."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    check(page, checked, problems)
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


def check(page, checked: dict[str, str], problems: list[str]) -> bool:
    """Run axe on the page unless its route (where the browser landed) was checked already."""
    route = route_of(urlsplit(page.url).path)
    if route is None or route in checked:
        return False
    checked[route] = page.url
    found = []
    for violation in axe_violations(page):
        if (route, violation["id"]) in KNOWN:
            SEEN_KNOWN.add((route, violation["id"]))
        else:
            found.append(violation)
    if found:
        problems.append(describe(page.url, found))
    return True


def open_after_reauthenticating(page, email: str, url: str, checked, problems) -> None:
    """Open `url`; if the site asks to confirm who we are, check that page, answer it (the
    password, or the authenticator's code), then check the page asked for."""
    from identity.models import User
    from tests.security.support import totp_code

    page.goto(url)
    if "/reauthenticate/" in page.url:
        check(page, checked, problems)
        code = page.locator("main input[name=code]")
        if code.count():
            code.fill(totp_code(User.objects.get(email=email)))
            code.press("Enter")
        else:
            page.locator("main input[name=password]").fill(DEMO_PASSWORD)
            page.locator("main input[name=password]").press("Enter")
        page.wait_for_url(lambda landed: "/reauthenticate/" not in landed)
    check(page, checked, problems)


def sweep(page, entry_points: list[str], checked: dict[str, str], problems: list[str]) -> None:
    """Open the entry points and follow the site's links; run axe on each page whose route is
    not in `checked` yet (route -> the URL checked)."""
    queue = list(entry_points)
    while queue:
        url = urldefrag(queue.pop(0)).url
        path = urlsplit(url).path
        route = route_of(path)
        if route is None or route in checked or SKIPPED.search(path):
            continue
        try:
            response = page.goto(url)
        except Error:  # a file download
            continue
        if response is None or not response.ok:
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        if not check(page, checked, problems):
            continue  # sent elsewhere, to a page already checked
        for link in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            if link.startswith("/") and not link.startswith("//"):
                queue.append(link)


SWEPT: dict[str, set[str]] = {}  # language -> the routes the sweep checked in this session
SEEN_KNOWN: set[tuple[str, str]] = set()  # the KNOWN violations the sweep met


@pytest.mark.django_db(transaction=True)
def test_no_page_has_a_serious_accessibility_violation(new_context, base_url, demo_ledger):
    """Both languages in one test: the demo city is built once."""
    ids = demo_ids()
    problems: list[str] = []
    for language in ("fr", "en"):
        checked: dict[str, str] = {}
        for email, entry_points in VISITORS:
            context = prepare_context(new_context(), base_url, english=language == "en")
            page = context.new_page()
            if email:
                log_in(page, email, checked, problems)
            sweep(page, [url.format(**ids) for url in entry_points], checked, problems)
            for url in BEHIND_REAUTHENTICATION.get(email, []):
                open_after_reauthenticating(page, email, url, checked, problems)
            expect(page.locator("html")).to_have_attribute("lang", language)
            context.close()
        SWEPT[language] = set(checked)
        print(f"axe-core checked {len(checked)} page patterns in {language}")  # noqa: T201
        assert len(checked) > 40, sorted(checked)
    assert not problems, "axe-core (WCAG 2.1 AA), serious or critical:\n" + "\n".join(problems)
    fixed = sorted(set(KNOWN) - SEEN_KNOWN)
    assert not fixed, f"fixed, remove them from KNOWN: {fixed}"


def test_every_page_the_browser_tests_open_is_checked():
    """Runs last (tests/e2e/conftest.py orders it): the HTML pages the other browser tests of
    this session opened (as the live server answered them) are all pages the sweep checked, in
    both languages."""
    if not SWEPT:
        pytest.skip("the accessibility sweep did not run in this session")
    opened = {
        route: test
        for route, test in pages_opened().items()
        if "test_accessibility.py" not in test and not NOT_THE_SITES.match(route)
    }
    for language, routes in SWEPT.items():
        missing = {route: test for route, test in opened.items() if route not in routes}
        assert not missing, (
            f"pages opened by browser tests but not checked by axe ({language}); add them to "
            f"VISITORS: {missing}"
        )

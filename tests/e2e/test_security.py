"""The strict Content-Security-Policy in a real browser: the site's pages, as an anonymous
visitor, the demo's municipality staff and the operator (both logging in with their
authenticator code), break none of its rules; and an account whose role needs MFA sets its
authenticator up before anything else, on pages that break none either."""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import Error, expect

from tests.factories import PASSWORD, UserFactory
from tests.governance_api.support import appoint
from tests.security.support import code_of

from .conftest import DEMO_CITY, DEMO_PASSWORD, pass_second_factor, prepare_context

ENTRY_POINTS = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/email/",
    "/accounts/2fa/",
    "/api/docs/",
    "/admin/",
    f"/c/{DEMO_CITY}/proposals/",
]
# Files, not pages (a download aborts the navigation), and pages that are not the site's
# (Django admin's own links, DRF's browsable API).
SKIPPED = re.compile(r"\.(json|csv|ttl|jsonld|pem)$|/export|/credentials/|^/admin/.|^/api/v1/")
# A 403 or 404 answer (a page a visitor may not open, Django admin's missing favicon.ico) is
# reported on the console too, but is no script error.
LOAD_FAILED = "Failed to load resource: the server responded with a status of 40"
# Every violation, as the page itself sees it (the event) and as Chromium reports it.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


def route_of(path: str) -> str:
    try:
        return resolve(path).route
    except Resolver404:
        return path


@pytest.fixture
def watched(new_context, base_url):
    """A browser page whose CSP violations, console errors and script errors are recorded."""
    problems: list[str] = []

    def open_page(*, english: bool = True):
        context = prepare_context(new_context(), base_url, english=english)
        context.add_init_script(LISTEN)
        page = context.new_page()

        def on_console(message) -> None:
            if message.type == "error" and not message.text.startswith(LOAD_FAILED):
                problems.append(f"{page.url}: console: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        return page

    open_page.problems = problems
    return open_page


def violations(page) -> list[str]:
    return [f"{page.url}: {v}" for v in page.evaluate("window.__csp || []")]


def visit_site(page) -> list[str]:
    """Open the entry points and follow the site's links, one page per URL pattern; the
    URLs opened."""
    queue, opened, routes = list(ENTRY_POINTS), [], set()
    problems = []
    while queue:
        url = urldefrag(queue.pop(0)).url
        path = urlsplit(url).path
        route = route_of(path)
        if route in routes or (SKIPPED.search(path) and url not in ENTRY_POINTS):
            continue
        routes.add(route)
        try:
            response = page.goto(url)
        except Error:  # a file download
            continue
        opened.append(url)
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        page.wait_for_load_state("load")
        problems += violations(page)
        for link in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            if link.startswith("/") and not link.startswith("//"):
                queue.append(link)
    assert problems == []
    return opened


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


@pytest.mark.parametrize(
    "visitor",
    [None, "mairie@demo.smartb.fr", "operator@demo.smartb.fr"],
    ids=["anonymous", "municipality", "operator"],
)
@pytest.mark.django_db(transaction=True)
def test_the_site_breaks_no_rule_of_its_content_security_policy(
    watched, demo_ledger, settings, visitor
):
    settings.SMARTB_MFA_REQUIRED = True
    page = watched()
    if visitor:
        log_in(page, visitor)
    opened = visit_site(page)
    assert len(opened) > 20, opened
    # Swagger UI draws the API from the schema, with its settings from a script file.
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SMART B API")
    # An HTMX swap: the proposals filter replaces the list in place.
    page.goto(f"/c/{DEMO_CITY}/proposals/")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_role("search").locator("select").first.select_option(index=1)
    assert violations(page) == []
    assert watched.problems == []


@pytest.mark.django_db(transaction=True)
def test_new_staff_set_up_their_authenticator_before_anything_else(watched, demo_ledger, settings):
    settings.SMARTB_MFA_REQUIRED = True
    from django.contrib.auth import get_user_model

    from governance.models import City

    operator = get_user_model().objects.get(email="operator@demo.smartb.fr")
    staff = appoint(City.objects.get(slug=DEMO_CITY), operator, UserFactory()).user
    page = watched()
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(staff.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    # Sent to the setup, which first asks for the password again.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=.*2fa"))
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("img")).to_be_visible()  # the QR code (a data: image)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(code_of(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    page.goto(f"/c/{DEMO_CITY}/admin/")
    expect(page).to_have_url(re.compile(rf"/c/{DEMO_CITY}/admin/$"))
    assert violations(page) == []
    assert watched.problems == []

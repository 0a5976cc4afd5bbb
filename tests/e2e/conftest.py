"""End-to-end browser tests: pytest-playwright drives Debian's Chromium (headless) against
pytest-django's `live_server`.

Run them with `.venv/bin/pytest tests/e2e`. Every test here is marked `e2e` (deselect them with
`-m "not e2e"`). Without /usr/bin/chromium they are skipped, except in CI (CI=true) where a
missing browser is a failure: browsers cannot be downloaded here, Playwright must use that one.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an asyncio event loop in the test thread, so Django believes it is
# in async code and raises SynchronousOnlyOperation on any ORM call made from a test.
# This is the documented workaround for live_server + Playwright (tests only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI") == "true"
MISSING_CHROMIUM = f"{CHROMIUM} is missing: install Debian's chromium package to run e2e tests"

DEMO_PASSWORD = "smartb-demo-2026"
DEMO_RESIDENT = "resident@demo.smartb.fr"
DEMO_CITY = "montpellier"


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder `e2e`, and skip them when there is no browser.

    This hook sees the items of the whole session, so it only touches those under tests/e2e.
    """
    skip = pytest.mark.skip(reason=MISSING_CHROMIUM)
    for item in items:
        if E2E_DIR not in Path(item.path).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if not CHROMIUM.exists() and not IN_CI:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not CHROMIUM.exists():
        # Only reached in CI (elsewhere the tests were skipped at collection): never skip there.
        pytest.fail(f"{MISSING_CHROMIUM} (CI=true: e2e tests must not be skipped)")
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs (page.goto("/ledger/")) go to the live server. Overrides the plugin's
    fixture of the same name, which reads --base-url."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The browser asks for French, like a local resident (otherwise Chromium sends its own
    Accept-Language, usually en-US, and Django would answer in English)."""
    return {**browser_context_args, "locale": "fr-FR"}


def prepare_context(context, base_url: str, *, english: bool = False):
    """Short timeouts (every page is local) and, when asked, the English UI.

    English is chosen with Django's language cookie, what the set_language view stores, so a
    test may then match English strings. The switch itself is tested in test_language.py.
    """
    from django.conf import settings

    context.set_default_timeout(5_000)
    context.set_default_navigation_timeout(10_000)
    if english:
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url}]
        )
    return context


@pytest.fixture
def context(new_context, base_url):
    """The plugin's default context, with short timeouts."""
    return prepare_context(new_context(), base_url)


@pytest.fixture
def english(context, base_url):
    """Use on a test that takes `page`: the browser is switched to English first."""
    return prepare_context(context, base_url, english=True)


def pass_second_factor(page, email: str) -> None:
    """Call after submitting the password: an account with an authenticator (the demo's
    operator, municipality staff and curators: seed_demo) is then asked for its code. Type the
    current one, computed from the secret as the authenticator app does."""
    from allauth.mfa.models import Authenticator

    from tests.security.support import totp_code

    authenticator = Authenticator.objects.filter(user__email=email, type="totp").first()
    if authenticator is None:
        return
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(authenticator.user))
    page.locator("form[action$='/2fa/authenticate/'] button:not([form])").click()


@pytest.fixture
def demo_ledger(transactional_db):
    """The demo city `montpellier` (21 transactions in sealed blocks) and its five accounts."""
    from ledger.models import Chain

    call_command("seed_demo", stdout=io.StringIO())
    return Chain.objects.get(slug=DEMO_CITY)

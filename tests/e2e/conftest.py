"""End-to-end browser tests: pytest-playwright drives Debian's Chromium (headless) against
pytest-django's `live_server`.

Run them with `.venv/bin/pytest tests/e2e`. Every test here is marked `e2e` (deselect them with
`-m "not e2e"`). Without /usr/bin/chromium they are skipped, except in CI (CI=true) where a
missing browser is a failure: browsers cannot be downloaded here, Playwright must use that one.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.db_snapshot import DatabaseSnapshot

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
    # The check that axe saw every page the other browser tests open runs after them.
    last = [item for item in items if (Path(item.path).name, item.originalname) == LAST]
    for item in last:
        items.remove(item)
        items.append(item)


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


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city, built once per session (`seed_demo` takes seconds): a snapshot of the
    database right after it, and the folder of the encrypted dataset files it wrote.

    Built with the settings of the session (before any test's `settings` changes) in the
    source language, as `english_outside_requests` does for a test; the database is then put
    back as it was, so this fixture leaves no row behind whatever the next test is.
    """
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import translation

    files = tmp_path_factory.mktemp("demo-data")
    with django_db_blocker.unblock():
        before = DatabaseSnapshot.take(connection)
        with override_settings(SMARTB_DATA_ROOT=str(files)), translation.override("en"):
            call_command("seed_demo", stdout=io.StringIO())
        demo = DatabaseSnapshot.take(connection)
        before.restore()
        before.close()
    yield demo, files
    demo.close()


@pytest.fixture
def demo_ledger(transactional_db, _demo_snapshot):
    """The demo city `montpellier` (its chain, in sealed blocks) and its accounts.

    The database is put back to the snapshot taken after `seed_demo` (pytest-django flushes
    it after each test, so nothing a test writes reaches the next), the demo's dataset files
    are copied to the test's data root, and what the process keeps about the old rows is
    dropped: the cached content types and sites (ids), and the local cache (the TOTP codes
    already used, login rate limits: the restored accounts keep their ids from test to test).
    """
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from ledger.models import Chain
    from marketplace.data.storage import data_root

    snapshot, files = _demo_snapshot
    snapshot.restore()
    ContentType.objects.clear_cache()
    Site.objects.clear_cache()
    if isinstance(caches["default"], LocMemCache):  # never a shared cache (CACHE_URL)
        caches["default"].clear()
    shutil.copytree(files, data_root(), dirs_exist_ok=True)
    return Chain.objects.get(slug=DEMO_CITY)


# --- the pages the browser tests open (tests/e2e/test_accessibility.py checks them all) ---

_OPENED: dict[str, str] = {}  # URL route -> the first test that opened a page of it
_RECORDING = {"test": ""}  # the test running now ("" outside the tests of this folder)
LAST = ("test_accessibility.py", "test_every_page_the_browser_tests_open_is_checked")


def pages_opened() -> dict[str, str]:
    """The HTML pages the browser tests of this session opened: URL route -> test id. A page
    is what a browser navigates to (a GET asking for HTML, not an HTMX request) and the live
    server answers 200 with HTML."""
    return dict(_OPENED)


@pytest.fixture(scope="session")
def _record_pages_opened():
    """Wrap Django's request handler, in this process (the live server's thread), for the
    session."""
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response

    def get_response(self, request):
        response = original(self, request)
        match = getattr(request, "resolver_match", None)
        if (
            _RECORDING["test"]
            and match is not None
            and request.method == "GET"
            and "HX-Request" not in request.headers
            and "text/html" in request.headers.get("Accept", "")
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
        ):
            _OPENED.setdefault(match.route, _RECORDING["test"])
        return response

    BaseHandler.get_response = get_response
    yield
    BaseHandler.get_response = original


@pytest.fixture(autouse=True)
def _record_this_tests_pages(request, _record_pages_opened):
    _RECORDING["test"] = request.node.nodeid
    yield
    _RECORDING["test"] = ""

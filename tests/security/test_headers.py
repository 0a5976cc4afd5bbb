"""Security headers: every page of the demo sends the strict Content-Security-Policy, as each
kind of visitor; the production settings keep cookies secure and HSTS on."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import drf_spectacular
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from identity.models import User

CSP = "Content-Security-Policy"
# Pages no link leads to (the crawl also follows every link of every page it opens).
ENTRY_POINTS = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/api/docs/",
    "/admin/",
]
PER_ROUTE = 2  # pages opened per URL pattern (two proposals, not all of them)
LINK = re.compile(r'href="([^"]+)"')


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def route_of(path: str) -> str:
    try:
        return resolve(path).route
    except Resolver404:
        return path


def crawl(client: Client) -> dict[str, object]:
    """Open every entry point and follow the site's own links, up to PER_ROUTE pages per URL
    pattern: the responses by URL."""
    queue, responses, per_route = list(ENTRY_POINTS), {}, Counter()
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in responses or path.startswith(("/static/", "/accounts/logout")):
            continue
        route = route_of(path)
        if per_route[route] >= PER_ROUTE:
            continue
        per_route[route] += 1
        response = responses[url] = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            for link in LINK.findall(response.content.decode()):
                link = urldefrag(html.unescape(link)).url
                if link.startswith("/") and not link.startswith("//"):
                    queue.append(link)
    return responses


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo city, loaded once for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "visitor",
    [None, "resident@demo.smartb.fr", "mairie@demo.smartb.fr", "operator@demo.smartb.fr"],
    ids=["anonymous", "resident", "municipality", "operator"],
)
def test_every_page_of_the_demo_sends_the_strict_policy(demo, db, visitor):
    client = Client(raise_request_exception=False)
    if visitor:
        client.force_login(User.objects.get(email=visitor))
    responses = crawl(client)
    assert len(responses) > 40, sorted(responses)  # the crawl did reach the site
    missing = [url for url, response in responses.items() if CSP not in response]
    assert missing == []
    policies = {response[CSP] for response in responses.values()}
    assert len(policies) == 1, policies
    policy = directives(policies.pop())
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_no_page_of_the_demo_has_an_inline_script(demo, db):
    """The header forbids them; a page that had one would break in the browser."""
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(email="resident@demo.smartb.fr"))
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
    found = {
        url: inline.findall(response.content.decode())
        for url, response in crawl(client).items()
        if response["Content-Type"].startswith("text/html")
    }
    assert {url: tags for url, tags in found.items() if tags} == {}


def test_the_swagger_ui_style_hash_is_the_installed_one():
    template = Path(drf_spectacular.__file__).parent / "templates/drf_spectacular/swagger_ui.html"
    style = re.search(r"<style>(.*?)</style>", template.read_text(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    allowed = settings.SMARTB_CSP_SWAGGER_UI_STYLE
    assert allowed == f"'sha256-{digest}'"


def test_the_allowed_style_attributes_are_their_hashes():
    digest = base64.b64encode(hashlib.sha256(b"align-self: flex-end").digest()).decode()
    allowed = settings.SMARTB_CSP_STYLE_ATTRIBUTES
    assert allowed == [f"'sha256-{digest}'"]


def production_settings(*, without: str = "") -> dict:
    """The production settings module's values, imported in a fresh interpreter (with the
    environment variable `without` left out)."""
    names = [
        "DEBUG",
        "SMARTB_DATA_CREDITOR_IBAN",
        "SMARTB_DATA_CREDITOR_FALLBACK",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
        "SMARTB_MFA_REQUIRED",
        "ALLAUTH_TRUSTED_PROXY_COUNT",
        "ACCOUNT_RATE_LIMITS",
        "ACCOUNT_REAUTHENTICATION_REQUIRED",
        "MIDDLEWARE",
    ]
    code = (
        "import json; from smartb.settings import production as p; "
        f"print(json.dumps({{name: getattr(p, name) for name in {names!r}}}))"
    )
    secret = base64.b64encode(b"\0" * 32).decode()
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "test-" + "x" * 60,
        "SMARTB_KEY_ENCRYPTION_KEY": secret,
        "SMARTB_VALIDATOR_KEY_SEED": secret,
        "SMARTB_DATA_KEK": secret,
        "SMARTB_DATA_CREDITOR_NAME": "SMART B",
        "SMARTB_DATA_CREDITOR_IBAN": "FR7630006000011234567890189",
        "SMARTB_DATA_CREDITOR_BIC": "AGRIFRPPXXX",
        "DATABASE_URL": "postgres://smartb@db:5432/smartb",
        "SMARTB_MFA_REQUIRED": "false",  # ignored in production
    }
    env.pop(without, None)
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return json.loads(run.stdout)


def test_production_settings_keep_cookies_secure_hsts_and_mfa_on():
    values = production_settings()
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["LANGUAGE_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_HSTS_PRELOAD"]
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SMARTB_MFA_REQUIRED"] is True
    assert values["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert values["ACCOUNT_RATE_LIMITS"]["login_failed"] == "10/m/ip,5/15m/key"
    assert values["ACCOUNT_REAUTHENTICATION_REQUIRED"] is True
    for middleware in (
        "csp.middleware.CSPMiddleware",
        "smartb.middleware.SessionTimeoutMiddleware",
        "smartb.middleware.MfaRequiredMiddleware",
    ):
        assert middleware in values["MIDDLEWARE"]


def test_production_has_no_development_creditor_account():
    """SEPA files name the platform's account as creditor when a city has none of its own:
    production must be told which, and by default refuses that fallback."""
    values = production_settings()
    assert values["SMARTB_DATA_CREDITOR_IBAN"] == "FR7630006000011234567890189"
    assert values["SMARTB_DATA_CREDITOR_FALLBACK"] is False
    with pytest.raises(subprocess.CalledProcessError) as refused:
        production_settings(without="SMARTB_DATA_CREDITOR_IBAN")
    assert "SMARTB_DATA_CREDITOR_IBAN" in refused.value.stderr

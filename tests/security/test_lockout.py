"""Brute force: allauth's `login_failed` rate limit (smartb/settings/base.py) locks a typed
e-mail out after five failures, right password included, and reads the same whether the
account exists or not. Wrong authenticator codes are limited the same way."""

from __future__ import annotations

import time

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from smartb.settings import base
from tests.factories import PASSWORD, UserFactory

from .support import password_login, totp_activate, totp_code

WRONG = "pas-le-bon-mot-de-passe"
LIMIT = 5  # failures per typed e-mail in base.ACCOUNT_RATE_LIMITS ("5/15m/key")


@pytest.fixture(autouse=True)
def rate_limits(settings):
    """The production limits (the test settings switch them off), on an empty cache."""
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield
    cache.clear()


def browser(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


def refusal(response) -> tuple[int, list[str], list[str]]:
    """What the login page answers: its status, the error codes and the messages shown."""
    errors = response.context["form"].non_field_errors().as_data()
    return response.status_code, [error.code for error in errors], [str(e.message) for e in errors]


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_after_five_failures_the_right_password_is_refused_too(db):
    user = UserFactory()
    client = browser("198.51.100.1")
    for _ in range(LIMIT):
        assert refusal(password_login(client, user.email, WRONG))[1] == ["email_password_mismatch"]
    response = password_login(client, user.email, PASSWORD)
    assert refusal(response)[:2] == (200, ["too_many_login_attempts"])
    assert not logged_in(client)
    assert client.get(reverse("identity:profile")).status_code == 302


def test_the_lockout_holds_from_another_address_too(db):
    """The lock is on the account's e-mail, not on the attacker's address."""
    user = UserFactory()
    for attempt in range(LIMIT):
        password_login(browser(f"198.51.100.{attempt + 10}"), user.email, WRONG)
    client = browser("203.0.113.7")
    assert refusal(password_login(client, user.email, PASSWORD))[1] == ["too_many_login_attempts"]
    assert not logged_in(client)


def test_a_lockout_does_not_tell_whether_the_account_exists(db):
    user = UserFactory()
    known, unknown = browser("198.51.100.2"), browser("198.51.100.3")
    for _ in range(LIMIT + 1):
        answer_known = refusal(password_login(known, user.email, WRONG))
        answer_unknown = refusal(password_login(unknown, "personne@example.org", WRONG))
        assert answer_known == answer_unknown
    assert answer_known[1] == ["too_many_login_attempts"]


def test_fewer_failures_do_not_lock_the_account(db):
    user = UserFactory()
    client = browser("198.51.100.4")
    for _ in range(LIMIT - 1):
        password_login(client, user.email, WRONG)
    assert password_login(client, user.email, PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_lockout_ends_after_its_period(db, monkeypatch):
    user = UserFactory()
    client = browser("198.51.100.5")
    for _ in range(LIMIT):
        password_login(client, user.email, WRONG)

    class Later:
        """allauth's rate limiter reads this clock: the lockout period has gone by."""

        monotonic = staticmethod(time.monotonic)
        sleep = staticmethod(time.sleep)

        @staticmethod
        def time() -> float:
            return time.time() + 15 * 60 + 1

    monkeypatch.setattr(allauth_ratelimit, "time", Later)
    assert password_login(client, user.email, PASSWORD).status_code == 302
    assert logged_in(client)


def test_wrong_authenticator_codes_lock_the_second_step(db):
    user = UserFactory()
    totp_activate(user)
    client = browser("198.51.100.6")
    assert password_login(client, user.email, PASSWORD)["Location"] == reverse("mfa_authenticate")
    for _ in range(LIMIT):
        response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert response.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["code"]] == [
        "too_many_login_attempts"
    ]
    assert not logged_in(client)

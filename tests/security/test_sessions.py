"""Sessions: a new session key at each login (no fixation), an idle and an absolute timeout
(smartb.middleware.SessionTimeoutMiddleware), both read from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from smartb.middleware import LOGIN_AT, SEEN_AT
from tests.factories import UserFactory
from tests.governance_api.support import Api

from .support import full_login, password_login, totp_activate

PROFILE = "/me/"


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def set_session(client: Client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


@pytest.fixture
def signed_in(db):
    """A browser logged in through allauth's form, that has opened one page since."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    password_login(client, UserFactory().email)
    assert client.get(PROFILE).status_code == 200
    return client


def test_the_login_gives_a_new_session_key(db):
    client = Client()
    before = client.session.session_key  # a session from before the login (a fixation)
    assert password_login(client, UserFactory().email).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)


def test_the_second_factor_step_gives_a_new_session_key_too(db):
    user = UserFactory()
    totp_activate(user)
    client = Client()
    password_login(client, user.email)  # the pending login lives in this session
    pending = client.cookies[settings.SESSION_COOKIE_NAME].value
    full_login(client, user)
    assert logged_in(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != pending


def test_the_login_time_and_last_use_are_recorded(signed_in):
    session = signed_in.session
    assert session[LOGIN_AT] <= session[SEEN_AT] <= time.time()


def test_an_idle_session_ends(signed_in):
    set_session(signed_in, **{SEEN_AT: time.time() - settings.SMARTB_SESSION_IDLE_SECONDS - 1})
    response = signed_in.get(PROFILE)
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/me/")
    assert not logged_in(signed_in)
    page = signed_in.get(response["Location"])
    assert "Your session has expired" in page.content.decode()


def test_a_session_used_within_the_idle_limit_goes_on(signed_in):
    set_session(signed_in, **{SEEN_AT: time.time() - settings.SMARTB_SESSION_IDLE_SECONDS + 120})
    assert signed_in.get(PROFILE).status_code == 200
    assert logged_in(signed_in)


def test_a_session_ends_at_the_absolute_limit_even_when_in_use(signed_in):
    set_session(
        signed_in,
        **{LOGIN_AT: time.time() - settings.SMARTB_SESSION_MAX_SECONDS - 1, SEEN_AT: time.time()},
    )
    assert signed_in.get(PROFILE)["Location"] == "/accounts/login/?next=/me/"
    assert not logged_in(signed_in)


def test_an_expired_htmx_request_reloads_the_page_on_the_login(signed_in):
    set_session(signed_in, **{SEEN_AT: time.time() - settings.SMARTB_SESSION_IDLE_SECONDS - 1})
    response = signed_in.get(
        reverse("ledger:chain_list"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/c/bourg/?page=2"},
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fc%2Fbourg%2F%3Fpage%3D2"
    assert not logged_in(signed_in)


def test_the_timeouts_come_from_the_environment():
    code = (
        "import json; from smartb.settings import base; print(json.dumps("
        "[base.SMARTB_SESSION_IDLE_SECONDS, base.SMARTB_SESSION_MAX_SECONDS,"
        " base.SESSION_COOKIE_AGE]))"
    )
    env = {"SMARTB_SESSION_IDLE_SECONDS": "600", "SMARTB_SESSION_MAX_SECONDS": "7200"}
    output = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    ).stdout
    assert json.loads(output) == [600, 7200, 7200]


def test_an_api_call_with_a_token_gets_no_session(db):
    response = Api(UserFactory()).get("/api/v1/ledger/chains/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not SessionStore.get_model_class().objects.exists()

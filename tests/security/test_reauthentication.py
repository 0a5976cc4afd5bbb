"""Re-authentication before what would hand the account over: changing the e-mail address,
the password or the authenticator, exporting a private key. A session opened long ago (here
by force_login, which records no recent proof) must prove the password again first."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from smartb.settings import base
from tests.factories import PASSWORD, UserFactory

from .support import totp_activate

NEW_EMAIL = "nouvelle.adresse@example.org"
REAUTHENTICATE = reverse("account_reauthenticate")


@pytest.fixture
def user(db):
    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def session(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def add_email(client: Client):
    return client.post(reverse("account_email"), {"action_add": "", "email": NEW_EMAIL})


def test_adding_an_email_address_asks_for_the_password_first(session, user):
    response = add_email(session)
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    assert not EmailAddress.objects.filter(email=NEW_EMAIL).exists()

    # A wrong password changes nothing; the right one carries out the request it held.
    assert session.post(response["Location"], {"password": "faux"}).status_code == 200
    assert not EmailAddress.objects.filter(email=NEW_EMAIL).exists()
    session.post(response["Location"], {"password": PASSWORD})
    assert EmailAddress.objects.filter(user=user, email=NEW_EMAIL).exists()


def test_after_a_recent_password_the_change_goes_through(session, user):
    session.post(REAUTHENTICATE, {"password": PASSWORD})
    assert add_email(session).status_code == 302
    assert EmailAddress.objects.filter(user=user, email=NEW_EMAIL).exists()


def test_changing_the_password_needs_the_current_one(session, user):
    response = session.post(
        reverse("account_change_password"),
        {"oldpassword": "faux", "password1": "Nouveau-mot-2026!", "password2": "Nouveau-mot-2026!"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_turning_the_authenticator_off_asks_for_the_password_first(session, user):
    totp_activate(user)
    response = session.post(reverse("mfa_deactivate_totp"))
    assert response["Location"].startswith(REAUTHENTICATE)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_setting_an_authenticator_up_asks_for_the_password_first(session):
    response = session.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(REAUTHENTICATE)
    assert "mfa.totp.secret" not in session.session


def export(client: Client, user, password: str):
    return client.post(
        reverse("identity:key_export"),
        {"did": user.primary_identity.did, "key_format": "jwk", "account_password": password},
    )


def test_a_key_export_asks_for_the_password(session, user):
    refused = export(session, user, "faux")
    assert refused.status_code == 400 and "Content-Disposition" not in refused
    assert export(session, user, PASSWORD)["Content-Disposition"].startswith("attachment;")


def test_guessing_the_password_through_the_key_export_is_rate_limited(session, user, settings):
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS  # "reauthenticate": 10/m/user
    cache.clear()
    for _ in range(10):
        assert export(session, user, "faux").status_code == 400
    response = export(session, user, PASSWORD)
    assert response.status_code == 400 and "Content-Disposition" not in response
    assert "Too many attempts" in response.content.decode()
    cache.clear()


def test_creating_an_api_token_asks_for_the_password_first(session, user):
    """A token acts for the whole account, like a changed e-mail address: a session without
    a recent password proof is sent to re-authenticate, and the token comes after it."""
    from rest_framework.authtoken.models import Token

    response = session.post(reverse("identity:token_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    assert not Token.objects.filter(user=user).exists()

    # A wrong password creates nothing; the right one carries out the request it held.
    assert session.post(response["Location"], {"password": "faux"}).status_code == 200
    assert not Token.objects.filter(user=user).exists()
    session.post(response["Location"], {"password": PASSWORD})
    assert Token.objects.filter(user=user).exists()


def test_after_a_recent_password_an_api_token_is_created(session, user):
    from rest_framework.authtoken.models import Token

    session.post(REAUTHENTICATE, {"password": PASSWORD})
    response = session.post(reverse("identity:token_create"))
    assert response.status_code == 302 and not response["Location"].startswith(REAUTHENTICATE)
    assert Token.objects.filter(user=user).exists()

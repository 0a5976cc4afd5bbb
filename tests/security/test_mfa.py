"""MFA (TOTP, allauth.mfa): the operator, municipality staff and curators cannot use the site
before they set up an authenticator app (smartb.middleware.MfaRequiredMiddleware); a login
with an authenticator takes its code; Django admin's login form sends to allauth's."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.governance_api.support import Api, assert_error

from .support import code_of, full_login, password_login, roles_build, totp_activate, totp_code

MUST_USE_MFA = ["operator", "staff", "curator", "data_curator"]
FREE = ["resident", "provider", "former_curator"]
SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.SMARTB_MFA_REQUIRED = True


@pytest.fixture
def roles(db):
    return roles_build()


def account(roles, role: str):
    member = getattr(roles, role)
    return member if role == "operator" else member.user


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def pages(roles) -> list[str]:
    return [
        reverse("home"),
        reverse("identity:profile"),
        reverse("governance:city_home", args=[roles.city.slug]),
        reverse("ledger:chain_list"),
    ]


@pytest.mark.parametrize("role", MUST_USE_MFA)
def test_a_role_with_power_is_sent_to_the_mfa_setup_before_any_page(roles, role):
    client = signed_in(account(roles, role))
    for url in pages(roles):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, SETUP), url
    # The same session on the API: a JSON refusal, not a page.
    assert_error(client.get("/api/v1/ledger/chains/"), 403, "mfa_required")
    # An HTMX request reloads the whole page on the setup page.
    response = client.get(pages(roles)[2], headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == SETUP


@pytest.mark.parametrize("role", FREE)
def test_other_roles_need_no_second_factor(roles, role):
    client = signed_in(account(roles, role))
    for url in pages(roles):
        assert client.get(url).status_code == 200, url


def test_an_api_token_is_not_held_back(roles):
    """A token (created from the profile page, behind the MFA) is a credential of its own."""
    assert Api(roles.staff.user).get("/api/v1/ledger/chains/").status_code == 200


def test_the_setup_pages_and_logout_stay_open(roles):
    client = signed_in(roles.staff.user)
    # allauth asks for the password again before showing the secret.
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_setting_up_the_authenticator_opens_the_site(roles):
    user = roles.staff.user
    client = signed_in(user)
    response = client.get(reverse("identity:profile"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, SETUP)
    client.get(SETUP)  # shows the secret (kept in the session) and its QR code
    response = client.post(SETUP, {"code": code_of(client.session["mfa.totp.secret"])})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    for url in pages(roles):
        assert client.get(url).status_code == 200, url


def test_a_login_with_an_authenticator_asks_for_its_code(roles):
    user = roles.staff.user
    totp_activate(user)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = password_login(client, user.email)
    assert (response.status_code, response["Location"]) == (302, reverse("mfa_authenticate"))
    # The password alone opens nothing.
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("identity:profile"))["Location"].startswith("/accounts/login/")
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    assert (response.status_code, response["Location"]) == (302, reverse("identity:profile"))
    assert client.get(reverse("identity:profile")).status_code == 200


def test_a_code_is_accepted_once(roles):
    user = roles.operator
    totp_activate(user)
    first, second = Client(), Client()
    password_login(first, user.email)
    password_login(second, user.email)
    code = totp_code(user)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert second.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert "_auth_user_id" not in second.session


def test_django_admin_login_form_sends_to_allauth(roles):
    client = Client()
    response = client.get("/admin/login/?next=/admin/ledger/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=%2Fadmin%2Fledger%2F",
    )
    # Posting the operator's password to Django's form logs nobody in.
    response = client.post(
        "/admin/login/", {"username": roles.operator.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_django_admin_after_an_allauth_login(roles):
    totp_activate(roles.operator)
    client = Client()
    full_login(client, roles.operator)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/login/")["Location"] == "/admin/"
    assert signed_in(roles.resident.user).get("/admin/login/").status_code == 403

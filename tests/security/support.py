"""What the security tests share: a city with a member in every role, TOTP codes computed
the way an authenticator app does, and logins through allauth's pages."""

from __future__ import annotations

import time
from dataclasses import dataclass

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from governance.models import City, Membership
from governance.services import membership_approve, membership_request
from identity.models import User
from impact.models import Curator
from impact.services.verification import curator_revoke
from marketplace.data.services import curators_college_open
from tests.factories import PASSWORD, UserFactory, impact_curator_make
from tests.governance_api.support import POSTAL_CODES, appoint, join, make_city

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, tests only


@dataclass
class Roles:
    city: City
    operator: User
    staff: Membership
    curator: Membership  # an impact curator (impact.Curator)
    data_curator: Membership  # a member of the city's data curators college
    former_curator: Membership  # a resident whose curator role was revoked
    resident: Membership
    provider: Membership


def roles_build() -> Roles:
    operator = UserFactory(is_staff=True)
    city = make_city(operator, "bourg", POSTAL_CODES)
    staff = appoint(city, operator)
    former = impact_curator_make(city=city, by=staff.user)
    curator_revoke(curator=Curator.objects.get(membership=former), by=staff.user)
    curators_college = curators_college_open(by=staff.user, city=city)
    data_curator = membership_approve(
        membership=membership_request(user=UserFactory(), city=city, college=curators_college),
        by=staff.user,
    )
    return Roles(
        city=city,
        operator=operator,
        staff=staff,
        curator=impact_curator_make(city=city, by=staff.user),
        data_curator=data_curator,
        former_curator=former,
        resident=join(city, "residents", by=staff.user),
        provider=join(city, "providers", by=staff.user),
    )


def totp_activate(user: User, secret: str = TOTP_SECRET) -> Authenticator:
    return TOTP.activate(user, secret).instance


def code_of(secret: str) -> str:
    """The current code of an authenticator app holding `secret` (RFC 6238)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def totp_code(user: User) -> str:
    """The current code of `user`'s authenticator app. A code is accepted once: the record of
    its use is forgotten here so that a test may log the same account in twice."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    code = code_of(decrypt(authenticator.data["secret"]))
    cache.delete(TOTP(authenticator)._get_used_cache_key(code))
    return code


def password_login(client: Client, email: str, password: str = PASSWORD):
    """Submit allauth's login form (the first step, the password)."""
    return client.post(reverse("account_login"), {"login": email, "password": password})


def full_login(client: Client, user: User, password: str = PASSWORD):
    """Log in through allauth's pages: the password, then the TOTP code when asked."""
    response = password_login(client, user.email, password)
    if response.status_code == 302 and response["Location"] == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    return response

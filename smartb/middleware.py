"""The login policy, applied to every request.

- `SessionTimeoutMiddleware`: a session ends `SMARTB_SESSION_IDLE_SECONDS` after its last
  request (idle) and `SMARTB_SESSION_MAX_SECONDS` after its login (absolute), whatever
  happens in between. The visitor is logged out and the request goes on as anonymous, so a
  page that needs a login sends them to it, with `next`.
- `MfaRequiredMiddleware`: the roles that hold power over a city or the network (the
  operator, who also audits; municipality staff; curators of impact claims and of data) log
  in with a second factor. Such an account without a TOTP authenticator reaches nothing but
  its setup pages (and logout) until it has one. Every login goes through allauth, where
  the lockout and the MFA step are: Django admin's own login form sends to it.
- `DatabaseUnavailableMiddleware` (and `server_error`, the 500 handler, for what fails
  outside a view): a request that loses the database (PostgreSQL restarting, a network cut)
  answers 503 with a clear message, as a page or as the API's JSON error body, never a 500:
  its transaction rolled back, so nothing of it was written. The broken connection is closed
  at the end of the request; with CONN_HEALTH_CHECKS the next request opens a new one.
"""

from __future__ import annotations

import logging
import sys
import time
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.db.models import Exists, OuterRef, Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import defaults
from django_htmx.http import HttpResponseClientRedirect

from governance.models import CollegeKind, Membership, MembershipStatus
from impact.models import Curator
from marketplace.data.permissions import CURATORS_SLUG

# Session keys: when the login happened and when the session was last used (epoch seconds).
LOGIN_AT = "smartb.login_at"
SEEN_AT = "smartb.seen_at"
# The last use is written at most once a minute, not on every request: idle sessions end
# between IDLE - 60 s and IDLE after their last request.
SEEN_RESOLUTION_SECONDS = 60

# Pages an account that must set up MFA may still open (besides allauth's `mfa_*` pages).
MFA_SETUP_ALLOWED = frozenset(
    {"account_logout", "account_reauthenticate", "set_language", "healthz"}
)


def session_expired(session, *, now: float) -> bool:
    """The session's login is older than the absolute limit, or its last use older than the
    idle limit. A session with no login time yet (the request that logs in) is not."""
    login_at = session.get(LOGIN_AT)
    if login_at is None:
        return False
    seen_at = session.get(SEEN_AT, login_at)
    return (
        now - login_at > settings.SMARTB_SESSION_MAX_SECONDS
        or now - seen_at > settings.SMARTB_SESSION_IDLE_SECONDS
    )


def session_touch(session, *, now: float) -> None:
    """Record the last use (to the minute), and the login time if the login did not."""
    session.setdefault(LOGIN_AT, now)
    if now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_AT] = now


@receiver(user_logged_in, dispatch_uid="smartb.middleware.session_login_time")
def session_login_time(sender, request, user, **kwargs) -> None:
    """Each login starts the session's clocks (connected by smartb.apps)."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def must_use_mfa(user) -> bool:
    """The operator (staff, who also audits services), a city's municipality staff and its
    curators (of impact claims, or members of its data curators college) log in with a
    second factor."""
    if user.is_staff or user.is_superuser:
        return True
    live_impact_curator = Curator.objects.filter(membership=OuterRef("pk"), revoked_at__isnull=True)
    return (
        Membership.objects.filter(user=user, status=MembershipStatus.APPROVED)
        .filter(
            Q(college__kind=CollegeKind.MUNICIPALITY)
            | Q(college__kind=CollegeKind.OTHER, college__slug=CURATORS_SLUG)
            | Q(Exists(live_impact_curator))
        )
        .exists()
    )


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _login_url(next_path: str) -> str:
    return f"{reverse(settings.LOGIN_URL)}?{urlencode({REDIRECT_FIELD_NAME: next_path})}"


class SessionTimeoutMiddleware:
    """After `AuthenticationMiddleware`, `MessageMiddleware` and `HtmxMiddleware`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only sessions that hold a login: an API call authenticated by its token has none,
        # and must not get one.
        if SESSION_KEY in request.session and session_expired(request.session, now=time.time()):
            logout(request)
            messages.info(request, _("Your session has expired: please log in again."))
            if request.htmx:
                # A swapped fragment cannot show the login page: reload the whole page there.
                return HttpResponseClientRedirect(
                    _login_url(request.htmx.current_url_abs_path or "/")
                )
        response = self.get_response(request)
        if SESSION_KEY in request.session:  # also right after the login itself
            session_touch(request.session, now=time.time())
        return response


class MfaRequiredMiddleware:
    """After `AuthenticationMiddleware`, `MessageMiddleware` and `HtmxMiddleware`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.view_name == "admin:login":
            return self._admin_login(request)
        if not settings.SMARTB_MFA_REQUIRED or not request.user.is_authenticated:
            return None
        name = match.url_name or ""
        if name in MFA_SETUP_ALLOWED or name.startswith("mfa_"):
            return None
        if not must_use_mfa(request.user) or has_totp(request.user):
            return None
        return self._to_setup(request)

    @staticmethod
    def _admin_login(request: HttpRequest) -> HttpResponse | None:
        """Django admin's login form would skip the lockout and the MFA step: log in through
        allauth instead, then come back. A signed-in staff account goes on to the admin."""
        if request.user.is_authenticated:
            if request.user.is_active and request.user.is_staff:
                return None
            raise PermissionDenied
        return HttpResponseRedirect(
            _login_url(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))
        )

    @staticmethod
    def _to_setup(request: HttpRequest) -> HttpResponse:
        message = _(
            "Your role requires two-factor authentication: set up an authenticator app to continue."
        )
        if request.path_info.startswith("/api/"):
            return JsonResponse({"error": {"code": "mfa_required", "message": message}}, status=403)
        setup_url = reverse("mfa_activate_totp")
        if request.htmx:
            return HttpResponseClientRedirect(setup_url)
        messages.warning(request, message)
        return HttpResponseRedirect(setup_url)


# --- The database is unreachable: 503, never a 500 ------------------------------------------

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON under /api/, else a page rendered without the database (no
    context processors: the user, the session and the messages live in it)."""
    message = _(
        "The service is briefly unavailable: nothing was saved. Please try again in a moment."
    )
    if request.path_info.startswith("/api/"):
        body = {"error": {"code": "service_unavailable", "message": message}}
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that loses the database answers 503 (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("database unavailable during %s: %s", request.path, exception)
            return database_unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: what failed outside a view (a middleware reading the session or the
    user) because the database is unreachable is a 503 too; anything else the usual 500."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    return defaults.server_error(request)

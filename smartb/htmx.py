"""What every app's HTML views do after a form: answer a service's refusal with a status htmx
swaps, and send the visitor on after a success (a redirect, or htmx's full-page redirect)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from ledger.errors import LedgerError


def form_error_status(error: LedgerError, *, answered: tuple[int, ...] = (403, 409)) -> int:
    """The status of a page re-rendered with a service's refusal: the refusal's own status
    when the page answers it as such (`answered`), else 400; htmx swaps all of them, so the
    visitor sees the message."""
    return error.status if error.status in answered else 400


def redirect_after_form(request, url: str) -> HttpResponse:
    """After a successful form: a redirect, or HTMX's full-page redirect."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)

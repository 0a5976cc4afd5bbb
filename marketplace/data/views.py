"""The personal-data wallet (`/me/data/`): every agreement touching my data with its status,
last access, volume delivered and the purge of my records; consent requests to answer;
Revoke buttons; my GDPR archive and the erasure of my account.

HTMX swaps one row (`#consent-<id>`) after an answer or a revocation; without JavaScript the
same forms post and come back to the page. A refusal of a service (`LedgerError`) shows its
message with its 403/409 status, never a 500.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from ledger.errors import LedgerError

from .forms import ConsentAnswerForm, EraseForm
from .services import consents
from .services import wallet as wallet_services


def _status(error: LedgerError) -> int:
    return error.status if error.status in (403, 404, 409) else 400


def _my_consent(request, public_id: str):
    """My consent, or a 404 page (missing and not mine look the same)."""
    try:
        return consents.consent_get_for_subject(public_id=public_id, user=request.user)
    except consents.NotYourConsent:
        raise Http404(_("No such consent request.")) from None


def _row_response(request, consent_public_id: str, *, status: int = 200, error: str = ""):
    """The wallet row of one consent (HTMX), or back to the page."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("marketplace_data:wallet")
    rows = [
        r
        for r in wallet_services.wallet_rows(user=request.user)
        if r.consent.public_id == consent_public_id
    ]
    context = {"row": rows[0] if rows else None, "row_error": error, "form": ConsentAnswerForm()}
    return render(request, "marketplace/data/_wallet_row.html", context, status=status)


@login_required
@never_cache
@require_GET
@vary_on_headers("HX-Request")
def wallet(request):
    rows = wallet_services.wallet_rows(user=request.user)
    context = {
        "pending": [r for r in rows if r.can_answer],
        "rows": rows,
        "form": ConsentAnswerForm(),
        "erase_form": EraseForm(user=request.user),
    }
    template = "marketplace/data/wallet.html"
    if request.htmx:
        template += "#wallet-rows"
    return render(request, template, context)


@login_required
@require_POST
def consent_answer(request, public_id: str):
    consent = _my_consent(request, public_id)
    form = ConsentAnswerForm(request.POST)
    if not form.is_valid():
        return _row_response(
            request, public_id, status=400, error=_("Choose to consent or to refuse.")
        )
    try:
        consents.consent_decide(consent=consent, user=request.user, give=form.give)
    except LedgerError as error:
        return _row_response(request, public_id, status=_status(error), error=str(error.message))
    if not request.htmx:
        messages.success(
            request,
            _("You consented: your records may flow under this agreement.")
            if form.give
            else _("You refused: your records are left out of this agreement."),
        )
    return _row_response(request, public_id)


@login_required
@require_POST
def consent_revoke(request, public_id: str):
    consent = _my_consent(request, public_id)
    try:
        consents.consent_revoke(consent=consent, user=request.user)
    except LedgerError as error:
        return _row_response(request, public_id, status=_status(error), error=str(error.message))
    if not request.htmx:
        messages.success(
            request,
            _(
                "Consent withdrawn: from the next request on, your records are left out, and the "
                "consumer is asked to delete the copy it holds."
            ),
        )
    return _row_response(request, public_id)


@login_required
@require_GET
def consent_receipt(request, public_id: str):
    consent = _my_consent(request, public_id)
    body = json.dumps(
        {"receipt": consent.receipt, "receipt_digest": consent.receipt_digest},
        ensure_ascii=False,
        indent=2,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.public_id}.json"'
    return response


@login_required
@never_cache
@require_GET
def gdpr_download(request):
    archive = wallet_services.gdpr_export(user=request.user)
    body = json.dumps(archive, ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="smartb-my-data-{stamp}.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_erase(request):
    form = EraseForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                wallet_services.account_erase(user=request.user)
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _status(error)
            else:
                logout(request)
                messages.success(request, _("Your account and your personal data are erased."))
                if request.htmx:
                    return HttpResponseClientRedirect(reverse("home"))
                return redirect("home")
    return render(request, "marketplace/data/erase.html", {"erase_form": form}, status=status)

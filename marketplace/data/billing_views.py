"""The municipality staff's billing page of a city's data marketplace, mounted at
/c/<slug>/data/offers/billing/ (see offer_urls.py) and linked from the municipality portal:
the bank account the city's data invoices are paid into (set here, signed on the city's
ledger), where transfers go while the city has none, and the transfers waiting to arrive.

Staff only: an anonymous visitor is sent to log in, anyone else signed in gets 403 (the
operator too). The form works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from governance import selectors as gov_selectors
from governance.selectors import Money
from ledger.errors import LedgerError

from . import selectors
from .forms import CreditorAccountForm
from .offer_views import _city_context, _status, _to, _url
from .permissions import is_staff_of
from .services.creditor import creditor_account_set


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def billing(request, slug: str):
    city = gov_selectors.city_get(slug)
    if not is_staff_of(request.user, city):
        raise PermissionDenied(_("Only the city's municipality staff manage its data billing."))
    form = CreditorAccountForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                creditor_account_set(
                    city=city,
                    by=request.user,
                    holder_name=data["holder_name"],
                    iban=data["iban"],
                    bic=data["bic"],
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _status(error)
            else:
                messages.success(
                    request,
                    _(
                        "Bank account saved: transfers for the city's data are paid into it. "
                        "Its digest is signed on the city's ledger."
                    ),
                )
                return _to(request, _url("billing", city.slug))
    context = _city_context(
        request,
        city,
        form=form,
        overview=selectors.creditor_overview(city=city),
        waiting=[
            (payment, Money(payment.amount_cents))
            for payment in selectors.sepa_transfers_waiting(city=city)
        ],
    )
    return render(request, "marketplace/data/offers/billing.html", context, status=status)

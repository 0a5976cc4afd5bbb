"""Offers and access requests of the data marketplace, mounted at /c/<slug>/data/offers/
(see smartb/urls.py; every form works without JavaScript, HTMX only redirects):

- the publisher makes an offer on its dataset: pricing (euros typed, integer cents kept),
  permitted and prohibited actions, purposes, duration, limits, delete duty; the ODRL policy
  is built from the form, validated (`odrl.policy_validate`) and shown as JSON-LD;
- an approved member of the offer's city asks for a quote, then accepts it: the agreement,
  signed by their DID (or a provider's they own). On personal data it waits for consents: the
  consumer sees how many were given, refused or are pending, never who;
- "my agreements": the consumer's agreements in the city, each with a Download button (the
  same service as `GET /api/v1/marketplace/agreements/{id}/data`, posted with the session's
  CSRF token so no prefetch ever counts a request) and the acknowledgement of pending purge
  requests.

Reads of an offer are public (the catalogue shows offers); writes send an anonymous visitor to
log in and answer 403 to anyone else signed in who may not do them. A service's refusal
(`LedgerError`) becomes a message with its 400/403/404/409 status, never a 500.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from governance.selectors import Money
from ledger.errors import LedgerError
from marketplace.models import Provider
from smartb.htmx import form_error_status
from smartb.htmx import redirect_after_form as _to

from .models import (
    Agreement,
    ConsentStatus,
    Dataset,
    DatasetStatus,
    Offer,
    OfferStatus,
    PricingModel,
    PurgeRequest,
    PurgeStatus,
    Quote,
)
from .offer_forms import AcceptForm, OfferForm, QuoteForm
from .permissions import can_manage_dataset, can_request_access, can_see_agreement
from .services import access, contracts, wallet

AGREEMENTS_SHOWN = 200


def _status(error: LedgerError) -> int:
    return form_error_status(error, answered=(403, 404, 409))


def _url(name: str, *args) -> str:
    return reverse(f"data_offers:{name}", args=args)


def _city_context(request, city, **extra) -> dict:
    """What every city page needs (the city's navigation reads it)."""
    viewer = gov_selectors.membership_of(request.user, city)
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "viewer_is_staff": gov_permissions.is_staff_membership(viewer),
        **extra,
    }


# --- reads ----------------------------------------------------------------------------------


def _dataset_in(city, public_id: str, user) -> Dataset:
    dataset = (
        Dataset.objects.select_related(
            "city", "publisher_provider", "publisher_membership", "publisher_identity"
        )
        .filter(city=city, public_id=public_id)
        .first()
    )
    if dataset is None:
        raise Http404(_("No such dataset."))
    return dataset


def _offer_in(city, public_id: str, user) -> Offer:
    offer = (
        Offer.objects.select_related("dataset__city", "producer_identity", "entry__chain")
        .filter(dataset__city=city, public_id=public_id)
        .first()
    )
    if offer is None or (
        offer.dataset.status != DatasetStatus.PUBLISHED
        and not can_manage_dataset(user, offer.dataset)
    ):
        raise Http404(_("No such offer."))
    return offer


def _quote_in(city, public_id: str, user) -> Quote:
    quote = (
        Quote.objects.select_related("offer__dataset__city", "offer__producer_identity")
        .filter(offer__dataset__city=city, public_id=public_id, consumer_id=user.pk)
        .first()
    )
    if quote is None:
        raise Http404(_("No such quote."))
    return quote


def _agreement_in(city, public_id: str, user) -> Agreement:
    agreement = (
        Agreement.objects.select_related(
            "offer",
            "dataset__city",
            "dataset__publisher_membership",
            "consumer_identity",
            "producer_identity",
            "consumer_entry__chain",
            "quote",
        )
        .filter(dataset__city=city, public_id=public_id)
        .first()
    )
    if agreement is None or not can_see_agreement(user, agreement):
        raise Http404(_("No such agreement."))
    return agreement


def consent_progress(agreements) -> None:
    """Count each agreement's consents by answer, in one query; never who answered."""
    ids = [a.pk for a in agreements]
    counts = {
        row["pk"]: row
        for row in Agreement.objects.filter(pk__in=ids)
        .annotate(
            given=Count("consents", filter=Q(consents__status=ConsentStatus.GIVEN)),
            refused=Count("consents", filter=Q(consents__status=ConsentStatus.REFUSED)),
            revoked=Count("consents", filter=Q(consents__status=ConsentStatus.REVOKED)),
            pending=Count("consents", filter=Q(consents__status=ConsentStatus.REQUESTED)),
        )
        .values("pk", "given", "refused", "revoked", "pending")
    }
    for agreement in agreements:
        agreement.progress = counts.get(agreement.pk)


def pending_purges(agreements, user) -> None:
    """Attach to each agreement the purge requests its consumer still has to acknowledge."""
    by_agreement: dict[int, list[PurgeRequest]] = {}
    waiting = wallet.purges_of_consumer(user).filter(
        agreement__in=[a.pk for a in agreements],
        status__in=[PurgeStatus.PENDING, PurgeStatus.SENT],
    )
    for purge in waiting:
        by_agreement.setdefault(purge.agreement_id, []).append(purge)
    for agreement in agreements:
        agreement.waiting_purges = by_agreement.get(agreement.pk, [])


def price_label(offer: Offer) -> str:
    if offer.pricing_model == PricingModel.FREE:
        return _("free")
    price = Money(offer.unit_price_cents)
    if offer.pricing_model == PricingModel.SUBSCRIPTION:
        return _("%(price)s per %(days)s days") % {"price": price, "days": offer.subscription_days}
    unit = {
        PricingModel.PER_REQUEST: _("per request"),
        PricingModel.PER_RECORD: _("per record"),
        PricingModel.PER_MB: _("per MB"),
    }[offer.pricing_model]
    return f"{price} {unit}"


def _policy_json(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


# --- the publisher ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def offer_create(request, slug: str, dataset_id: str):
    city = gov_selectors.city_get(slug)
    dataset = _dataset_in(city, dataset_id, request.user)
    if not can_manage_dataset(request.user, dataset):
        raise PermissionDenied(_("Only the dataset's publisher makes offers on it."))
    form = OfferForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                offer = contracts.offer_create(
                    dataset=dataset,
                    by=request.user,
                    policy=form.policy(),
                    pricing_model=data["pricing_model"],
                    unit_price_cents=form.unit_price_cents(),
                    subscription_days=data.get("subscription_days"),
                    title=data["title"],
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _status(error)
            else:
                messages.success(
                    request, _("Offer published: its policy is signed on the city's ledger.")
                )
                return _to(request, _url("offer_detail", city.slug, offer.public_id))
    context = _city_context(request, city, dataset=dataset, form=form)
    return render(request, "marketplace/data/offers/offer_form.html", context, status=status)


@login_required
@require_POST
def offer_withdraw(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    offer = _offer_in(city, public_id, request.user)
    if not can_manage_dataset(request.user, offer.dataset):
        raise PermissionDenied(_("Only the dataset's publisher withdraws its offers."))
    try:
        contracts.offer_withdraw(offer=offer, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Offer withdrawn: agreements already made stay as they are."))
    return _to(request, _url("offer_detail", city.slug, offer.public_id))


# --- the consumer ---------------------------------------------------------------------------


@never_cache
@require_GET
def offer_detail(request, slug: str, public_id: str):
    """The offer, its ODRL JSON-LD, and the request-access form for a member of the city."""
    city = gov_selectors.city_get(slug)
    offer = _offer_in(city, public_id, request.user)
    context = _city_context(
        request,
        city,
        offer=offer,
        dataset=offer.dataset,
        price=price_label(offer),
        policy_json=_policy_json(offer.policy),
        manager=can_manage_dataset(request.user, offer.dataset),
        may_request=can_request_access(request.user, city),
        form=QuoteForm(),
    )
    return render(request, "marketplace/data/offers/offer_detail.html", context)


@login_required
@require_POST
def offer_request(request, slug: str, public_id: str):
    """Ask for a quote on the offer (its volume), then go to the quote to accept it."""
    city = gov_selectors.city_get(slug)
    offer = _offer_in(city, public_id, request.user)
    if not can_request_access(request.user, city):
        raise PermissionDenied(_("Only an approved member of this city requests its data."))
    form = QuoteForm(request.POST)
    error_message, status = "", 400
    if form.is_valid():
        try:
            if offer.status != OfferStatus.ACTIVE:
                raise contracts.OfferWithdrawn()
            if contracts.is_publisher(request.user, offer.dataset):
                raise contracts.NotAllowed(
                    _("A publisher does not sign agreements on its own dataset.")
                )
            quote = contracts.quote_create(
                offer=offer, consumer=request.user, requests=form.cleaned_data.get("requests")
            )
        except LedgerError as error:
            error_message, status = str(error.message), _status(error)
        else:
            return _to(request, _url("quote_detail", city.slug, quote.public_id))
    context = _city_context(
        request,
        city,
        offer=offer,
        dataset=offer.dataset,
        price=price_label(offer),
        policy_json=_policy_json(offer.policy),
        manager=can_manage_dataset(request.user, offer.dataset),
        may_request=True,
        form=form,
        error=error_message,
    )
    return render(request, "marketplace/data/offers/offer_detail.html", context, status=status)


def _providers_of(user) -> list[Provider]:
    return list(Provider.objects.filter(owner=user).order_by("name"))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def quote_detail(request, slug: str, public_id: str):
    """The quote's lines and total, and its acceptance: the agreement, signed by the DID."""
    city = gov_selectors.city_get(slug)
    quote = _quote_in(city, public_id, request.user)
    offer = quote.offer
    if not can_request_access(request.user, city):
        raise PermissionDenied(_("Only an approved member of this city requests its data."))
    form = AcceptForm(
        request.POST if request.method == "POST" else None,
        offer=offer,
        providers=_providers_of(request.user),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                agreement = contracts.agreement_accept(
                    quote=quote,
                    consumer=request.user,
                    purposes=form.chosen_purposes(),
                    provider=form.provider(),
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _status(error)
            else:
                if agreement.dataset.is_personal:
                    messages.success(
                        request,
                        _(
                            "Agreement signed. It concerns personal data: each resident "
                            "concerned is asked for consent before their records flow."
                        ),
                    )
                else:
                    messages.success(request, _("Agreement signed: you may download the data."))
                return _to(request, _url("agreement_detail", city.slug, agreement.public_id))
    lines = [
        {
            **line,
            "unit_price": Money(line["unit_price_cents"]),
            "amount": Money(line["amount_cents"]),
        }
        for line in quote.lines
    ]
    context = _city_context(
        request,
        city,
        quote=quote,
        offer=offer,
        dataset=offer.dataset,
        lines=lines,
        total=Money(quote.total_cents),
        form=form,
    )
    return render(request, "marketplace/data/offers/quote_detail.html", context, status=status)


@login_required
@never_cache
@require_GET
def agreement_list(request, slug: str):
    """My agreements as a consumer in this city, newest first, in a fixed number of queries."""
    city = gov_selectors.city_get(slug)
    agreements = list(
        Agreement.objects.select_related("offer", "dataset", "consumer_identity")
        .filter(dataset__city=city, consumer=request.user)
        .order_by("-created_at", "-pk")[:AGREEMENTS_SHOWN]
    )
    consent_progress(agreements)
    pending_purges(agreements, request.user)
    context = _city_context(request, city, agreements=agreements)
    return render(request, "marketplace/data/offers/agreement_list.html", context)


def _agreement_page(request, city, agreement, *, status: int = 200, error: str = ""):
    consent_progress([agreement])
    consumer = agreement.consumer_id == request.user.pk
    if consumer:
        pending_purges([agreement], request.user)
    else:
        agreement.waiting_purges = []
    context = _city_context(
        request,
        city,
        agreement=agreement,
        dataset=agreement.dataset,
        consumer=consumer,
        policy_json=_policy_json(agreement.policy),
        error=error,
    )
    return render(request, "marketplace/data/offers/agreement_detail.html", context, status=status)


@login_required
@never_cache
@require_GET
def agreement_detail(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    agreement = _agreement_in(city, public_id, request.user)
    return _agreement_page(request, city, agreement)


@login_required
@require_POST
def agreement_download(request, slug: str, public_id: str):
    """One data request under the agreement (the API endpoint's service): the file as an
    attachment, or the agreement's page with the refusal (revoked, not consented, over a
    limit…) and its status."""
    city = gov_selectors.city_get(slug)
    agreement = _agreement_in(city, public_id, request.user)
    if agreement.consumer_id != request.user.pk:
        raise PermissionDenied(_("Only the agreement's consumer downloads its data."))
    try:
        stream = access.delivery_open(agreement=agreement, user=request.user)
    except LedgerError as error:
        agreement.refresh_from_db()
        return _agreement_page(
            request, city, agreement, status=_status(error), error=str(error.message)
        )
    delivery = stream.delivery
    response = StreamingHttpResponse(iter(stream), content_type=stream.media_type)
    response["Content-Length"] = str(delivery.bytes_sent)
    response["X-Delivery-Receipt"] = delivery.public_id
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = (
        f'attachment; filename="{agreement.public_id}-{delivery.public_id}"'
    )
    return response


@login_required
@require_POST
def purge_acknowledge(request, slug: str, public_id: str):
    """The consumer declares it deleted what a purge request names, signed by its DID."""
    city = gov_selectors.city_get(slug)
    try:
        purge = wallet.purge_get_for_consumer(public_id=public_id, user=request.user)
    except LedgerError:
        raise Http404(_("No such purge request.")) from None
    if purge.agreement.dataset.city_id != city.pk:
        raise Http404(_("No such purge request."))
    try:
        wallet.purge_acknowledge(purge=purge, user=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Deletion acknowledged, signed with your DID: the residents' wallets show it."),
        )
    return _to(request, _url("agreement_detail", city.slug, purge.agreement.public_id))

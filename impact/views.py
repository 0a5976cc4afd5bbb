"""The impact pages of a city, under /c/<slug>/impact/: HTMX-enhanced, every form usable
without JavaScript.

- public: the SDG catalogue and methodologies, the market's offers, retirement
  certificates (printable, with their ledger receipt), impact credentials and their
  verification, and the city's public SDG figures (aggregates only, each chart also as a
  table and as CSV);
- members: their claims (submit with evidence), their portfolio (transfer, retire, redeem
  for provider-college members), the market's forms;
- curators: the queue of claims to verify, and the decision on a claim (never their own);
- municipality staff: the SDG dashboard, curators, redemption rates, participation calls.

Like the other city pages, a member's page sends an anonymous visitor to log in and answers
403 to anyone else signed in; a claim the viewer may not see is 404, like one that does not
exist. Each view parses, checks permission, calls one service or selector and renders; a
service's refusal (`LedgerError`, with its message in the reader's language) becomes a form
error or a message with its 400/403/409 status, never a 500.
"""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from identity.selectors import credential_verify as identity_credential_verify
from ledger.errors import LedgerError
from smartb.htmx import form_error_status as _error_status

from . import page_selectors, permissions, selectors, services
from .forms import (
    BuyForm,
    ClaimFilterForm,
    ClaimForm,
    ContributeForm,
    CredentialVerifyForm,
    CuratorGrantForm,
    DashboardFilterForm,
    EvidenceForm,
    ForwardConsentForm,
    ForwardOrderForm,
    MarketFilterForm,
    MerchantOfferForm,
    MerchantRedeemForm,
    MethodologyChoiceForm,
    ParticipationCallForm,
    ProjectForm,
    RedeemForm,
    RedemptionRateForm,
    RetireForm,
    SellOfferForm,
    TransferForm,
    VerifyForm,
)
from .models import (
    ForwardOrder,
    MerchantOffer,
    Methodology,
    Participation,
    ParticipationCall,
    Project,
    SellOffer,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- shared -------------------------------------------------------------------------------


def _posted(request):
    return request.POST if request.method == "POST" else None


def _city_and_viewer(request, slug: str):
    city = gov_selectors.city_get(slug)
    return city, gov_selectors.membership_of(request.user, city)


def _context(request, city, viewer, **extra) -> dict:
    """What every impact page needs: the city, who the viewer is in it (the city's and the
    impact section's navigation read it)."""
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "viewer_is_staff": gov_permissions.is_staff_membership(viewer),
        "viewer_is_curator": permissions.curator_of(request.user, city) is not None,
        **extra,
    }


def _require_member(viewer) -> None:
    if not gov_permissions.is_member(viewer):
        raise PermissionDenied(_("Only approved members of this city may do this."))


def _require_staff(viewer) -> None:
    if not permissions.can_manage_city_impact(viewer):
        raise PermissionDenied(_("Only this city's municipality staff may do this."))


def _url(name: str, city, *args) -> str:
    return reverse(f"impact:{name}", args=[city.slug, *args])


def _csv_cell(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- overview and catalogue ---------------------------------------------------------------


@require_GET
def home(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    portfolio = None
    if gov_permissions.is_member(viewer):
        portfolio = page_selectors.portfolio_page(user=request.user, city=city)
    context = _context(
        request,
        city,
        viewer,
        tokens=selectors.tokens_by_class(city=city),
        portfolio=portfolio,
    )
    return render(request, "impact/home.html", context)


@require_GET
def catalogue(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    context = _context(
        request,
        city,
        viewer,
        goals=page_selectors.catalogue_goals(),
        methodologies=selectors.methodology_list(),
        token_classes=page_selectors.token_classes(),
        source=page_selectors.catalogue_source(),
    )
    return render(request, "impact/catalogue.html", context)


@require_GET
def methodology_detail(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    methodology = selectors.methodology_get(public_id=public_id)
    context = _context(request, city, viewer, methodology=methodology)
    return render(request, "impact/methodology.html", context)


# --- claims -------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def claim_list(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    filters = ClaimFilterForm(request.GET or None)
    page = page_selectors.claims_page(
        user=request.user, city=city, state=filters.state_value(), page=request.GET.get("page")
    )
    template = "impact/claims.html"
    if request.htmx:
        template += "#claim-list"
    return render(request, template, _context(request, city, viewer, filters=filters, page=page))


def _claim_save(request, viewer, methodology: Methodology, form: ClaimForm):
    """Create the claim, attach its file and (if asked) submit it: all or nothing."""
    data = form.cleaned_data
    with transaction.atomic():
        claim = services.claim_create(
            claimant=viewer,
            by=request.user,
            methodology=methodology,
            parameters=form.parameters(),
            period_start=data["period_start"],
            period_end=data["period_end"],
            district_code=data["district"],
        )
        upload = data.get("evidence")
        if upload is not None:
            services.evidence_add_file(
                claim=claim,
                by=request.user,
                evidence_type=data["evidence_type"],
                filename=upload.name,
                content=upload.read(),
                media_type=upload.content_type or "application/octet-stream",
            )
        if data.get("submit"):
            claim = services.claim_submit(claim=claim, by=request.user)
    return claim


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def claim_create(request, slug: str):
    """A member's claim: choose the methodology (GET), then its measured values, the
    period, the district and a file of evidence (POST)."""
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    methodologies = selectors.methodology_list()
    asked = request.POST if request.method == "POST" else request.GET
    chooser = MethodologyChoiceForm(
        {"methodology": asked.get("methodology")} if asked.get("methodology") else None,
        methodologies=methodologies,
    )
    methodology = chooser.cleaned_data["methodology"] if chooser.is_valid() else None
    form = None
    status = 200
    if methodology is not None:
        form = ClaimForm(_posted(request), request.FILES or None, methodology=methodology)
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    claim = _claim_save(request, viewer, methodology, form)
                except LedgerError as error:
                    form.add_error(None, error.message)
                    status = _error_status(error)
                else:
                    messages.success(
                        request,
                        _("Claim sent to the curators.")
                        if claim.state == "submitted"
                        else _("Claim saved as a draft."),
                    )
                    return redirect(_url("claim_detail", city, claim.public_id))
    elif request.method == "POST":
        status = 400
    template = "impact/claim_form.html"
    if request.htmx:
        template += "#claim-fields"
    context = _context(request, city, viewer, chooser=chooser, methodology=methodology, form=form)
    return render(request, template, context, status=status)


def _claim_context(request, city, viewer, claim, **forms) -> dict:
    detail = selectors.claim_detail(claim=claim, user=request.user)
    credential = page_selectors.credential_of(claim)
    can_edit = permissions.can_edit_claim(request.user, claim)
    recomputed = page_selectors.recompute(claim) if detail.can_verify else None
    evidence_types = list(page_selectors.file_evidence_types(claim)) if can_edit else []
    return _context(
        request,
        city,
        viewer,
        claim=claim,
        detail=detail,
        values=page_selectors.measured_values(claim),
        credential=credential,
        credential_json=json.dumps(credential.document) if credential else "",
        can_edit=can_edit,
        recomputed=recomputed,
        evidence_form=forms.get("evidence_form") or EvidenceForm(evidence_types=evidence_types),
        verify_form=forms.get("verify_form")
        or VerifyForm(initial={"recomputed_quantity": recomputed}),
    )


@login_required
@require_GET
def claim_detail(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    claim = page_selectors.claim_of_city(city=city, public_id=public_id, user=request.user)
    return render(request, "impact/claim.html", _claim_context(request, city, viewer, claim))


@login_required
@require_POST
def claim_submit(request, slug: str, public_id: str):
    city, _viewer = _city_and_viewer(request, slug)
    claim = page_selectors.claim_of_city(city=city, public_id=public_id, user=request.user)
    if not permissions.can_edit_claim(request.user, claim):
        raise PermissionDenied(_("Only whoever made this claim submits it."))
    try:
        services.claim_submit(claim=claim, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Claim sent to the curators."))
    return redirect(_url("claim_detail", city, claim.public_id))


@login_required
@require_POST
def evidence_add(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    claim = page_selectors.claim_of_city(city=city, public_id=public_id, user=request.user)
    if not permissions.can_edit_claim(request.user, claim):
        raise PermissionDenied(
            _("Only whoever made this claim adds evidence, before the decision.")
        )
    form = EvidenceForm(
        request.POST, request.FILES, evidence_types=page_selectors.file_evidence_types(claim)
    )
    status = 400
    if form.is_valid():
        upload = form.cleaned_data["evidence"]
        try:
            services.evidence_add_file(
                claim=claim,
                by=request.user,
                evidence_type=form.cleaned_data["evidence_type"],
                filename=upload.name,
                content=upload.read(),
                media_type=upload.content_type or "application/octet-stream",
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("Evidence added; its SHA-256 is on the ledger."))
            return redirect(_url("claim_detail", city, claim.public_id))
    context = _claim_context(request, city, viewer, claim, evidence_form=form)
    return render(request, "impact/claim.html", context, status=status)


@login_required
@require_POST
def claim_verify(request, slug: str, public_id: str):
    """A curator's decision: approve (the credential and the tokens), reject with a reason
    code, or dispute. Never on their own claim."""
    city, viewer = _city_and_viewer(request, slug)
    claim = page_selectors.claim_of_city(city=city, public_id=public_id, user=request.user)
    if not permissions.can_verify(permissions.curator_of(request.user, city), claim):
        raise PermissionDenied(
            _("Only a curator of this city decides on a waiting claim, never their own.")
        )
    form = VerifyForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            verification = services.claim_verify(
                claim=claim,
                by=request.user,
                decision=data["decision"],
                recomputed_quantity=data["recomputed_quantity"],
                reason_code=data["reason_code"] or "",
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(
                request,
                {
                    "approve": _("Claim approved: the credential is signed and the tokens issued."),
                    "reject": _("Claim rejected."),
                    "dispute": _("Claim disputed: it stays open for another decision."),
                }[verification.decision],
            )
            return redirect(_url("claim_detail", city, claim.public_id))
    context = _claim_context(request, city, viewer, claim, verify_form=form)
    return render(request, "impact/claim.html", context, status=status)


@login_required
@require_GET
def evidence_download(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    evidence = page_selectors.evidence_file(city=city, public_id=public_id, user=request.user)
    content = type(evidence).objects.filter(pk=evidence.pk).values_list("content", flat=True)[0]
    response = HttpResponse(bytes(content), content_type="application/octet-stream")
    name = "".join(c for c in evidence.filename if c.isalnum() or c in "._-") or "evidence"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request, slug: str):
    """The curator's queue: submitted and disputed claims (not their own), oldest first,
    each with the platform's recomputation."""
    city, viewer = _city_and_viewer(request, slug)
    if permissions.curator_of(request.user, city) is None:
        raise PermissionDenied(_("Only a curator of this city verifies impact claims."))
    page = page_selectors.queue_page(user=request.user, city=city, page=request.GET.get("page"))
    template = "impact/queue.html"
    if request.htmx:
        template += "#queue-list"
    return render(request, template, _context(request, city, viewer, page=page))


# --- credentials --------------------------------------------------------------------------


@require_GET
def credential_download(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    credential = page_selectors.credential_public(city=city, public_id=public_id)
    response = JsonResponse(credential.document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="credential-{public_id}.json"'
    return response


@require_http_methods(["GET", "POST"])
def credential_check(request, slug: str):
    """Verify an impact credential: the same check as the identity endpoint
    (`POST /api/v1/identity/credentials/verify`): its eddsa-jcs-2022 proof, and its
    revocation when it was issued here. `?credential=<id>` checks a stored one."""
    city, viewer = _city_and_viewer(request, slug)
    form = CredentialVerifyForm(_posted(request))
    result, status = None, 200
    stored = request.GET.get("credential")
    if request.method == "POST":
        if form.is_valid():
            result = identity_credential_verify(form.cleaned_data["credential"])
        else:
            status = 400
    elif stored:
        credential = page_selectors.credential_public(city=city, public_id=stored)
        form = CredentialVerifyForm(initial={"credential": json.dumps(credential.document)})
        result = identity_credential_verify(credential.document)
    api_labels = {
        "verified": _("The identity endpoint verifies it."),
        "failed": _("The identity endpoint does not verify it."),
        "invalid": _("This is not JSON."),
    }
    context = _context(request, city, viewer, form=form, result=result, api_labels=api_labels)
    return render(request, "impact/credential_verify.html", context, status=status)


# --- portfolio ----------------------------------------------------------------------------


def _portfolio_render(request, city, viewer, *, status: int = 200, **forms) -> HttpResponse:
    page = page_selectors.portfolio_page(user=request.user, city=city)
    context = _context(
        request,
        city,
        viewer,
        page=page,
        can_redeem=permissions.can_redeem(viewer),
        rates=page_selectors.redemption_rates(city=city),
        transfer_form=forms.get("transfer_form") or TransferForm(),
        retire_form=forms.get("retire_form") or RetireForm(),
        redeem_form=forms.get("redeem_form") or RedeemForm(),
        offer_form=forms.get("offer_form") or SellOfferForm(),
        consent_form=ForwardConsentForm(
            initial={"accepts": page.portfolio.accepts_forward_orders if page.portfolio else False}
        ),
    )
    return render(request, "impact/portfolio.html", context, status=status)


@login_required
@require_GET
def portfolio(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    return _portfolio_render(request, city, viewer)


def _my_portfolio(request, city, viewer):
    _require_member(viewer)
    return services.portfolio_for(city=city, user=request.user)


@login_required
@require_POST
def transfer(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    sender = _my_portfolio(request, city, viewer)
    form = TransferForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        member = page_selectors.member_by_reference(city=city, reference=data["recipient"])
        if member is None:
            form.add_error("recipient", _("No approved member of this city has this DID or name."))
        else:
            try:
                services.token_transfer(
                    sender=sender,
                    recipient=services.portfolio_for(city=city, user=member.user),
                    by=request.user,
                    token_class=data["token_class"],
                    quantity=data["quantity"],
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(request, _("Tokens sent; the transfer is on the ledger."))
                return redirect(_url("portfolio", city))
    return _portfolio_render(request, city, viewer, status=status, transfer_form=form)


@login_required
@require_POST
def retire(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    holder = _my_portfolio(request, city, viewer)
    form = RetireForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            retirement = services.token_retire(
                portfolio=holder,
                by=request.user,
                token_class=data["token_class"],
                quantity=data["quantity"],
                reason_code=data["reason"],
                beneficiary_did=data["beneficiary_did"],
                beneficiary_name=data["beneficiary_name"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("Tokens retired for good. Here is the certificate."))
            return redirect(_url("certificate", city, retirement.public_id))
    return _portfolio_render(request, city, viewer, status=status, retire_form=form)


@login_required
@require_POST
def redeem(request, slug: str):
    """Provider-college members exchange tokens for money at the city's rate."""
    city, viewer = _city_and_viewer(request, slug)
    if not permissions.can_redeem(viewer):
        raise PermissionDenied(_("Only members of the providers college redeem tokens for money."))
    holder = _my_portfolio(request, city, viewer)
    form = RedeemForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            redemption = services.token_redeem(
                portfolio=holder,
                by=request.user,
                token_class=form.cleaned_data["token_class"],
                quantity=form.cleaned_data["quantity"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(
                request,
                _("Tokens redeemed: the city owes you %(amount)s.")
                % {"amount": gov_selectors.Money(redemption.amount_cents)},
            )
            return redirect(_url("portfolio", city))
    return _portfolio_render(request, city, viewer, status=status, redeem_form=form)


@login_required
@require_POST
def forward_consent(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    holder = _my_portfolio(request, city, viewer)
    form = ForwardConsentForm(request.POST)
    form.is_valid()
    try:
        services.portfolio_forward_consent(
            portfolio=holder, by=request.user, accepts=form.cleaned_data.get("accepts", False)
        )
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your choice about forward orders is recorded."))
    return redirect(_url("portfolio", city))


# --- retirement certificate ---------------------------------------------------------------


@require_GET
def certificate(request, slug: str, public_id: str):
    """A retirement certificate, public and printable: the serials, the claims and the
    curators' credentials behind them, the ledger entry and its receipt."""
    city, viewer = _city_and_viewer(request, slug)
    cert = page_selectors.certificate(city=city, public_id=public_id)
    context = _context(
        request,
        city,
        viewer,
        cert=cert,
        receipt_json=json.dumps(cert.receipt, indent=2) if cert.receipt else "",
        generated_at=timezone.now(),
    )
    return render(request, "impact/certificate.html", context)


# --- market -------------------------------------------------------------------------------


def _market_render(request, city, viewer, *, status: int = 200, **forms) -> HttpResponse:
    filters = MarketFilterForm(request.GET or None)
    member = gov_permissions.is_member(viewer)
    mine = page_selectors.portfolio_page(user=request.user, city=city) if member else None
    context = _context(
        request,
        city,
        viewer,
        filters=filters,
        market=page_selectors.market_page(city=city, token_class=filters.token_class_value()),
        mine=mine,
        my_portfolio_id=mine.portfolio.pk if mine and mine.portfolio else None,
        offer_form=forms.get("offer_form") or SellOfferForm(),
        forward_form=forms.get("forward_form") or ForwardOrderForm(),
        merchant_form=forms.get("merchant_form") or MerchantOfferForm(),
        project_form=forms.get("project_form") or ProjectForm(),
        buy_errors=forms.get("buy_errors"),
    )
    template = "impact/market.html"
    if request.htmx and request.method == "GET":
        template += "#offer-list"
    return render(request, template, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def market(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    return _market_render(request, city, viewer)


def _market_action(request, slug, form_class, form_name, act, done: str):
    """A market form: a member's, checked by the service; back to the market on success,
    the market with the form's errors otherwise."""
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        try:
            act(city, form)
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, done)
            return redirect(_url("market", city))
    return _market_render(request, city, viewer, status=status, **{form_name: form})


@login_required
@require_POST
def offer_create(request, slug: str):
    def act(city, form):
        services.offer_create(
            seller=services.portfolio_for(city=city, user=request.user),
            by=request.user,
            token_class=form.cleaned_data["token_class"],
            quantity=form.cleaned_data["quantity"],
            unit_price_cents=form.unit_price_cents(),
        )

    return _market_action(
        request, slug, SellOfferForm, "offer_form", act, _("Offer open; your tokens are in escrow.")
    )


def _one_of(model, city, public_id: str):
    found = model.objects.filter(city=city, public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def _object_action(request, slug: str, model, public_id: str, act, done: str, form_class=None):
    """A button on one offer, order, project or call: a message either way."""
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    target = _one_of(model, city, public_id)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        messages.error(request, errors)
        return _market_render(request, city, viewer, status=400)
    try:
        act(city, target, form)
    except LedgerError as error:
        messages.error(request, error.message)
        return _market_render(request, city, viewer, status=_error_status(error))
    messages.success(request, done)
    return redirect(_url("market", city))


@login_required
@require_POST
def offer_buy(request, slug: str, public_id: str):
    def act(city, offer, form):
        services.offer_buy(
            offer=offer,
            buyer=services.portfolio_for(city=city, user=request.user),
            by=request.user,
            quantity=form.cleaned_data["quantity"],
        )

    return _object_action(
        request,
        slug,
        SellOffer,
        public_id,
        act,
        _("Bought: the tokens are in your portfolio; your payment is in the city's treasury."),
        BuyForm,
    )


@login_required
@require_POST
def offer_withdraw(request, slug: str, public_id: str):
    def act(city, offer, form):
        services.offer_withdraw(offer=offer, by=request.user)

    return _object_action(
        request, slug, SellOffer, public_id, act, _("Offer withdrawn; the tokens are back.")
    )


@login_required
@require_POST
def forward_create(request, slug: str):
    def act(city, form):
        services.forward_order_create(
            city=city,
            by=request.user,
            token_class=form.cleaned_data["token_class"],
            quantity=form.cleaned_data["quantity"],
            unit_price_cents=form.unit_price_cents(),
        )

    return _market_action(
        request,
        slug,
        ForwardOrderForm,
        "forward_form",
        act,
        _("Forward order placed: it fills as tokens are issued."),
    )


@login_required
@require_POST
def forward_cancel(request, slug: str, public_id: str):
    def act(city, order, form):
        services.forward_order_cancel(order=order, by=request.user)

    return _object_action(
        request,
        slug,
        ForwardOrder,
        public_id,
        act,
        _("Order cancelled: the city owes you the unfilled part."),
    )


@login_required
@require_POST
def merchant_create(request, slug: str):
    def act(city, form):
        data = form.cleaned_data
        services.merchant_offer_create(
            city=city,
            by=request.user,
            title=data["title"],
            description=data["description"],
            token_class=data["token_class"],
            price_quantity=data["price_quantity"],
            settlement=data["settlement"],
            stock=data["stock"],
        )

    return _market_action(
        request, slug, MerchantOfferForm, "merchant_form", act, _("Your offer is published.")
    )


@login_required
@require_POST
def merchant_redeem(request, slug: str, public_id: str):
    def act(city, offer, form):
        services.merchant_offer_redeem(
            offer=offer,
            buyer=services.portfolio_for(city=city, user=request.user),
            by=request.user,
            items=form.cleaned_data["items"],
        )

    return _object_action(
        request,
        slug,
        MerchantOffer,
        public_id,
        act,
        _("Done: the tokens are spent. Show this message to the merchant."),
        MerchantRedeemForm,
    )


@login_required
@require_POST
def merchant_close(request, slug: str, public_id: str):
    def act(city, offer, form):
        services.merchant_offer_close(offer=offer, by=request.user)

    return _object_action(request, slug, MerchantOffer, public_id, act, _("Offer closed."))


@login_required
@require_POST
def project_create(request, slug: str):
    def act(city, form):
        data = form.cleaned_data
        services.project_create(
            city=city,
            by=request.user,
            title=data["title"],
            description=data["description"],
            token_class=data["token_class"],
            goal_quantity=data["goal_quantity"] or 0,
            goal_cents=form.goal_cents(),
        )

    return _market_action(
        request, slug, ProjectForm, "project_form", act, _("Your project collects from now on.")
    )


@login_required
@require_POST
def project_contribute(request, slug: str, public_id: str):
    def act(city, project, form):
        services.project_contribute(
            project=project,
            contributor=services.portfolio_for(city=city, user=request.user),
            by=request.user,
            quantity=form.cleaned_data["quantity"] or 0,
            amount_cents=form.amount_cents(),
        )

    return _object_action(
        request,
        slug,
        Project,
        public_id,
        act,
        _("Thank you: your gift is recorded."),
        ContributeForm,
    )


@login_required
@require_POST
def call_register(request, slug: str, public_id: str):
    def act(city, call, form):
        services.participation_register(call=call, by=request.user)

    return _object_action(request, slug, ParticipationCall, public_id, act, _("You are signed up."))


# --- dashboards ---------------------------------------------------------------------------


def _dashboard_csv(city, page, table: str, *, staff: bool) -> HttpResponse:
    rows = page_selectors.csv_rows(page, table)
    if rows is None and staff and table == "claims":
        rows = (["state", "claims"], [[k, v] for k, v in page.claims_by_state.items()])
    if rows is None and staff and table == "payables":
        rows = (
            ["kind", "amount_cents", "count"],
            [[p["kind"], p["amount_cents"], p["count"]] for p in page.payables],
        )
    if rows is None:
        raise Http404
    header, body = rows
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"impact-{city.slug}-{table}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    for row in body:
        writer.writerow([_csv_cell(cell) for cell in row])
    return response


def _dashboard(request, slug: str, *, staff: bool, status: int = 200, **forms):
    city, viewer = _city_and_viewer(request, slug)
    if staff:
        _require_staff(viewer)
    filters = DashboardFilterForm(request.GET or None)
    since = filters.since(timezone.localdate())
    page = page_selectors.dashboard_page(city=city, since=since, staff=staff)
    if request.GET.get("format") == "csv":
        return _dashboard_csv(city, page, request.GET.get("table", "impact"), staff=staff)
    context = _context(
        request,
        city,
        viewer,
        page=page,
        filters=filters,
        staff_view=staff,
        since=since,
    )
    if staff:
        context.update(
            curator_form=forms.get("curator_form") or CuratorGrantForm(),
            rate_form=forms.get("rate_form") or RedemptionRateForm(),
            call_form=forms.get("call_form") or ParticipationCallForm(),
            rates=page_selectors.redemption_rates(city=city),
            participations=list(page_selectors.participations_to_reward(city=city)),
            calls=list(selectors.participation_calls(city=city).filter(status="open")),
        )
    template = "impact/dashboard.html"
    if request.htmx and request.method == "GET":
        template += "#dashboard-figures"
    return render(request, template, context, status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request, slug: str):
    """The municipality's SDG dashboard: the public figures, plus claims by state, what the
    city owes, curators, redemption rates and participation calls."""
    return _dashboard(request, slug, staff=True)


@require_GET
@vary_on_headers("HX-Request")
def dashboard_public(request, slug: str):
    """The city's public SDG figures: aggregates only."""
    return _dashboard(request, slug, staff=False)


def _staff_action(request, slug: str, form_class, form_name: str, act, done: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_staff(viewer)
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        try:
            act(city, form)
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        if not form.errors:
            messages.success(request, done)
            return redirect(_url("dashboard", city))
    return _dashboard(request, slug, staff=True, status=status, **{form_name: form})


@login_required
@require_POST
def curator_grant(request, slug: str):
    def act(city, form):
        member = page_selectors.member_by_reference(
            city=city, reference=form.cleaned_data["member"]
        )
        if member is None:
            form.add_error("member", _("No approved member of this city has this DID or name."))
            return
        services.curator_grant(city=city, membership=member, by=request.user)

    return _staff_action(
        request, slug, CuratorGrantForm, "curator_form", act, _("The member is now a curator.")
    )


@login_required
@require_POST
def rate_set(request, slug: str):
    def act(city, form):
        services.redemption_rate_set(
            city=city,
            by=request.user,
            token_class=form.cleaned_data["token_class"],
            cents_per_unit=form.rate_cents(),
        )

    return _staff_action(
        request, slug, RedemptionRateForm, "rate_form", act, _("Redemption rate set.")
    )


@login_required
@require_POST
def call_create(request, slug: str):
    def act(city, form):
        data = form.cleaned_data
        services.participation_call_create(
            city=city,
            by=request.user,
            title=data["title"],
            description=data["description"],
            token_class=data["token_class"],
            reward_quantity=data["reward_quantity"],
            places=data["places"],
        )

    return _staff_action(
        request, slug, ParticipationCallForm, "call_form", act, _("Participation call open.")
    )


@login_required
@require_POST
def participation_reward(request, slug: str, public_id: str, membership_id: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_staff(viewer)
    participation = Participation.objects.filter(
        call__city=city, call__public_id=public_id, membership__public_id=membership_id
    ).first()
    if participation is None:
        raise Http404
    try:
        services.participation_reward(participation=participation, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Participant rewarded from the city's portfolio."))
    return redirect(_url("dashboard", city))

"""Pages of the operator's cooperative (`/cooperative/`): overview, proposals and votes of the
general assembly, the public cap table, my shares, the board's admissions and the yearly
distributions with their arithmetic. Every form posts without JavaScript."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from governance import services as gov_services
from governance.forms import OpenForm, VoteForm
from governance.models import ProposalStatus
from ledger.errors import LedgerError
from smartb.htmx import form_error_status

from . import selectors, services
from .forms import ProposalForm, SubscribeForm, TransferForm, WithdrawForm
from .models import ShareMovement
from .rules import NETWORK_KINDS

KIND_LABELS = {
    "approve_accounts": gettext_lazy("approve the year's accounts"),
    "audit_standards": gettext_lazy("audit standards"),
    "fees_schedule": gettext_lazy("fees schedule"),
    "admit_city": gettext_lazy("admit a new city"),
    "city_independence": gettext_lazy("a city's request for independence"),
    "admit_member": gettext_lazy("admit a member"),
    "general": gettext_lazy("general"),
    "amend_rules": gettext_lazy("amend the rules"),
}
PROPOSABLE = ["approve_accounts", "general", "amend_rules", *NETWORK_KINDS[1:]]


def _viewer(request, body):
    return gov_selectors.membership_of(request.user, body)


def _context(request, body, viewer, **extra) -> dict:
    return {
        "body": body,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "is_board": services.is_board(request.user),
        "kind_labels": KIND_LABELS,
        **extra,
    }


def _error_status(error: LedgerError) -> int:
    return form_error_status(error, answered=(409,))


def _proposal_url(proposal, anchor: str = "") -> str:
    url = reverse("cooperative:proposal", args=[proposal.public_id])
    return f"{url}#{anchor}" if anchor else url


def _kinds_for(viewer, body) -> list[tuple[str, str]]:
    rules = gov_services.rules_in_force(body).rules
    return [
        (kind, KIND_LABELS[kind])
        for kind in PROPOSABLE
        if gov_permissions.can_propose(viewer, kind, rules)
    ]


# --- overview and proposals ---------------------------------------------------------------


def _overview_context(request, body, viewer, *, proposal_form=None) -> dict:
    rules_version = gov_services.rules_in_force(body)
    kinds = _kinds_for(viewer, body)
    return _context(
        request,
        body,
        viewer,
        colleges=selectors.colleges_overview(body),
        rules_version=rules_version,
        rules=rules_version.rules,
        coop_rules=services.cooperative_rules(body),
        proposals=selectors.proposals_visible(body, viewer),
        decisions=selectors.decisions_in_force(),
        cap=selectors.cap_table(body),
        proposal_form=proposal_form or ProposalForm(kinds=kinds),
        can_propose=bool(kinds),
    )


@require_GET
def overview(request):
    body = services.cooperative_body()
    if body is None:  # not set up yet: the operator can do it from here
        return render(request, "cooperative/overview.html", _context(request, None, None))
    viewer = _viewer(request, body)
    return render(request, "cooperative/overview.html", _overview_context(request, body, viewer))


@login_required
@require_POST
def setup(request):
    if not services.is_board(request.user):
        raise PermissionDenied(_("Only the board does this."))
    try:
        services.cooperative_setup(operator=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    return redirect("cooperative:overview")


@login_required
@require_POST
def proposal_create(request):
    body = selectors.body_get()
    viewer = _viewer(request, body)
    kinds = _kinds_for(viewer, body)
    if not kinds:
        raise PermissionDenied(_("Only members of the cooperative propose."))
    form = ProposalForm(request.POST, kinds=kinds)
    if form.is_valid():
        try:
            proposal = gov_services.proposal_create(
                author=viewer,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                parameters=form.cleaned_data["parameters"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your draft is recorded. Open the vote when ready."))
            return redirect(_proposal_url(proposal))
    context = _overview_context(request, body, viewer, proposal_form=form)
    return render(request, "cooperative/overview.html", context, status=400)


def _render_proposal(request, body, viewer, proposal, *, status=200, **forms):
    page = gov_selectors.proposal_page(proposal, user=request.user, viewer=viewer)
    distribution = getattr(proposal, "distribution", None)
    decision = getattr(proposal, "network_decision", None)
    default_close = (timezone.localtime() + timedelta(days=7)).replace(second=0, microsecond=0)
    context = _context(
        request,
        body,
        viewer,
        proposal=proposal,
        page=page,
        kind_label=KIND_LABELS.get(proposal.kind, proposal.kind),
        vote_form=forms.get("vote_form")
        or VoteForm(initial={"choice": page.vote.ballot.choice} if page.vote.ballot else None),
        open_form=forms.get("open_form") or OpenForm(initial={"closes_at": default_close}),
        can_open=gov_permissions.is_member(viewer)
        and proposal.status == ProposalStatus.DRAFT
        and proposal.author_id == viewer.pk,
        can_close=services.is_board(request.user)
        and proposal.status == ProposalStatus.OPEN
        and proposal.closes_at is not None
        and proposal.closes_at <= timezone.now(),
        distribution=distribution,
        decision=decision,
    )
    return render(request, "cooperative/proposal.html", context, status=status)


@require_GET
def proposal_detail(request, public_id: str):
    body = selectors.body_get()
    viewer = _viewer(request, body)
    proposal = selectors.proposal_get(body, public_id, viewer)
    return _render_proposal(request, body, viewer, proposal)


@login_required
@require_POST
def proposal_open(request, public_id: str):
    body = selectors.body_get()
    viewer = _viewer(request, body)
    proposal = selectors.proposal_get(body, public_id, viewer)
    form = OpenForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            gov_services.proposal_open(
                proposal=proposal, by=viewer, closes_at=form.cleaned_data["closes_at"]
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("The vote is open."))
            return redirect(_proposal_url(proposal))
    return _render_proposal(request, body, viewer, proposal, status=status, open_form=form)


@login_required
@require_POST
def proposal_vote(request, public_id: str):
    body = selectors.body_get()
    viewer = _viewer(request, body)
    proposal = selectors.proposal_get(body, public_id, viewer)
    if not gov_permissions.is_member(viewer):
        raise PermissionDenied(_("Only members of the cooperative vote."))
    form = VoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            gov_services.vote_cast(
                proposal=proposal, member=viewer, choice=form.cleaned_data["choice"]
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("Your vote is recorded and signed."))
            return redirect(_proposal_url(proposal, "vote-panel"))
    return _render_proposal(request, body, viewer, proposal, status=status, vote_form=form)


@login_required
@require_POST
def proposal_close(request, public_id: str):
    """The board closes a vote whose deadline passed (beat does it too) and executes it."""
    body = selectors.body_get()
    if not services.is_board(request.user):
        raise PermissionDenied(_("Only the board does this."))
    proposal = selectors.proposal_get(body, public_id, _viewer(request, body))
    try:
        proposal = gov_services.proposal_close(proposal=proposal)
        gov_services.proposal_execute(proposal=proposal)
    except LedgerError as error:
        messages.error(request, error.message)
    return redirect(_proposal_url(proposal))


# --- cap table -----------------------------------------------------------------------------


@require_GET
def cap_table(request):
    body = selectors.body_get()
    context = _context(
        request,
        body,
        _viewer(request, body),
        cap=selectors.cap_table(body),
        movements=selectors.register_movements(body),
    )
    return render(request, "cooperative/cap_table.html", context)


@require_GET
def cap_table_csv(request):
    body = selectors.body_get()
    cap = selectors.cap_table(body)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cooperative-cap-table.csv"'
    writer = csv.writer(response)
    writer.writerow(["did", "college", "shares", "capital_cents", "percent", "horizons"])
    for row in cap["rows"]:
        horizons = " ".join(f"{years}y:{shares}" for years, shares in row.horizons)
        writer.writerow(
            [row.did, row.college_slug, row.shares, row.capital_cents, row.percent, horizons]
        )
    return response


# --- my shares -------------------------------------------------------------------------------


def _my_shares_page(request, body, *, status=200, **forms):
    mine = selectors.my_shares(body, request.user)
    colleges = [row["college"] for row in selectors.colleges_overview(body)]
    for college in colleges:
        college.label = gov_selectors.college_label(college)
    newcomer = mine["membership"] is None
    context = _context(
        request,
        body,
        mine["membership"],
        mine=mine,
        subscribe_form=forms.get("subscribe_form")
        or SubscribeForm(colleges=colleges, newcomer=newcomer),
        transfer_form=forms.get("transfer_form") or TransferForm(holdings=mine["holdings"]),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(holdings=mine["holdings"]),
    )
    return render(request, "cooperative/my_shares.html", context, status=status)


@login_required
@require_GET
def my_shares(request):
    return _my_shares_page(request, selectors.body_get())


def _colleges(body):
    colleges = list(body.colleges.order_by("position"))
    for college in colleges:
        college.label = gov_selectors.college_label(college)
    return colleges


@login_required
@require_POST
def subscribe(request):
    body = selectors.body_get()
    newcomer = services.member_of(request.user, body) is None
    form = SubscribeForm(request.POST, colleges=_colleges(body), newcomer=newcomer)
    status = 400
    if form.is_valid():
        college = None
        if newcomer:
            college = body.colleges.filter(slug=form.cleaned_data["college"]).first()
        try:
            movement = services.share_subscribe(
                user=request.user,
                shares=form.cleaned_data["shares"],
                horizon_years=form.cleaned_data["horizon_years"],
                college=college,
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            if movement.status == "pending":
                messages.success(request, _("Your subscription is signed and waits for admission."))
            else:
                messages.success(request, _("Your new shares are recorded and signed."))
            return redirect("cooperative:my_shares")
    return _my_shares_page(request, body, status=status, subscribe_form=form)


@login_required
@require_POST
def transfer(request):
    body = selectors.body_get()
    holdings = selectors.my_shares(body, request.user)["holdings"]
    form = TransferForm(request.POST, holdings=holdings)
    status = 400
    if form.is_valid():
        try:
            services.share_transfer(
                user=request.user,
                to_did=form.cleaned_data["to_did"],
                shares=form.cleaned_data["shares"],
                horizon_years=form.cleaned_data["horizon_years"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("The transfer is recorded and signed."))
            return redirect("cooperative:my_shares")
    return _my_shares_page(request, body, status=status, transfer_form=form)


@login_required
@require_POST
def withdraw(request):
    body = selectors.body_get()
    holdings = selectors.my_shares(body, request.user)["holdings"]
    form = WithdrawForm(request.POST, holdings=holdings)
    status = 400
    if form.is_valid():
        try:
            services.share_withdraw(
                user=request.user,
                shares=form.cleaned_data["shares"],
                horizon_years=form.cleaned_data["horizon_years"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("Your shares are redeemed at their nominal value."))
            return redirect("cooperative:my_shares")
    return _my_shares_page(request, body, status=status, withdraw_form=form)


# --- the board ----------------------------------------------------------------------------------


@login_required
@require_GET
def board(request):
    body = selectors.body_get()
    if not services.is_board(request.user):
        raise PermissionDenied(_("Only the board does this."))
    context = _context(
        request,
        body,
        _viewer(request, body),
        pending=selectors.pending_subscriptions(),
        coop_rules=services.cooperative_rules(body),
    )
    return render(request, "cooperative/board.html", context)


@login_required
@require_http_methods(["POST"])
def board_decide(request, public_id: str, decision: str):
    selectors.body_get()
    movement = ShareMovement.objects.filter(public_id=public_id).first()
    if movement is None:
        raise Http404("no such subscription")
    if decision == "cancel" and movement.user_id == request.user.pk:
        pass  # the subscriber withdraws their own request
    elif not services.is_board(request.user):
        raise PermissionDenied(_("Only the board does this."))
    try:
        if decision == "admit":
            services.subscription_admit(movement=movement, by=request.user)
            messages.success(request, _("The member is admitted and the shares are issued."))
        else:
            services.subscription_refuse(movement=movement, by=request.user)
            messages.success(request, _("The subscription is closed without shares."))
    except LedgerError as error:
        messages.error(request, error.message)
    if decision == "cancel":
        return redirect("cooperative:my_shares")
    return redirect("cooperative:board")


# --- distributions ------------------------------------------------------------------------------


@require_GET
def distribution_list(request):
    body = selectors.body_get()
    context = _context(
        request,
        body,
        _viewer(request, body),
        distributions=selectors.distributions(),
        coop_rules=services.cooperative_rules(body),
    )
    return render(request, "cooperative/distribution_list.html", context)


@require_GET
def distribution_detail(request, public_id: str):
    body = selectors.body_get()
    viewer = _viewer(request, body)
    distribution = selectors.distribution_get(public_id)
    my_did = viewer.identity.did if viewer is not None else None
    context = _context(
        request,
        body,
        viewer,
        distribution=distribution,
        c=distribution.computation,
        my_did=my_did,
    )
    return render(request, "cooperative/distribution_detail.html", context)


@require_GET
def distribution_csv(request, public_id: str):
    distribution = selectors.distribution_get(public_id)
    c = distribution.computation
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="cooperative-distribution-{distribution.year}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "holding",
            "member",
            "shares",
            "horizon_years",
            "weight_percent",
            "weight",
            "exact_cents",
            "floor_cents",
            "remainder",
            "extra_cent",
            "amount_cents",
        ]
    )
    for row in c["lines"]:
        writer.writerow(
            [
                row["holding"],
                row["member"],
                row["shares"],
                row["horizon_years"],
                row["weight_percent"],
                row["weight"],
                row["exact"],
                row["floor_cents"],
                row["remainder"],
                int(row["extra_cent"]),
                row["amount_cents"],
            ]
        )
    writer.writerow([])
    writer.writerow(["result_cents", c["result_cents"]])
    writer.writerow(["rate", c["rate"]])
    writer.writerow(["cap_cents", c["cap_cents"]])
    writer.writerow(["total_weight", c["total_weight"]])
    writer.writerow(["distributed_cents", c["distributed_cents"]])
    writer.writerow(["computation_sha256", distribution.digest])
    return response

"""A city's governance pages under /c/<slug>/: HTMX-enhanced, all usable without JavaScript.

Each view parses the request, checks permission (`permissions`), calls one service or
selector and renders. Service errors (`GovernanceError`, `LedgerError`: each has a
`.message` in the user's language) become form errors or messages, never a 500.
Anonymous visitors are sent to log in for member actions; a signed-in non-member gets 403;
a draft the viewer may not see is 404, like a proposal that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from ledger.errors import LedgerError
from smartb.htmx import form_error_status

from . import permissions, selectors, services
from .budget import budget_call_amend, budget_call_create, is_budget_call
from .budget_pages import budget_panel
from .forms import (
    BudgetCallForm,
    CommentForm,
    JoinForm,
    OpenForm,
    ProposalFilterForm,
    ProposalForm,
    RefuseForm,
    VoteForm,
)
from .models import ProposalKind

PROPOSALS_PER_PAGE = 20
MEMBERS_PER_PAGE = 50

# Which form field a service error belongs to, by its stable code.
JOIN_ERROR_FIELDS = {"residency_not_proven": "postal_code", "invalid_siret": "siret"}


def _city_and_viewer(request, slug: str):
    city = selectors.city_get(slug)
    return city, selectors.membership_of(request.user, city)


def _context(city, viewer, **extra) -> dict:
    """What every city page needs: the city, and who the viewer is in it."""
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": permissions.is_member(viewer),
        "viewer_is_staff": permissions.is_staff_membership(viewer),
        **extra,
    }


def _require_member(viewer) -> None:
    if not permissions.is_member(viewer):
        raise PermissionDenied(_("Only approved members of this city may do this."))


def _require_staff(viewer) -> None:
    if not permissions.can_administer(viewer):
        raise PermissionDenied(_("Only this city's municipality staff may do this."))


def _posted(request):
    """The submitted data of a POST (even empty, so that the form shows what is missing)."""
    return request.POST if request.method == "POST" else None


def _error_status(error: LedgerError) -> int:
    """Form errors answer 400 or 409 (a refusal by permission too is shown as a 400)."""
    return form_error_status(error, answered=(409,))


def _proposal_url(proposal, anchor: str = "") -> str:
    url = reverse("governance:proposal_detail", args=[proposal.city.slug, proposal.public_id])
    return f"{url}#{anchor}" if anchor else url


# --- cities ----------------------------------------------------------------------------


@require_GET
def city_list(request):
    return render(request, "governance/city_list.html", {"cities": selectors.city_list()})


@require_GET
def city_home(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    rules = selectors.rules_in_force(city)
    colleges = selectors.colleges_of(city)
    context = _context(
        city,
        viewer,
        colleges=colleges,
        rules=selectors.rules_summary(rules.rules, colleges=colleges, version=rules.version),
        proposals=selectors.proposals_of(city, viewer=viewer)[:5],
        treasury=selectors.treasury_balances(city),
    )
    return render(request, "governance/city_home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def city_join(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    form = JoinForm(_posted(request), colleges=selectors.joinable_colleges(city))
    status = 200
    if request.method == "POST" and viewer is None:
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.membership_request(
                    user=request.user,
                    city=city,
                    college=data["college"],
                    postal_address=data["postal_address"],
                    postal_code=data["postal_code"],
                    siret=data["siret"],
                )
            except LedgerError as error:
                form.add_error(JOIN_ERROR_FIELDS.get(error.code), error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("Your request was sent. The municipality staff will check it."),
                )
                return redirect("governance:city_home", slug=city.slug)
        else:
            status = 400
    elif request.method == "POST":
        status = 409
    return render(request, "governance/join.html", _context(city, viewer, form=form), status=status)


# --- proposals -------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def proposal_list(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    filters = ProposalFilterForm(request.GET or None)
    proposals = selectors.proposals_of(city, viewer=viewer, **filters.filters())
    page = Paginator(proposals, PROPOSALS_PER_PAGE).get_page(request.GET.get("page"))
    template = "governance/proposal_list.html"
    if request.htmx:
        template += "#proposal-list"
    return render(request, template, _context(city, viewer, filters=filters, proposals=page))


BUDGET_HELP = gettext_lazy(
    "Several projects under one budget: each member picks projects within it; the most "
    "supported are funded while the money lasts."
)


def _kind_choices(kinds: list[str]) -> list[tuple[str, str, str]]:
    """The kind chooser's entries (query string, label, help); a participatory budget is a
    fund_project call of its own."""
    choices = []
    for kind in kinds:
        choices.append(
            (f"kind={kind}", ProposalKind(kind).label, selectors.KIND_HELP.get(kind, ""))
        )
        if kind == ProposalKind.FUND_PROJECT:
            choices.append((f"kind={kind}&budget=1", _("participatory budget"), BUDGET_HELP))
    return choices


def _proposal_form(request, city, rules, *, budget: bool, proposal=None):
    """The form of a new or amended proposal (a budget call has its projects' rows)."""
    colleges = selectors.colleges_of(city)
    kind = proposal.kind if proposal else request.POST.get("kind") or request.GET.get("kind")
    if budget:
        return BudgetCallForm(
            _posted(request),
            colleges=colleges,
            rules=rules,
            initial=BudgetCallForm.initial_from(proposal) if proposal else None,
            projects=list(proposal.budget_projects.order_by("position")) if proposal else (),
        )
    return ProposalForm(
        _posted(request),
        kind=kind,
        colleges=colleges,
        rules=rules,
        initial=ProposalForm.initial_from(proposal) if proposal else None,
    )


def _form_page(request, city, viewer, form, *, proposal=None, status=200):
    """The proposal form's page, or (to HTMX) the form alone, errors shown in place."""
    kind_label = ProposalKind(form.kind).label
    if form.is_budget_call:
        kind_label = _("participatory budget")
    context = _context(
        city, viewer, form=form, kind=form.kind, kind_label=kind_label, proposal=proposal
    )
    template = "governance/proposal_form.html"
    if request.htmx:
        template += "#proposal-form"
    return render(request, template, context, status=status)


def _to_proposal(request, proposal) -> HttpResponse:
    """After a saved draft: a redirect, or HTMX's full-page redirect."""
    if request.htmx:
        return HttpResponseClientRedirect(_proposal_url(proposal))
    return redirect(_proposal_url(proposal))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def proposal_create(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    rules = selectors.rules_in_force(city).rules
    kinds = permissions.proposable_kinds(viewer, rules)
    kind = request.POST.get("kind") or request.GET.get("kind")
    if kind not in kinds:
        if request.method == "POST":
            raise PermissionDenied(_("The rules do not let your college propose this kind."))
        context = _context(city, viewer, kinds=_kind_choices(kinds), asked=kind)
        return render(request, "governance/proposal_kind.html", context)
    budget = kind == ProposalKind.FUND_PROJECT and (
        (request.POST.get("budget") or request.GET.get("budget")) == "1"
    )
    form = _proposal_form(request, city, rules, budget=budget)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if budget:
                    proposal = budget_call_create(
                        author=viewer,
                        title=data["title"],
                        body=data["body"],
                        budget_cents=form.budget_cents(),
                        projects=form.project_rows(),
                    )
                else:
                    proposal = services.proposal_create(
                        author=viewer,
                        kind=kind,
                        title=data["title"],
                        body=data["body"],
                        parameters=form.parameters(),
                    )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request, _("Draft saved. Debate it, amend it, then open the vote.")
                )
                return _to_proposal(request, proposal)
    return _form_page(request, city, viewer, form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def proposal_amend(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    if proposal.author_id != viewer.pk:
        raise PermissionDenied(_("Only the author amends a draft."))
    rules = selectors.rules_in_force(city).rules
    budget = is_budget_call(proposal)
    form = _proposal_form(request, city, rules, budget=budget, proposal=proposal)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if budget:
                    budget_call_amend(
                        proposal=proposal,
                        by=viewer,
                        title=data["title"],
                        body=data["body"],
                        budget_cents=form.budget_cents(),
                        projects=form.project_rows(),
                        remove=form.removed(),
                    )
                else:
                    services.proposal_amend(
                        proposal=proposal,
                        by=viewer,
                        title=data["title"],
                        body=data["body"],
                        parameters=form.parameters(),
                    )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(request, _("Draft amended."))
                return _to_proposal(request, proposal)
    return _form_page(request, city, viewer, form, proposal=proposal, status=status)


def _render_proposal(request, city, viewer, proposal, *, partial="", status=200, **forms):
    page = selectors.proposal_page(proposal, user=request.user, viewer=viewer)
    vote_form = forms.get("vote_form") or VoteForm(
        initial={"choice": page.vote.ballot.choice} if page.vote.ballot else None
    )
    context = _context(
        city,
        viewer,
        proposal=proposal,
        page=page,
        vote_form=vote_form,
        comment_form=forms.get("comment_form") or CommentForm(),
        open_form=forms.get("open_form") or OpenForm(),
        can_amend=permissions.can_amend(viewer, proposal),
        can_open=permissions.can_open(viewer, proposal),
        can_comment=permissions.can_comment(viewer, proposal),
        can_vote=permissions.can_vote(viewer, proposal),
        budget=budget_panel(proposal, ballot=page.vote.ballot, form=forms.get("budget_form")),
    )
    template = "governance/proposal_detail.html"
    if partial:
        template += f"#{partial}"
    return render(request, template, context, status=status)


@require_GET
def proposal_detail(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    return _render_proposal(request, city, viewer, proposal)


@login_required
@require_POST
def proposal_open(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_member(viewer)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    if not (proposal.author_id == viewer.pk or permissions.is_staff_membership(viewer)):
        raise PermissionDenied(_("The author or the municipality staff open a vote."))
    form = OpenForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.proposal_open(
                proposal=proposal, by=viewer, closes_at=form.cleaned_data["closes_at"]
            )
        except LedgerError as error:
            form.add_error("closes_at" if error.code == "invalid_period" else None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("The vote is open."))
            return redirect(_proposal_url(proposal))
    return _render_proposal(request, city, viewer, proposal, status=status, open_form=form)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def proposal_vote(request, slug: str, public_id: str):
    """The vote panel: GET refreshes it (a new checkpoint refreshes the receipt); POST casts
    the vote. Without JavaScript a vote redirects back to the proposal, receipt shown."""
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    city, viewer = _city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    if request.method == "GET" and not request.htmx:
        return redirect(_proposal_url(proposal, "vote-panel"))
    form = VoteForm(_posted(request))
    status = 200
    if request.method == "POST":
        _require_member(viewer)
        status = 400
        if form.is_valid():
            try:
                services.vote_cast(
                    proposal=proposal, member=viewer, choice=form.cleaned_data["choice"]
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                if not request.htmx:
                    messages.success(request, _("Your vote is recorded and signed."))
                    return redirect(_proposal_url(proposal, "vote-panel"))
                form, status = None, 200
    partial = "vote-panel" if request.htmx else ""
    return _render_proposal(
        request, city, viewer, proposal, partial=partial, status=status, vote_form=form
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def comment_add(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    _require_member(viewer)
    form = CommentForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.comment_add(proposal=proposal, member=viewer, body=form.cleaned_data["body"])
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            if not request.htmx:
                messages.success(request, _("Your comment is published."))
                return redirect(_proposal_url(proposal, "debate"))
            form, status = None, 200
    partial = "debate" if request.htmx else ""
    return _render_proposal(
        request, city, viewer, proposal, partial=partial, status=status, comment_form=form
    )


@login_required
@require_GET
def receipt_download(request, slug: str, public_id: str):
    """My ballot's receipt as a JSON file, proved against the latest checkpoint."""
    city, viewer = _city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    ballot = selectors.ballot_of(request.user, proposal)
    if ballot is None:
        raise Http404("no ballot")
    receipt = selectors.receipt_of(ballot)
    if receipt is None:
        messages.info(request, _("Your receipt will be ready once the block is sealed."))
        return redirect(_proposal_url(proposal, "vote-panel"))
    response = JsonResponse(receipt, json_dumps_params={"indent": 2})
    filename = f"receipt-{city.slug}-{proposal.public_id}-{receipt['leaf_index']}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def my_votes(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    page = selectors.my_ballots_page(
        request.user, city, page=request.GET.get("page"), per_page=PROPOSALS_PER_PAGE
    )
    return render(request, "governance/my_votes.html", _context(city, viewer, ballots=page))


# --- treasury --------------------------------------------------------------------------


@require_GET
def treasury(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    context = _context(
        city,
        viewer,
        treasury=selectors.treasury_balances(city),
        movements=selectors.movements_page(city, page=request.GET.get("page")),
    )
    return render(request, "governance/treasury.html", context)


# --- municipality portal ---------------------------------------------------------------


@login_required
@require_GET
def admin_portal(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    _require_staff(viewer)
    rules = selectors.rules_in_force(city)
    colleges = selectors.colleges_of(city)
    members = Paginator(selectors.members(city), MEMBERS_PER_PAGE)
    context = _context(
        city,
        viewer,
        pending=selectors.pending_memberships(city),
        members=members.get_page(request.GET.get("members_page")),
        drafts=Paginator(selectors.proposals_of(city, viewer=viewer, status="draft"), 10).page(1),
        colleges=colleges,
        rules=selectors.rules_summary(rules.rules, colleges=colleges, version=rules.version),
        history=selectors.rules_history(city),
        refuse_form=RefuseForm(),
    )
    return render(request, "governance/admin.html", context)


def _staff_decision(request, slug: str, public_id: str, decide) -> HttpResponse:
    city, viewer = _city_and_viewer(request, slug)
    _require_staff(viewer)
    membership = selectors.membership_get(city, public_id)
    try:
        decide(membership, viewer)
    except LedgerError as error:
        messages.error(request, error.message)
    return redirect("governance:admin", slug=city.slug)


@login_required
@require_POST
def membership_approve(request, slug: str, public_id: str):
    def approve(membership, viewer):
        services.membership_approve(membership=membership, by=request.user)
        messages.success(request, _("Membership approved; its credential is issued."))

    return _staff_decision(request, slug, public_id, approve)


@login_required
@require_POST
def membership_refuse(request, slug: str, public_id: str):
    form = RefuseForm(request.POST)

    def refuse(membership, viewer):
        if not form.is_valid():
            messages.error(request, _("Say why the request is refused."))
            return
        services.membership_refuse(
            membership=membership, by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Request refused."))

    return _staff_decision(request, slug, public_id, refuse)


@login_required
@require_POST
def membership_revoke(request, slug: str, public_id: str):
    def revoke(membership, viewer):
        if not permissions.can_revoke(viewer, membership):
            raise PermissionDenied(_("You cannot revoke this membership."))
        services.membership_revoke(membership=membership, by=request.user)
        messages.success(request, _("Membership revoked; its credential is revoked too."))

    return _staff_decision(request, slug, public_id, revoke)

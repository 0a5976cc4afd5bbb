"""The app store's pages: HTMX-enhanced, every form usable without JavaScript.

- a city's store (`/c/<slug>/apps/`), a service's page, the proposal to deploy, undeploy or
  upgrade it, and the city's record of processing (GDPR Article 30), all public but the
  proposal form (members whose college the rules allow);
- the municipality's page of its services (`/c/<slug>/admin/apps/`): its staff only;
- the providers' pages (`/apps/provider/`): register one's organisation, list services, add
  versions, ask for audits, read the verdicts;
- the operator's portal (`/operator/`): create cities, register providers, audit, bounties.

Like the municipality portal, a page for a role sends an anonymous visitor to log in and
answers 403 to anyone else signed in. Each view parses, checks permission, calls one service
or selector and renders; a service's refusal (`LedgerError`, with its message in the
reader's language) becomes a form error with its 400/403/409 status, never a 500.

The record of processing is public: a municipality's record is a communicable
administrative document (CRPA, art. L. 300-2 and L. 311-1) that the CNIL encourages public
bodies to publish, and it names categories of data, never a person.
"""

from __future__ import annotations

import csv
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from governance.models import ProposalKind
from governance.services import city_create, membership_appoint, proposal_create
from ledger.errors import LedgerError
from ledger.models import NETWORK_CHAIN_SLUG
from smartb.htmx import form_error_status as _error_status
from smartb.htmx import redirect_after_form as _to

from . import page_selectors, permissions, selectors, services
from .forms import (
    AuditForm,
    CityForm,
    DeployProposalForm,
    OperatorProviderForm,
    ProviderForm,
    ServiceForm,
    StoreFilterForm,
    TaskFilterForm,
    VersionForm,
)
from .models import AuditKind, DeployAction, VersionStatus

AUDIT_QUEUE_PREVIEW = 10


def _posted(request):
    return request.POST if request.method == "POST" else None


def _city_and_viewer(request, slug: str):
    city = gov_selectors.city_get(slug)
    return city, gov_selectors.membership_of(request.user, city)


def _city_context(city, viewer, **extra) -> dict:
    """What every city page needs (the city's navigation reads it)."""
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "viewer_is_staff": gov_permissions.is_staff_membership(viewer),
        **extra,
    }


def _may_propose_deploy(city, viewer) -> bool:
    if not gov_permissions.is_member(viewer):
        return False
    rules = gov_selectors.rules_in_force(city).rules
    return gov_permissions.can_propose(viewer, ProposalKind.DEPLOY_SERVICE, rules)


def _require_operator(user) -> None:
    if not permissions.is_operator(user):
        raise PermissionDenied(_("Only the operator of the network may do this."))


# --- a city's app store --------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def store(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    filters = StoreFilterForm(request.GET or None)
    page = page_selectors.store_page(city=city, page=request.GET.get("page"), **filters.filters())
    context = _city_context(
        city,
        viewer,
        filters=filters,
        page=page,
        can_propose=_may_propose_deploy(city, viewer),
        network_chain=NETWORK_CHAIN_SLUG,
    )
    template = "marketplace/store.html"
    if request.htmx:
        template += "#store-list"
    return render(request, template, context)


@require_GET
def service_detail(request, slug: str, public_id: str):
    city, viewer = _city_and_viewer(request, slug)
    entry = page_selectors.store_entry(city=city, public_id=public_id)
    context = _city_context(
        city,
        viewer,
        entry=entry,
        proposals=page_selectors.service_proposals(city=city, service=entry.service),
        can_propose=_may_propose_deploy(city, viewer),
        network_chain=NETWORK_CHAIN_SLUG,
    )
    return render(request, "marketplace/service_detail.html", context)


ACTION_TITLES = {
    DeployAction.DEPLOY: gettext_lazy("Deploy %(service)s (version %(version)s)"),
    DeployAction.UNDEPLOY: gettext_lazy("Stop %(service)s"),
    DeployAction.UPGRADE: gettext_lazy("Upgrade %(service)s to version %(version)s"),
}


def _visible_version(public_id: str | None, user):
    if not public_id:
        return None
    try:
        return selectors.version_get(public_id=public_id, user=user)
    except Http404:
        return None


def _proposal_initial(request, city, version, action: str) -> dict:
    if version is None or action not in ACTION_TITLES:
        return {"action": action}
    service = version.service
    store_url = request.build_absolute_uri(
        reverse("marketplace:service_detail", args=[city.slug, service.public_id])
    )
    body = _("%(service)s by %(provider)s, version %(version)s. In the app store: %(url)s") % {
        "service": service.name,
        "provider": service.provider.name,
        "version": version.label,
        "url": store_url,
    }
    return {
        "action": action,
        "service_version": version.public_id,
        "title": ACTION_TITLES[action] % {"service": service.name, "version": version.label},
        "body": body,
    }


@login_required
@require_http_methods(["GET", "POST"])
def propose(request, slug: str):
    """Draft a deploy_service proposal (deploy, undeploy or upgrade a service version): the
    vote is then opened from the proposal's page, as for any proposal."""
    city, viewer = _city_and_viewer(request, slug)
    if not _may_propose_deploy(city, viewer):
        raise PermissionDenied(_("The rules do not let your college propose deployments."))
    asked = request.POST if request.method == "POST" else request.GET
    action = asked.get("action") or DeployAction.DEPLOY
    version = _visible_version(asked.get("service_version"), request.user)
    form = DeployProposalForm(
        _posted(request), initial=_proposal_initial(request, city, version, action)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and version is None:
            form.add_error("service_version", _("No such service version in the app store."))
        elif form.is_valid():
            data = form.cleaned_data
            title = (
                data["title"] or _proposal_initial(request, city, version, data["action"])["title"]
            )
            try:
                proposal = proposal_create(
                    author=viewer,
                    kind=ProposalKind.DEPLOY_SERVICE,
                    title=title,
                    body=data["body"],
                    parameters={"action": data["action"], "service_version": version.public_id},
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request, _("Draft saved. Debate it, amend it, then open the vote.")
                )
                return _to(
                    request,
                    reverse("governance:proposal_detail", args=[city.slug, proposal.public_id]),
                )
    context = _city_context(city, viewer, form=form, version=version, action=action)
    return render(request, "marketplace/propose.html", context, status=status)


# --- the record of processing (GDPR Article 30) --------------------------------------------

REGISTER_HEADERS = {
    "processing": gettext_lazy("Processing (service)"),
    "provider": gettext_lazy("Processor (provider)"),
    "provider_website": gettext_lazy("Processor contact"),
    "version": gettext_lazy("Version"),
    "purposes": gettext_lazy("Purposes"),
    "legal_basis": gettext_lazy("Legal basis"),
    "data_subjects": gettext_lazy("Categories of data subjects"),
    "personal_data": gettext_lazy("Categories of personal data"),
    "recipients": gettext_lazy("Recipients"),
    "transfers_outside_eu": gettext_lazy("Transfers outside the EU"),
    "retention": gettext_lazy("Retention period"),
    "deployed_at": gettext_lazy("In use since"),
    "declaration_digest": gettext_lazy("Declaration SHA-256"),
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    """A spreadsheet must not run a provider's text as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _register_csv(city, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"gdpr-art30-{city.slug}-{date.today().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # spreadsheets then read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [str(REGISTER_HEADERS.get(name, label)) for name, label in selectors.ARTICLE30_COLUMNS]
    )
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row.cells()])
    return response


@require_GET
def gdpr_register(request, slug: str):
    """The city's record of processing activities, from the declarations of the services it
    runs: a printable page, or CSV with `?format=csv`."""
    city, viewer = _city_and_viewer(request, slug)
    rows = selectors.gdpr_register(city=city)
    if request.GET.get("format") == "csv":
        return _register_csv(city, rows)
    context = _city_context(city, viewer, rows=rows, generated_at=timezone.now())
    return render(request, "marketplace/register.html", context)


@require_GET
def gdpr_register_csv(request, slug: str):
    city = gov_selectors.city_get(slug)
    return _register_csv(city, selectors.gdpr_register(city=city))


# --- the municipality's page of its services -----------------------------------------------


@login_required
@require_GET
def admin_apps(request, slug: str):
    city, viewer = _city_and_viewer(request, slug)
    if not gov_permissions.can_administer(viewer):
        raise PermissionDenied(_("Only this city's municipality staff may do this."))
    context = _city_context(
        city,
        viewer,
        awaiting=selectors.services_awaiting_vote(city=city, include_drafts=True),
        deployed=page_selectors.deployed_rows(city=city),
        deployable=page_selectors.deployable_entries(city=city),
        can_propose=_may_propose_deploy(city, viewer),
    )
    return render(request, "marketplace/admin_apps.html", context)


# --- providers -----------------------------------------------------------------------------


@login_required
@require_GET
def provider_home(request):
    user = request.user
    context = {
        "providers": page_selectors.my_providers(user=user),
        "can_register": permissions.can_register_provider(user, user),
    }
    return render(request, "marketplace/provider_home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def provider_register(request):
    """A member of a providers college registers their own organisation."""
    user = request.user
    allowed = permissions.can_register_provider(user, user)
    form = ProviderForm(_posted(request))
    status = 200
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied(
                _("Only a member of a providers college registers their organisation.")
            )
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.provider_register(
                    by=user,
                    owner=user,
                    name=data["name"],
                    siret=data["siret"],
                    website=data["website"],
                )
            except LedgerError as error:
                form.add_error("siret" if "siret" in error.code else None, error.message)
                status = _error_status(error)
            else:
                messages.success(request, _("Your organisation is registered with the network."))
                return redirect("marketplace:provider_home")
    context = {"form": form, "allowed": allowed}
    return render(request, "marketplace/provider_register.html", context, status=status)


def _owned(obj_provider, user) -> None:
    if not permissions.owns_provider(user, obj_provider):
        raise PermissionDenied(_("Only the provider's owner does this."))


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request, provider_id: str):
    provider = selectors.provider_get(public_id=provider_id, user=request.user)
    _owned(provider, request.user)
    form = ServiceForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                service = services.service_create(
                    provider=provider, by=request.user, **form.cleaned_data
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request, _("Service listed. Now describe its first version and its data.")
                )
                return redirect("marketplace:version_create", service_id=service.public_id)
    context = {"form": form, "provider": provider}
    return render(request, "marketplace/service_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def version_create(request, service_id: str):
    service = selectors.service_get_for_manager(public_id=service_id, user=request.user)
    _owned(service.provider, request.user)
    form = VersionForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = services.version_create(
                    service=service, by=request.user, **form.service_arguments()
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("Version %(version)s saved as a draft. Ask for its audit when it is ready.")
                    % {"version": version.label},
                )
                return _to(request, reverse("marketplace:provider_home"))
    template = "marketplace/version_form.html"
    if request.htmx:
        template += "#version-form"
    context = {"form": form, "service": service}
    return render(request, template, context, status=status)


@login_required
@require_POST
def audit_request(request, version_id: str):
    version = selectors.version_get(public_id=version_id, user=request.user)
    _owned(version.service.provider, request.user)
    try:
        services.audit_request(version=version, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Audit requested: the operator reviews the service and its data.")
        )
    return redirect("marketplace:provider_home")


# --- the operator's portal -----------------------------------------------------------------


@login_required
@require_GET
def operator_home(request):
    _require_operator(request.user)
    queue = selectors.audit_queue()
    context = {
        "cities": page_selectors.cities_overview(),
        "queue": list(queue[:AUDIT_QUEUE_PREVIEW]),
        "queue_count": queue.count(),
        "providers": page_selectors.providers_page(page=request.GET.get("providers_page")),
        "tasks": page_selectors.tasks_page(per_page=10),
        "network_chain": NETWORK_CHAIN_SLUG,
    }
    return render(request, "operator/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def operator_city_create(request):
    """Create a city (its chain, default colleges, rules and accounts) and appoint its
    municipality's first staff member, together or not at all."""
    _require_operator(request.user)
    form = CityForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    city = city_create(
                        operator=request.user,
                        slug=data["slug"],
                        name=data["name"],
                        postal_codes=data["postal_codes"],
                    )
                    membership_appoint(operator=request.user, user=data["first_staff"], city=city)
            except LedgerError as error:
                field = "slug" if error.code == "wrong_state" else None
                form.add_error(field, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("%(city)s is created; its municipality's first staff member is appointed.")
                    % {"city": city.name},
                )
                return redirect("marketplace:operator_home")
    return render(request, "operator/city_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def operator_provider_register(request):
    _require_operator(request.user)
    form = OperatorProviderForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                provider = services.provider_register(
                    by=request.user,
                    owner=data["owner"],
                    name=data["name"],
                    siret=data["siret"],
                    website=data["website"],
                )
            except LedgerError as error:
                form.add_error("siret" if "siret" in error.code else None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request, _("%(name)s is registered with the network.") % {"name": provider.name}
                )
                return redirect("marketplace:operator_home")
    return render(request, "operator/provider_form.html", {"form": form}, status=status)


@login_required
@require_GET
def operator_audits(request):
    _require_operator(request.user)
    return render(request, "operator/audits.html", {"queue": selectors.audit_queue()})


def _audit_context(request, version, form) -> dict:
    done = {audit.kind for audit in version.audits.all()}
    if form is not None:
        form.fields["kind"].choices = [c for c in AuditKind.choices if c[0] not in done]
    return {
        "version": version,
        "form": form,
        "tasks": page_selectors.audit_tasks_of(version=version),
        "can_audit": permissions.can_audit(request.user, version),
        "in_audit": version.status == VersionStatus.IN_AUDIT,
        "network_chain": NETWORK_CHAIN_SLUG,
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def operator_audit(request, version_id: str):
    """A version's declaration, its audits so far, and the form to record a review."""
    _require_operator(request.user)
    version = page_selectors.version_for_audit(public_id=version_id)
    form = AuditForm(_posted(request))
    status = 200
    if request.method == "POST":
        if not permissions.can_audit(request.user, version):
            raise PermissionDenied(_("A provider may never audit its own service."))
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                audit = services.audit_record(
                    version=version,
                    auditor=request.user,
                    kind=data["kind"],
                    findings=data["findings"],
                    verdict=data["verdict"],
                    reason=data["reason"],
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("The %(kind)s is recorded and signed.") % {"kind": audit.get_kind_display()},
                )
                return _to(request, reverse("marketplace:operator_audit", args=[version.public_id]))
    template = "operator/audit.html"
    if request.htmx:
        template += "#audit-panel"
    return render(request, template, _audit_context(request, version, form), status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def operator_tasks(request):
    _require_operator(request.user)
    filters = TaskFilterForm(request.GET or None)
    status = filters.cleaned_data.get("status") if filters.is_valid() else None
    context = {
        "filters": filters,
        "tasks": page_selectors.tasks_page(status=status or None, page=request.GET.get("page")),
        "network_chain": NETWORK_CHAIN_SLUG,
    }
    template = "operator/tasks.html"
    if request.htmx:
        template += "#task-list"
    return render(request, template, context)


@login_required
@require_POST
def operator_task_pay(request, task_id: str):
    """The operator records the payment of a completed bounty it pays."""
    _require_operator(request.user)
    task = selectors.task_get(public_id=task_id)
    try:
        services.task_pay(task=task, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The payment of the bounty is recorded and signed."))
    return redirect("marketplace:operator_tasks")

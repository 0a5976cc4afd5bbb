"""Witnessing pages of a city (`/witnesses/<city>/`): public lists of who witnesses whom,
the latest witnessed checkpoint and the inconsistency alerts; the forms of the municipality
staff to add, remove and check the logs the city witnesses. Every form posts without
JavaScript; HTMX only refreshes the list of watched logs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from governance.selectors import city_get
from ledger.errors import LedgerError
from ledger.models import Chain

from . import permissions, selectors, services
from .forms import WitnessAddForm


def _page(request, city, *, form=None, status=200):
    is_staff = permissions.can_manage_witnessing(request.user, city)
    context = {
        "city": city,
        "viewer_is_staff": is_staff,
        "watched": selectors.relations_watched_by(city=city),
        "watching": selectors.relations_watching(chain=city.chain),
        "witnessed": selectors.latest_witnessed(chain=city.chain),
        "alerts": selectors.inconsistencies_about(city=city)[:20],
        "form": form if form is not None else (WitnessAddForm(city=city) if is_staff else None),
    }
    template = "witnesses/city.html"
    if request.htmx:
        template += "#watched"
    return render(request, template, context, status=status)


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def city_witnesses(request, slug: str):
    return _page(request, city_get(slug))


def _require_staff(request, city) -> None:
    if not permissions.can_manage_witnessing(request.user, city):
        raise PermissionDenied(_("Only this city's municipality staff may do this."))


@login_required
@require_POST
def witness_add(request, slug: str):
    city = city_get(slug)
    _require_staff(request, city)
    form = WitnessAddForm(request.POST, city=city)
    if form.is_valid():
        data = form.cleaned_data
        chain = Chain.objects.filter(slug=data["chain"]).first() if data["chain"] else None
        try:
            services.witness_add(
                city=city,
                by=request.user,
                chain=chain,
                base_url=data["base_url"] or "",
                log_slug=data["log_slug"] or "",
                origin=data["origin"] or "",
                log_keys=data["log_keys"],
                quorum=data["quorum"],
            )
        except LedgerError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The city now witnesses this log."))
            return redirect("witnesses:city", slug=city.slug)
    return _page(request, city, form=form, status=400)


@login_required
@require_POST
def witness_remove(request, slug: str, public_id: str):
    city = city_get(slug)
    _require_staff(request, city)
    relation = selectors.relation_get(city=city, public_id=public_id)
    try:
        services.witness_remove(relation=relation, by=request.user)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The city no longer witnesses this log."))
    return redirect("witnesses:city", slug=city.slug)


@login_required
@require_POST
def witness_check(request, slug: str):
    """Run a witnessing round now for the city's logs (beat does it every minute)."""
    city = city_get(slug)
    _require_staff(request, city)
    outcomes = [
        services.witness_observe(relation=relation).outcome
        for relation in selectors.relations_watched_by(city=city).filter(removed_at=None)
    ]
    messages.success(
        request,
        _("Checked %(n)d log(s): %(cosigned)d new checkpoint(s) cosigned, %(refused)d refused.")
        % {
            "n": len(outcomes),
            "cosigned": outcomes.count("cosigned"),
            "refused": outcomes.count("refused"),
        },
    )
    return redirect("witnesses:city", slug=city.slug)

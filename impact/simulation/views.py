"""The impact simulation pages of a city, under /c/<slug>/impact/scenarios/: every form works
without JavaScript.

- approved members: the city's scenarios, a scenario's results (per year and indicator, a
  server-rendered chart with its table, the ROI with and without the impact value), its
  forecast against certified impact (per indicator, year and district, charts, tables and
  CSV), the comparison of scenarios side by side (charts, table and CSV);
- municipality staff: build a scenario on one or several methodologies, attach one to a
  draft or open proposal.

Like the impact pages, an anonymous visitor is sent to log in, anyone else signed in gets
403; a scenario the viewer may not see is 404, like one that does not exist. A service's
refusal becomes a form error with its 400/403/409 status, never a 500.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from governance.models import Proposal, ProposalStatus
from ledger.errors import LedgerError
from smartb.htmx import form_error_status as _error_status

from .. import permissions
from .. import selectors as impact_selectors
from ..page_selectors import Point, Series
from . import selectors, services
from .forms import AttachForm, ForecastFilterForm, MethodologiesChoiceForm, ScenarioForm

MAX_COMPARED = 10
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _page(request, slug: str, *, staff: bool = False):
    """The city and the viewer's membership; members only (staff only when asked)."""
    city = gov_selectors.city_get(slug)
    viewer = gov_selectors.membership_of(request.user, city)
    if not gov_permissions.is_member(viewer):
        raise PermissionDenied(_("Only approved members of this city may do this."))
    if staff and not permissions.can_manage_city_impact(viewer):
        raise PermissionDenied(_("Only this city's municipality staff may do this."))
    return city, viewer


def _context(request, city, viewer, **extra) -> dict:
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "viewer_is_staff": gov_permissions.is_staff_membership(viewer),
        "viewer_is_curator": permissions.curator_of(request.user, city) is not None,
        **extra,
    }


def _scenario(request, city, public_id: str):
    try:
        return selectors.scenario_get_for_user(city=city, public_id=public_id, user=request.user)
    except LedgerError as error:
        raise Http404(error.message) from error


def _url(name: str, city, *args) -> str:
    return reverse(f"impact_simulation:{name}", args=[city.slug, *args])


def _open_proposals(city):
    return Proposal.objects.filter(
        city=city, status__in=[ProposalStatus.DRAFT, ProposalStatus.OPEN]
    ).order_by("-created_at", "-pk")


def _charts(scenario) -> list[dict]:
    """Per indicator: its per-year figures and a bar chart of the expected quantity."""
    charts = []
    for position, impact in enumerate(scenario.results["impacts"]):
        series = Series(
            key=f"scenario-{position}",
            title=_("%(indicator)s, expected per year") % {"indicator": impact["indicator"]},
            unit=impact["unit"],
            points=[
                Point(label=str(year["year"]), value=year["expected"]) for year in impact["years"]
            ],
        )
        charts.append({"impact": impact, "series": series, "chart_id": f"chart-{position}"})
    return charts


# --- pages --------------------------------------------------------------------------------


@login_required
@require_GET
def scenario_list(request, slug: str):
    city, viewer = _page(request, slug)
    context = _context(request, city, viewer, scenarios=selectors.scenario_list(city=city))
    return render(request, "impact/simulation/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def scenario_create(request, slug: str):
    """Step one chooses the methodologies (a GET form, one or several), step two gives the
    investment and the low / expected / high values of each of their parameters."""
    city, viewer = _page(request, slug, staff=True)
    methodologies = impact_selectors.methodology_list()
    source = request.POST if request.method == "POST" else request.GET
    chosen = source.getlist("methodology")
    chooser = MethodologiesChoiceForm(
        {"methodology": chosen} if chosen else None, methodologies=methodologies
    )
    form, status = None, 200
    if chooser.is_valid():
        form = ScenarioForm(
            request.POST if request.method == "POST" else None,
            methodologies=chooser.cleaned_data["methodology"],
        )
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    scenario = services.scenario_create(
                        city=city, by=request.user, **form.scenario_fields()
                    )
                except LedgerError as error:
                    form.add_error(None, error.message)
                    status = _error_status(error)
                else:
                    messages.success(request, _("Scenario simulated and recorded."))
                    return redirect(_url("detail", city, scenario.public_id))
    elif request.method == "POST" or chosen:
        status = 400
    context = _context(request, city, viewer, chooser=chooser, form=form)
    return render(request, "impact/simulation/form.html", context, status=status)


@login_required
@require_GET
def scenario_detail(request, slug: str, public_id: str, attach_form=None, status: int = 200):
    city, viewer = _page(request, slug)
    scenario = _scenario(request, city, public_id)
    can_attach = permissions.can_manage_city_impact(viewer)
    if can_attach and attach_form is None:
        attach_form = AttachForm(proposals=_open_proposals(city))
    context = _context(
        request,
        city,
        viewer,
        scenario=scenario,
        results=scenario.results,
        charts=_charts(scenario),
        attachments=scenario.attachments.select_related("proposal").order_by("created_at"),
        attach_form=attach_form if can_attach else None,
    )
    return render(request, "impact/simulation/detail.html", context, status=status)


def _forecast_csv(scenario, page: dict, table: str) -> HttpResponse:
    if table == "districts":
        columns, rows = selectors.DISTRICT_COLUMNS, page["districts"]
    else:
        table, columns, rows = "forecast", selectors.FORECAST_COLUMNS, page["rows"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"scenario-{scenario.public_id}-v{scenario.version}-{table}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                _csv_cell(" ".join(map(str, row[c])) if isinstance(row[c], list) else row[c])
                for c in columns
            ]
        )
    return response


@login_required
@require_GET
@vary_on_headers("HX-Request")
def scenario_forecast(request, slug: str, public_id: str):
    """After deployment: the forecast against certified impact (approved claims on the same
    methodology version, in the scenario's districts), per indicator, year and district;
    each chart with its table, both tables in CSV (`?format=csv&table=forecast|districts`).
    `?indicator=<methodology code>` narrows it to one indicator (the HTMX fragment)."""
    city, viewer = _page(request, slug)
    scenario = _scenario(request, city, public_id)
    filters = ForecastFilterForm(request.GET or None, scenario=scenario)
    page = selectors.forecast_page(scenario=scenario, indicator=filters.chosen())
    if request.GET.get("format") == "csv":
        return _forecast_csv(scenario, page, request.GET.get("table", "forecast"))
    context = _context(request, city, viewer, scenario=scenario, page=page, filters=filters)
    template = "impact/simulation/forecast.html"
    if request.htmx:
        template += "#forecast-figures"
    return render(request, template, context)


@login_required
@require_POST
def scenario_attach(request, slug: str, public_id: str):
    city, viewer = _page(request, slug, staff=True)
    scenario = _scenario(request, city, public_id)
    form = AttachForm(request.POST, proposals=_open_proposals(city))
    status = 400
    if form.is_valid():
        try:
            services.scenario_attach(
                scenario=scenario, proposal=form.cleaned_data["proposal"], by=request.user
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("Scenario attached to the proposal."))
            return redirect(_url("detail", city, scenario.public_id))
    request.method = "GET"
    return scenario_detail(request, slug, public_id, attach_form=form, status=status)


def _compared(request, city):
    ids = list(dict.fromkeys(request.GET.getlist("scenarios")))
    if not 2 <= len(ids) <= MAX_COMPARED:
        return None, ids
    scenarios = [_scenario(request, city, public_id) for public_id in ids]
    return selectors.scenario_compare(scenarios=scenarios), ids


def _compare_charts(rows: list[dict]) -> list[dict]:
    """Side by side in pictures: per indicator (and unit), the expected total of each
    scenario over its schedule; then the expected token value of each scenario. Each chart
    comes with its table (the same points)."""
    charts, by_indicator, values = [], {}, {}
    for row in rows:
        label = f"{row['title']} (v{row['version']})"
        key = (row["indicator"], row["unit"])
        by_indicator.setdefault(key, []).append(Point(label=label, value=row["expected"]))
        total = values.setdefault(row["scenario"], Point(label=label, value=0))
        total.value += row["value_cents"]
    for position, ((indicator, unit), points) in enumerate(by_indicator.items()):
        title = _("%(indicator)s, expected over the schedule") % {"indicator": indicator}
        series = Series(key=f"compare-{position}", title=title, unit=unit, points=points)
        charts.append({"series": series, "chart_id": f"compare-chart-{position}"})
    series = Series(
        key="compare-value",
        title=_("Expected token value"),
        unit="€",
        points=list(values.values()),
        money=True,
    )
    charts.append({"series": series, "chart_id": "compare-chart-value"})
    return charts


@login_required
@require_GET
def scenario_compare(request, slug: str):
    city, viewer = _page(request, slug)
    rows, ids = _compared(request, city)
    context = _context(
        request,
        city,
        viewer,
        rows=rows,
        charts=_compare_charts(rows) if rows else [],
        csv_query="&".join(f"scenarios={public_id}" for public_id in ids),
        max_compared=MAX_COMPARED,
    )
    return render(
        request, "impact/simulation/compare.html", context, status=200 if rows is not None else 400
    )


def _csv_cell(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    if isinstance(value, int):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@login_required
@require_GET
def scenario_compare_csv(request, slug: str):
    city, _viewer = _page(request, slug)
    rows, _ids = _compared(request, city)
    if rows is None:
        return HttpResponse(
            _("Choose from 2 to %(n)s scenarios.") % {"n": MAX_COMPARED},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="scenarios.csv"'
    writer = csv.writer(response)
    writer.writerow(selectors.COMPARE_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in selectors.COMPARE_COLUMNS])
    return response

"""REST API of impact simulation (`/api/v1/impact/simulation/`).

Municipality staff build scenarios (a new version revises one), compare them side by side
(JSON or CSV), read their forecast against certified impact, and attach one to a proposal.
Approved members of the city read its scenarios; once attached to a proposal put to vote,
anyone may read that scenario. Errors are `{"error": {"code", "message"}}`: 400 bad input,
401 anonymous, 403 not allowed, 404 missing or hidden, 409 a state conflict.

Quantities are integers in the smallest unit of their token class (`unit`); money is integer
cents; ROI is in basis points (1/100 of a percent). Parameter values are decimal strings.
"""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import EntryRefField, ErrorOutput, answers
from governance.models import City, MembershipStatus, Proposal
from governance.selectors import city_get
from smartb.api import operation, parsed

from ..errors import InvalidInput, NotAllowed, NotFound
from ..models import Methodology
from ..permissions import is_staff
from . import selectors, services
from .models import InvestmentKind, Scenario

TAG = "impact simulation"
MAX_COMPARED = 10


# --- serializers --------------------------------------------------------------------------


class SimulationImpactInput(serializers.Serializer):
    methodology = serializers.CharField(help_text="a methodology version's public id")
    low = serializers.DictField(help_text='decimal strings by parameter name, e.g. {"x": "1.5"}')
    expected = serializers.DictField()
    high = serializers.DictField()
    fallback_price_cents = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="cents per smallest unit, used when the city's market has no price",
    )


class SimulationScenarioInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=InvestmentKind.choices)
    cost_cents = serializers.IntegerField()
    annual_savings_cents = serializers.IntegerField(default=0)
    start_year = serializers.IntegerField()
    years = serializers.IntegerField()
    ramp_years = serializers.IntegerField(default=1)
    districts = serializers.ListField(child=serializers.CharField(), default=list)
    draws = serializers.IntegerField(default=2000)
    seed = serializers.IntegerField(default=0)
    impacts = SimulationImpactInput(many=True)


class SimulationAttachInput(serializers.Serializer):
    proposal = serializers.CharField(help_text="the proposal's public id (same city)")


class SimulationRange(serializers.Serializer):
    expected = serializers.IntegerField()
    p5 = serializers.IntegerField()
    p50 = serializers.IntegerField()
    p95 = serializers.IntegerField()


class SimulationTotal(SimulationRange):
    value_cents = serializers.IntegerField()


class SimulationYear(SimulationTotal):
    year = serializers.IntegerField()


class SimulationImpactResult(serializers.Serializer):
    methodology = serializers.CharField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    indicator = serializers.CharField()
    token_class = serializers.CharField()
    unit = serializers.CharField()
    price_cents = serializers.IntegerField(allow_null=True)
    price_source = serializers.ChoiceField(choices=["market", "scenario", "none"])
    full_year = serializers.IntegerField()
    years = SimulationYear(many=True)
    total = SimulationTotal()


class SimulationFinancial(serializers.Serializer):
    cost_cents = serializers.IntegerField()
    returns_cents = serializers.IntegerField()
    roi_bp = serializers.IntegerField()


class SimulationWithImpact(serializers.Serializer):
    returns_cents = serializers.IntegerField()
    roi_bp = serializers.IntegerField()


class SimulationResults(serializers.Serializer):
    engine = serializers.IntegerField()
    draws = serializers.IntegerField()
    seed = serializers.IntegerField()
    rounding = serializers.CharField()
    impacts = SimulationImpactResult(many=True)
    value_cents = SimulationRange()
    financial = SimulationFinancial()
    with_impact = SimulationWithImpact()


class SimulationImpactOutput(serializers.Serializer):
    methodology = serializers.CharField(source="methodology.public_id")
    code = serializers.CharField(source="methodology.code")
    version = serializers.IntegerField(source="methodology.version")
    low = serializers.DictField(child=serializers.CharField())
    expected = serializers.DictField(child=serializers.CharField())
    high = serializers.DictField(child=serializers.CharField())
    fallback_price_cents = serializers.IntegerField(allow_null=True)


class SimulationScenarioOutput(serializers.Serializer):
    public_id = serializers.CharField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    cost_cents = serializers.IntegerField()
    annual_savings_cents = serializers.IntegerField()
    start_year = serializers.IntegerField()
    years = serializers.IntegerField()
    ramp_years = serializers.IntegerField()
    districts = serializers.ListField(child=serializers.CharField())
    draws = serializers.IntegerField()
    seed = serializers.IntegerField()
    impacts = SimulationImpactOutput(many=True, source="impacts.all")
    inputs_digest = serializers.CharField()
    results_digest = serializers.CharField()
    results = SimulationResults()
    entry = EntryRefField()
    created_at = serializers.DateTimeField()


class SimulationCompareRow(serializers.Serializer):
    scenario = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    cost_cents = serializers.IntegerField()
    start_year = serializers.IntegerField()
    years = serializers.IntegerField()
    methodology = serializers.CharField()
    methodology_version = serializers.IntegerField()
    indicator = serializers.CharField()
    unit = serializers.CharField()
    expected = serializers.IntegerField()
    p5 = serializers.IntegerField()
    p50 = serializers.IntegerField()
    p95 = serializers.IntegerField()
    price_cents = serializers.IntegerField(allow_null=True)
    price_source = serializers.CharField()
    value_cents = serializers.IntegerField()
    financial_roi_bp = serializers.IntegerField()
    impact_roi_bp = serializers.IntegerField()


class SimulationForecastRow(serializers.Serializer):
    methodology = serializers.CharField()
    methodology_version = serializers.IntegerField()
    indicator = serializers.CharField()
    unit = serializers.CharField()
    year = serializers.IntegerField()
    forecast = serializers.IntegerField()
    forecast_p5 = serializers.IntegerField()
    forecast_p95 = serializers.IntegerField()
    certified = serializers.IntegerField(
        help_text="approved claims on the same methodology version as the forecast"
    )
    certified_other_versions = serializers.IntegerField(
        help_text="approved claims on other versions of the methodology: not compared"
    )
    other_versions = serializers.ListField(child=serializers.IntegerField())


class SimulationAttachmentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    proposal = serializers.CharField(source="proposal.public_id")
    results_digest = serializers.CharField()
    scenario = SimulationScenarioOutput()
    entry = EntryRefField()
    created_at = serializers.DateTimeField()


# --- helpers ------------------------------------------------------------------------------


def _city_params():
    return [OpenApiParameter("slug", str, OpenApiParameter.PATH, description="the city")]


def _id_params(what: str):
    return [
        *_city_params(),
        OpenApiParameter("public_id", str, OpenApiParameter.PATH, description=what),
    ]


def _impacts(data: dict) -> list[dict]:
    ids = [item["methodology"] for item in data["impacts"]]
    methodologies = {m.public_id: m for m in Methodology.objects.filter(public_id__in=ids)}
    impacts = []
    for item in data["impacts"]:
        methodology = methodologies.get(item["methodology"])
        if methodology is None:
            raise InvalidInput(_("No such methodology."))
        impacts.append({**item, "methodology": methodology})
    return impacts


def _create(request, city: City, revises: Scenario | None) -> Scenario:
    # Who may come before what they sent: a non-staff member gets 403, whatever the body.
    if not is_staff(request.user, city):
        raise NotAllowed(_("Only this city's municipality staff may do this."))
    data = parsed(SimulationScenarioInput, request.data)
    data["impacts"] = _impacts(data)
    scenario = services.scenario_create(city=city, by=request.user, revises=revises, **data)
    return selectors.scenario_get_for_user(
        city=city, public_id=scenario.public_id, user=request.user
    )


def _compared(request, city: City) -> list[dict]:
    ids = [part for part in (request.query_params.get("scenarios") or "").split(",") if part]
    if not 1 <= len(ids) <= MAX_COMPARED:
        raise InvalidInput(
            _("Name from 1 to %(n)s scenarios, separated by commas.") % {"n": MAX_COMPARED}
        )
    scenarios = [
        selectors.scenario_get_for_user(city=city, public_id=public_id, user=request.user)
        for public_id in ids
    ]
    return selectors.scenario_compare(scenarios=scenarios)


COMPARE_PARAMS = [
    *_city_params(),
    OpenApiParameter(
        "scenarios", str, required=True, description="scenario public ids, comma-separated"
    ),
]


# --- views --------------------------------------------------------------------------------


class ScenarioCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        responses=answers(200, SimulationScenarioOutput(many=True), 401, 403, 404),
        tags=[TAG],
        operation_id="simulation_scenarios",
        description="Every version of every scenario of the city (approved members).",
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        if not city.memberships.filter(
            user=request.user, status=MembershipStatus.APPROVED
        ).exists():
            raise NotAllowed(_("Only approved members of this city may do this."))
        scenarios = selectors.scenario_list(city=city)
        context = {"chain": city.chain.slug}
        return Response(SimulationScenarioOutput(scenarios, many=True, context=context).data)

    @operation(
        parameters=_city_params(),
        request=SimulationScenarioInput,
        responses=answers(201, SimulationScenarioOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="simulation_scenario_create",
        description="Simulate and record a scenario (municipality staff). Parameter values "
        "are per year of full effect; every parameter of each methodology is required, within "
        "its bounds, with low ≤ expected ≤ high.",
    )
    def post(self, request, slug: str):
        return _create(request, city_get(slug), None)


class ScenarioDetailApi(APIView):
    permission_classes = [AllowAny]

    @operation(
        parameters=_id_params("the scenario"),
        responses=answers(200, SimulationScenarioOutput, 404),
        tags=[TAG],
        operation_id="simulation_scenario",
    )
    def get(self, request, slug: str, public_id: str):
        scenario = selectors.scenario_get_for_user(
            city=city_get(slug), public_id=public_id, user=request.user
        )
        return scenario


class ScenarioRevisionApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the scenario to revise"),
        request=SimulationScenarioInput,
        responses=answers(201, SimulationScenarioOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="simulation_scenario_revise",
        description="A new version of the scenario (municipality staff); earlier versions "
        "stay as they were.",
    )
    def post(self, request, slug: str, public_id: str):
        city = city_get(slug)
        scenario = selectors.scenario_get_for_user(
            city=city, public_id=public_id, user=request.user
        )
        return _create(request, city, scenario)


class CompareApi(APIView):
    permission_classes = [AllowAny]

    @operation(
        parameters=COMPARE_PARAMS,
        responses=answers(200, SimulationCompareRow(many=True), 400, 404),
        tags=[TAG],
        operation_id="simulation_compare",
        description="Scenarios side by side: one row per scenario and methodology, totals "
        "over the schedule.",
    )
    def get(self, request, slug: str):
        rows = _compared(request, city_get(slug))
        return rows


class CompareCsvApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=COMPARE_PARAMS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the same rows"),
            400: ErrorOutput,
            404: ErrorOutput,
        },
        tags=[TAG],
        operation_id="simulation_compare_csv",
    )
    def get(self, request, slug: str):
        rows = _compared(request, city_get(slug))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=selectors.COMPARE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="scenarios.csv"'
        return response


class ForecastApi(APIView):
    permission_classes = [AllowAny]

    @operation(
        parameters=_id_params("the scenario"),
        responses=answers(200, SimulationForecastRow(many=True), 404),
        tags=[TAG],
        operation_id="simulation_forecast_vs_certified",
        description="Per year of the schedule: the forecast and the certified quantity "
        "(approved claims on the same methodology version, in the scenario's districts).",
    )
    def get(self, request, slug: str, public_id: str):
        scenario = selectors.scenario_get_for_user(
            city=city_get(slug), public_id=public_id, user=request.user
        )
        rows = selectors.forecast_vs_certified(scenario=scenario)
        return rows


class AttachApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the scenario"),
        request=SimulationAttachInput,
        responses=answers(201, SimulationAttachmentOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="simulation_attach",
        description="Show the scenario with a draft or open proposal of the same city "
        "(municipality staff); its results digest goes on the ledger.",
    )
    def post(self, request, slug: str, public_id: str):
        city = city_get(slug)
        if not is_staff(request.user, city):
            raise NotAllowed(_("Only this city's municipality staff may do this."))
        scenario = selectors.scenario_get_for_user(
            city=city, public_id=public_id, user=request.user
        )
        data = parsed(SimulationAttachInput, request.data)
        proposal = Proposal.objects.filter(city=city, public_id=data["proposal"]).first()
        if proposal is None:
            raise NotFound(_("No such proposal in this city."))
        attachment = services.scenario_attach(scenario=scenario, proposal=proposal, by=request.user)
        return attachment


class ProposalScenariosApi(APIView):
    permission_classes = [AllowAny]

    @operation(
        parameters=_id_params("the proposal"),
        responses=answers(200, SimulationAttachmentOutput(many=True), 404),
        tags=[TAG],
        operation_id="simulation_proposal_scenarios",
        description="The scenarios shown with a proposal that the caller may see.",
    )
    def get(self, request, slug: str, public_id: str):
        proposal = Proposal.objects.filter(city=city_get(slug), public_id=public_id).first()
        if proposal is None:
            raise NotFound()
        attachments = [
            attachment
            for attachment in selectors.scenarios_for_proposal(proposal=proposal)
            if selectors.can_see_scenario(request.user, attachment.scenario)
        ]
        return attachments


CITY = "cities/<slug:slug>"

urlpatterns = [
    path(f"{CITY}/scenarios", ScenarioCollectionApi.as_view(), name="scenarios"),
    path(f"{CITY}/scenarios/compare", CompareApi.as_view(), name="compare"),
    path(f"{CITY}/scenarios/compare.csv", CompareCsvApi.as_view(), name="compare_csv"),
    path(f"{CITY}/scenarios/<str:public_id>", ScenarioDetailApi.as_view(), name="scenario"),
    path(
        f"{CITY}/scenarios/<str:public_id>/revisions",
        ScenarioRevisionApi.as_view(),
        name="revise",
    ),
    path(
        f"{CITY}/scenarios/<str:public_id>/forecast-vs-certified",
        ForecastApi.as_view(),
        name="forecast",
    ),
    path(f"{CITY}/scenarios/<str:public_id>/attachments", AttachApi.as_view(), name="attach"),
    path(
        f"{CITY}/proposals/<str:public_id>/scenarios",
        ProposalScenariosApi.as_view(),
        name="proposal_scenarios",
    ),
]

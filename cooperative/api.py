"""REST API of the operator's cooperative (`/api/v1/cooperative/`).

Reads are public (the share register of a cooperative is public: members appear by DID);
share movements need an account (token or session) and are signed with the caller's custodial
DID. Votes of the general assembly use the same governance services as the pages. Errors leave
as `{"error": {"code", "message"}}` (`smartb.api`): 400 bad input, 401 anonymous, 403 not
allowed, 404 missing, 409 a state conflict (not enough shares, already decided).
"""

from __future__ import annotations

import copy

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.selectors import membership_of
from governance.services import rules_in_force
from identity.api import EntryRef, entry_ref
from smartb.api import answers, parsed

from . import selectors, services
from .errors import NoCooperative
from .models import ShareMovement

TAG = "cooperative"


def _body():
    body = services.cooperative_body()
    if body is None:
        raise NoCooperative()
    return body


# --- outputs -------------------------------------------------------------------------------

CollegeOutput = type(
    "CooperativeCollege",
    (serializers.Serializer,),
    {
        "slug": serializers.CharField(),
        "kind": serializers.CharField(),
        "weight": serializers.IntegerField(),
        "quorum_percent": serializers.IntegerField(),
        "members": serializers.IntegerField(),
    },
)
ProposalRef = type(
    "CooperativeProposal",
    (serializers.Serializer,),
    {
        "id": serializers.CharField(),
        "kind": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.CharField(),
        "closes_at": serializers.DateTimeField(allow_null=True),
        "parameters": serializers.JSONField(),
        "tally": serializers.JSONField(allow_null=True),
    },
)
DecisionOutput = type(
    "CooperativeNetworkDecision",
    (serializers.Serializer,),
    {
        "kind": serializers.CharField(),
        "proposal": serializers.CharField(),
        "parameters": serializers.JSONField(),
        "effect": serializers.JSONField(),
        "entry": EntryRef,
    },
)
OverviewOutput = type(
    "CooperativeOverview",
    (serializers.Serializer,),
    {
        "chain": serializers.CharField(),
        "did": serializers.CharField(),
        "rules_version": serializers.IntegerField(),
        "rules": serializers.JSONField(),
        "colleges": CollegeOutput(many=True),
        "proposals": ProposalRef(many=True),
        "decisions": DecisionOutput(many=True),
    },
)
CapRowOutput = type(
    "CooperativeCapTableRow",
    (serializers.Serializer,),
    {
        "did": serializers.CharField(),
        "membership": serializers.CharField(),
        "college": serializers.CharField(),
        "shares": serializers.IntegerField(),
        "capital_cents": serializers.IntegerField(),
        "percent": serializers.CharField(help_text="share of all shares, two decimals"),
        "horizons": type(
            "CooperativeCapTableHorizon",
            (serializers.Serializer,),
            {"years": serializers.IntegerField(), "shares": serializers.IntegerField()},
        )(many=True),
    },
)
CapTableOutput = type(
    "CooperativeCapTable",
    (serializers.Serializer,),
    {
        "total_shares": serializers.IntegerField(),
        "total_capital_cents": serializers.IntegerField(),
        "rows": CapRowOutput(many=True),
    },
)
MovementOutput = type(
    "CooperativeShareMovement",
    (serializers.Serializer,),
    {
        "id": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=["subscribe", "transfer", "withdraw"]),
        "status": serializers.ChoiceField(choices=["pending", "done", "refused"]),
        "share_class": serializers.CharField(),
        "shares": serializers.IntegerField(),
        "horizon_years": serializers.IntegerField(),
        "amount_cents": serializers.IntegerField(),
        "college": serializers.CharField(allow_null=True),
        "from": serializers.CharField(allow_null=True),
        "to": serializers.CharField(allow_null=True),
        "entry": EntryRef,
        "decision_entry": type(
            "CooperativeEntryRef",
            (serializers.Serializer,),
            {
                "chain": serializers.CharField(),
                "index": serializers.IntegerField(),
                "tx_hash": serializers.CharField(),
            },
        )(allow_null=True),
    },
)
HoldingOutput = type(
    "CooperativeHolding",
    (serializers.Serializer,),
    {
        "id": serializers.CharField(),
        "share_class": serializers.CharField(),
        "horizon_years": serializers.IntegerField(),
        "shares": serializers.IntegerField(),
        "capital_cents": serializers.IntegerField(),
        "weight_percent": serializers.IntegerField(),
    },
)
MySharesOutput = type(
    "CooperativeMyShares",
    (serializers.Serializer,),
    {
        "membership": serializers.CharField(allow_null=True),
        "college": serializers.CharField(allow_null=True),
        "total_shares": serializers.IntegerField(),
        "holdings": HoldingOutput(many=True),
        "movements": MovementOutput(many=True),
    },
)
DistributionOutput = type(
    "CooperativeDistribution",
    (serializers.Serializer,),
    {
        "id": serializers.CharField(),
        "year": serializers.IntegerField(),
        "proposal": serializers.CharField(),
        "result_cents": serializers.IntegerField(),
        "accounts_digest": serializers.CharField(),
        "rate_basis_points": serializers.IntegerField(),
        "cap_cents": serializers.IntegerField(),
        "distributed_cents": serializers.IntegerField(),
        "digest": serializers.CharField(help_text="SHA-256 of the RFC 8785 JSON of computation"),
        "entry": EntryRef,
    },
)
DistributionDetailOutput = type(
    "CooperativeDistributionDetail",
    (serializers.Serializer,),
    {
        **copy.deepcopy(DistributionOutput._declared_fields),
        "computation": serializers.JSONField(),
    },
)


def _ref(entry) -> dict | None:
    return entry_ref(entry) if entry is not None else None


def movement_data(movement: ShareMovement) -> dict:
    return {
        "id": movement.public_id,
        "kind": movement.kind,
        "status": movement.status,
        "share_class": movement.share_class.code,
        "shares": movement.shares,
        "horizon_years": movement.horizon_years,
        "amount_cents": movement.amount_cents,
        "college": movement.college.slug if movement.college_id else None,
        "from": movement.from_membership.identity.did if movement.from_membership_id else None,
        "to": movement.to_membership.identity.did if movement.to_membership_id else None,
        "entry": _ref(movement.entry),
        "decision_entry": _ref(movement.decision_entry),
    }


def distribution_data(distribution, *, computation: bool = False) -> dict:
    data = {
        "id": distribution.public_id,
        "year": distribution.year,
        "proposal": distribution.proposal.public_id,
        "result_cents": distribution.result_cents,
        "accounts_digest": distribution.accounts_digest,
        "rate_basis_points": distribution.rate_basis_points,
        "cap_cents": distribution.cap_cents,
        "distributed_cents": distribution.distributed_cents,
        "digest": distribution.digest,
        "entry": entry_ref(distribution.entry),
    }
    if computation:
        data["computation"] = distribution.computation
    return data


# --- reads ---------------------------------------------------------------------------------


class OverviewApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=answers(200, OverviewOutput, 404), tags=[TAG], operation_id="cooperative"
    )
    def get(self, request):
        body = _body()
        viewer = membership_of(request.user, body)
        version = rules_in_force(body)
        return Response(
            {
                "chain": body.chain.slug,
                "did": body.identity.did,
                "rules_version": version.version,
                "rules": version.rules,
                "colleges": [
                    {
                        "slug": row["college"].slug,
                        "kind": row["college"].kind,
                        "weight": row["weight"],
                        "quorum_percent": row["quorum_percent"],
                        "members": row["members"],
                    }
                    for row in selectors.colleges_overview(body)
                ],
                "proposals": [
                    {
                        "id": p.public_id,
                        "kind": p.kind,
                        "title": p.title,
                        "status": p.status,
                        "closes_at": p.closes_at,
                        "parameters": p.parameters,
                        "tally": p.tally,
                    }
                    for p in selectors.proposals_visible(body, viewer)
                ],
                "decisions": [
                    {
                        "kind": d.kind,
                        "proposal": d.proposal.public_id,
                        "parameters": d.parameters,
                        "effect": d.effect,
                        "entry": entry_ref(d.entry),
                    }
                    for d in selectors.decisions_in_force().values()
                ],
            }
        )


class CapTableApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=answers(200, CapTableOutput, 404),
        tags=[TAG],
        operation_id="cooperative_cap_table",
    )
    def get(self, request):
        cap = selectors.cap_table(_body())
        return Response(
            {
                "total_shares": cap["total_shares"],
                "total_capital_cents": cap["total_capital_cents"],
                "rows": [
                    {
                        "did": row.did,
                        "membership": row.membership,
                        "college": row.college_slug,
                        "shares": row.shares,
                        "capital_cents": row.capital_cents,
                        "percent": row.percent,
                        "horizons": [{"years": y, "shares": n} for y, n in row.horizons],
                    }
                    for row in cap["rows"]
                ],
            }
        )


class DistributionListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=answers(200, DistributionOutput(many=True), 404),
        tags=[TAG],
        operation_id="cooperative_distributions",
    )
    def get(self, request):
        _body()
        return Response([distribution_data(d) for d in selectors.distributions()])


class DistributionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=answers(200, DistributionDetailOutput, 404),
        tags=[TAG],
        operation_id="cooperative_distribution",
    )
    def get(self, request, public_id: str):
        _body()
        distribution = selectors.distribution_get(public_id)
        return Response(distribution_data(distribution, computation=True))


class MySharesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, MySharesOutput, 401, 404),
        tags=[TAG],
        operation_id="cooperative_my_shares",
    )
    def get(self, request):
        mine = selectors.my_shares(_body(), request.user)
        membership = mine["membership"]
        return Response(
            {
                "membership": membership.public_id if membership else None,
                "college": membership.college.slug if membership else None,
                "total_shares": mine["total_shares"],
                "holdings": [
                    {
                        "id": h.public_id,
                        "share_class": h.share_class.code,
                        "horizon_years": h.horizon_years,
                        "shares": h.shares,
                        "capital_cents": h.capital_cents,
                        "weight_percent": h.weight_percent,
                    }
                    for h in mine["holdings"]
                ],
                "movements": [movement_data(m) for m in mine["movements"]],
            }
        )


# --- share movements ------------------------------------------------------------------------


class SubscribeInput(serializers.Serializer):
    shares = serializers.IntegerField(min_value=1, max_value=services.MAX_SHARES_PER_MOVEMENT)
    horizon_years = serializers.IntegerField(min_value=0, max_value=99)
    college = serializers.SlugField(
        required=False, help_text="newcomers: the college they ask to join"
    )


class TransferInput(serializers.Serializer):
    to = serializers.CharField(max_length=200, help_text="the receiving member's DID")
    shares = serializers.IntegerField(min_value=1, max_value=services.MAX_SHARES_PER_MOVEMENT)
    horizon_years = serializers.IntegerField(min_value=0, max_value=99)


class WithdrawInput(serializers.Serializer):
    shares = serializers.IntegerField(min_value=1, max_value=services.MAX_SHARES_PER_MOVEMENT)
    horizon_years = serializers.IntegerField(min_value=0, max_value=99)


class SubscribeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=SubscribeInput,
        responses=answers(201, MovementOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="cooperative_subscribe",
    )
    def post(self, request):
        body = _body()
        data = parsed(SubscribeInput, request.data)
        college = None
        if data.get("college"):
            college = body.colleges.filter(slug=data["college"]).first()
        movement = services.share_subscribe(
            user=request.user,
            shares=data["shares"],
            horizon_years=data["horizon_years"],
            college=college,
        )
        return Response(movement_data(movement), status=status.HTTP_201_CREATED)


class TransferApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=TransferInput,
        responses=answers(201, MovementOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="cooperative_transfer",
    )
    def post(self, request):
        _body()
        data = parsed(TransferInput, request.data)
        movement = services.share_transfer(
            user=request.user,
            to_did=data["to"],
            shares=data["shares"],
            horizon_years=data["horizon_years"],
        )
        return Response(movement_data(movement), status=status.HTTP_201_CREATED)


class WithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=WithdrawInput,
        responses=answers(201, MovementOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="cooperative_withdraw",
    )
    def post(self, request):
        _body()
        data = parsed(WithdrawInput, request.data)
        movement = services.share_withdraw(
            user=request.user, shares=data["shares"], horizon_years=data["horizon_years"]
        )
        return Response(movement_data(movement), status=status.HTTP_201_CREATED)


def _pending(public_id: str) -> ShareMovement:
    from django.http import Http404

    movement = ShareMovement.objects.filter(public_id=public_id).first()
    if movement is None:
        raise Http404("no such subscription")
    return movement


class AdmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=answers(200, MovementOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="cooperative_subscription_admit",
    )
    def post(self, request, public_id: str):
        _body()
        movement = services.subscription_admit(movement=_pending(public_id), by=request.user)
        return Response(movement_data(movement))


class RefuseApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=answers(200, MovementOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="cooperative_subscription_refuse",
    )
    def post(self, request, public_id: str):
        _body()
        movement = services.subscription_refuse(movement=_pending(public_id), by=request.user)
        return Response(movement_data(movement))


urlpatterns = [
    path("", OverviewApi.as_view(), name="overview"),
    path("cap-table", CapTableApi.as_view(), name="cap_table"),
    path("distributions", DistributionListApi.as_view(), name="distributions"),
    path("distributions/<str:public_id>", DistributionDetailApi.as_view(), name="distribution"),
    path("me/shares", MySharesApi.as_view(), name="my_shares"),
    path("subscriptions", SubscribeApi.as_view(), name="subscribe"),
    path("subscriptions/<str:public_id>/admit", AdmitApi.as_view(), name="admit"),
    path("subscriptions/<str:public_id>/refuse", RefuseApi.as_view(), name="refuse"),
    path("transfers", TransferApi.as_view(), name="transfer"),
    path("withdrawals", WithdrawApi.as_view(), name="withdraw"),
]

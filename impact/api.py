"""REST API of impact (`/api/v1/impact/`).

Each view parses its input with a serializer, checks permission with `impact.permissions`,
calls one service or selector and returns its result, answered through the output serializer
and status its schema declares (`smartb.api.operation`). Errors leave as
`{"error": {"code", "message"}}` (`smartb.api`): 400 bad input, 401 anonymous, 403 not
allowed, 404 missing or hidden, 409 a state conflict (e.g. not enough tokens).

Quantities are integers in the smallest unit of their token class (`unit` says which);
money is integer cents. Members appear as DIDs, never by name.

Signed actions (prepare → sign → submit, see `identity.signed_actions`): a service's batch
of claims (`claims/batches`), a transfer (`transfers`) and a retirement (`retirements`).
Without `created_at` and `signature`, a custodial DID is signed for by the platform.
"""

from __future__ import annotations

import base64
import binascii

from django.db.models import Q
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import EntryRefField, Pagination, answers
from governance.models import City, Membership, MembershipStatus
from governance.selectors import city_get
from identity.api import PreparedOutput, SignatureFields
from identity.signed_actions import action_execute, action_prepare, prepared_as_dict
from smartb.api import operation, parsed

from . import permissions, selectors, services
from .actions import RetireTokens, SubmitClaimBatch, TransferTokens
from .errors import InvalidInput, NotAllowed, NotFound
from .models import (
    Batch,
    Claim,
    Decision,
    MerchantSettlement,
    Methodology,
    Portfolio,
    RejectReason,
    RetireReason,
    SellOffer,
    TokenClass,
)

TAG = "impact"
SUBMIT_BATCH, TRANSFER, RETIRE = SubmitClaimBatch(), TransferTokens(), RetireTokens()


def _token_class(code: str) -> TokenClass:
    token_class = TokenClass.objects.filter(code=code).first()
    if token_class is None:
        raise InvalidInput(_("Unknown token class."))
    return token_class


def _batch(public_id: str | None, city: City) -> Batch | None:
    if not public_id:
        return None
    batch = Batch.objects.filter(public_id=public_id, city=city).first()
    if batch is None:
        raise InvalidInput(_("No such batch in this city."))
    return batch


def _member(request, city: City) -> Membership:
    membership = (
        Membership.objects.select_related("college", "identity")
        .filter(city=city, user=request.user, status=MembershipStatus.APPROVED)
        .first()
    )
    if membership is None:
        raise NotAllowed(_("Only approved members of this city may do this."))
    return membership


def _my_portfolio(request, city: City) -> Portfolio:
    _member(request, city)
    return services.portfolio_for(city=city, user=request.user)


def _portfolio_of_did(city: City, did: str) -> Portfolio:
    """The portfolio of the approved member (or the city) whose DID is `did`."""
    if did == city.identity.did:
        return services.city_portfolio(city)
    membership = (
        Membership.objects.select_related("user")
        .filter(city=city, status=MembershipStatus.APPROVED)
        .filter(Q(identity__did=did) | Q(user__identities__did=did))
        .first()
    )
    if membership is None:
        raise InvalidInput(_("No approved member of this city has this DID."))
    return services.portfolio_for(city=city, user=membership.user)


def _city_params():
    return [OpenApiParameter("slug", str, OpenApiParameter.PATH, description="the city")]


def _id_params(what: str):
    return [
        *_city_params(),
        OpenApiParameter("public_id", str, OpenApiParameter.PATH, description=what),
    ]


def _execute(action, request, data: dict, direct):
    """A signed action: client-signed when `signature` came, else `direct()` (the service
    signing with the custodial DID under its own locks)."""
    created_at, signature = data.pop("created_at", None), data.pop("signature", None)
    if signature:
        return action_execute(
            action, user=request.user, data=data, created_at=created_at, signature=signature
        )
    return direct()


# --- output serializers -------------------------------------------------------------------


class ImpactIndicatorOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField()


class ImpactTargetOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    indicators = ImpactIndicatorOutput(many=True, source="indicators.all")


class ImpactGoalOutput(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    targets = ImpactTargetOutput(many=True, source="targets.all")


class ImpactTokenClassOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    precision = serializers.IntegerField(help_text="decimal places: quantities are in 10^-p units")
    smallest_unit = serializers.CharField()
    indicator = serializers.CharField(source="indicator.code", allow_null=True, default=None)


class ImpactParameterOutput(serializers.Serializer):
    name = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.CharField()
    min_value = serializers.DecimalField(max_digits=30, decimal_places=9, allow_null=True)
    max_value = serializers.DecimalField(max_digits=30, decimal_places=9, allow_null=True)


class ImpactFactorOutput(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.DecimalField(max_digits=30, decimal_places=9)
    unit = serializers.CharField()
    source = serializers.CharField()
    source_url = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)


class ImpactEvidenceTypeOutput(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    title_en = serializers.CharField()
    title_fr = serializers.CharField()


class ImpactConceptOutput(serializers.Serializer):
    code = serializers.CharField()
    unit = serializers.CharField()
    parameter = serializers.CharField(source="parameter.name", allow_null=True, default=None)


class ImpactRequirementOutput(serializers.Serializer):
    code = serializers.CharField()
    title_en = serializers.CharField()
    title_fr = serializers.CharField()
    evidence_types = ImpactEvidenceTypeOutput(many=True, source="evidence_types.all")
    information_concepts = ImpactConceptOutput(many=True, source="information_concepts.all")


class ImpactMethodologyOutput(serializers.Serializer):
    public_id = serializers.CharField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    title = serializers.CharField()
    indicator = serializers.CharField(source="indicator.code")
    token_class = serializers.CharField(source="token_class.code")
    formula = serializers.CharField()
    digest = serializers.CharField()
    parameters = ImpactParameterOutput(many=True, source="parameters.all")
    factors = ImpactFactorOutput(many=True, source="factors.all")
    requirements = ImpactRequirementOutput(many=True, source="requirements.all")


class ImpactClaimOutput(serializers.Serializer):
    public_id = serializers.CharField()
    city = serializers.CharField(source="city.slug")
    claimant = serializers.CharField(source="claimant.identity.did")
    state = serializers.CharField()
    reason_code = serializers.CharField()
    indicator = serializers.CharField(source="indicator.code")
    methodology = serializers.CharField(source="methodology.public_id")
    token_class = serializers.CharField(source="token_class.code")
    parameters = serializers.DictField(child=serializers.CharField())
    quantity = serializers.IntegerField()
    unit = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    district = serializers.CharField(source="district_code")
    service = serializers.CharField(source="service_ref")
    batch = serializers.CharField(source="batch.public_id", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    entry = EntryRefField()


class ImpactEvidenceOutput(serializers.Serializer):
    public_id = serializers.CharField()
    type = serializers.CharField(source="evidence_type.code")
    kind = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    dataset = serializers.CharField(source="dataset_ref")
    sha256 = serializers.CharField()
    entry = EntryRefField()


class ImpactVerificationOutput(serializers.Serializer):
    public_id = serializers.CharField()
    claim = serializers.CharField(source="claim.public_id")
    curator = serializers.CharField(source="curator.membership.identity.did")
    decision = serializers.CharField()
    reason_code = serializers.CharField()
    recomputed_quantity = serializers.IntegerField()
    credential = serializers.JSONField(source="credential.document", allow_null=True, default=None)
    credential_digest = serializers.CharField(
        source="credential.digest", allow_null=True, default=None
    )
    entry = EntryRefField()


class ImpactBatchOutput(serializers.Serializer):
    public_id = serializers.CharField()
    token_class = serializers.CharField(source="token_class.code")
    vintage = serializers.IntegerField()
    number = serializers.IntegerField()
    first_serial = serializers.IntegerField()
    last_serial = serializers.IntegerField()
    quantity = serializers.IntegerField()
    serial_label = serializers.CharField()


class ImpactClaimDetailOutput(serializers.Serializer):
    claim = ImpactClaimOutput()
    complete = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="requirement codes")
    evidence = ImpactEvidenceOutput(many=True)
    verifications = ImpactVerificationOutput(many=True)
    batch = ImpactBatchOutput(allow_null=True)
    can_verify = serializers.BooleanField()


class ImpactClaimBatchOutput(serializers.Serializer):
    public_id = serializers.CharField()
    service = serializers.CharField(source="service_ref")
    provider = serializers.CharField(source="provider_did")
    reference = serializers.CharField()
    digest = serializers.CharField()
    count = serializers.IntegerField()
    claims = serializers.SerializerMethodField()
    entry = EntryRefField()

    def get_claims(self, batch) -> list[str]:
        return list(batch.claims.order_by("pk").values_list("public_id", flat=True))


class ImpactBalanceOutput(serializers.Serializer):
    token_class = serializers.CharField(source="token_class.code")
    unit = serializers.CharField(source="token_class.smallest_unit")
    available = serializers.IntegerField()
    escrow = serializers.IntegerField()
    retired = serializers.IntegerField()
    redeemed = serializers.IntegerField()


class ImpactHoldingOutput(serializers.Serializer):
    batch = serializers.CharField(source="batch.public_id")
    token_class = serializers.CharField(source="token_class.code")
    serials = serializers.SerializerMethodField()
    first_serial = serializers.IntegerField()
    last_serial = serializers.IntegerField()
    quantity = serializers.IntegerField()
    state = serializers.CharField()

    def get_serials(self, holding) -> str:
        return f"{holding.batch.serial_prefix}-{holding.first_serial}..{holding.last_serial}"


class ImpactPortfolioOutput(serializers.Serializer):
    public_id = serializers.CharField()
    holder = serializers.CharField(source="identity.did")
    accepts_forward_orders = serializers.BooleanField()
    balances = ImpactBalanceOutput(many=True)
    holdings = ImpactHoldingOutput(many=True)


class ImpactTransferOutput(serializers.Serializer):
    public_id = serializers.CharField()
    token_class = serializers.CharField(source="token_class.code")
    sender = serializers.CharField(source="sender.identity.did")
    recipient = serializers.CharField(source="recipient.identity.did")
    quantity = serializers.IntegerField()
    serials = serializers.JSONField(help_text="[[batch public id, first, last], ...]")
    purpose = serializers.CharField()
    entry = EntryRefField()


class ImpactRetirementOutput(serializers.Serializer):
    public_id = serializers.CharField()
    city = serializers.CharField(source="city.slug")
    holder = serializers.CharField(source="portfolio.identity.did")
    token_class = serializers.CharField(source="token_class.code")
    quantity = serializers.IntegerField()
    reason_code = serializers.CharField()
    beneficiary_did = serializers.CharField()
    beneficiary_name = serializers.CharField()
    serials = serializers.JSONField()
    created_at = serializers.DateTimeField()
    entry = EntryRefField()


class ImpactRangeOutput(serializers.Serializer):
    batch = serializers.CharField(source="batch.public_id")
    label = serializers.CharField()
    first = serializers.IntegerField()
    last = serializers.IntegerField()
    quantity = serializers.IntegerField()


class ImpactCertificateOutput(serializers.Serializer):
    retirement = ImpactRetirementOutput()
    ranges = ImpactRangeOutput(many=True)
    receipt = serializers.JSONField(
        allow_null=True, help_text="inclusion proof and checkpoint; null until sealed"
    )
    credentials = serializers.ListField(child=serializers.CharField())


class ImpactOfferOutput(serializers.Serializer):
    public_id = serializers.CharField()
    seller = serializers.CharField(source="seller.identity.did")
    token_class = serializers.CharField(source="token_class.code")
    quantity = serializers.IntegerField()
    remaining = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField(help_text="per smallest unit")
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ImpactPurchaseOutput(serializers.Serializer):
    public_id = serializers.CharField()
    offer = serializers.CharField(source="offer.public_id")
    quantity = serializers.IntegerField()
    amount_cents = serializers.IntegerField()
    transfer = ImpactTransferOutput()
    movement = serializers.CharField(source="movement.public_id")
    payable = serializers.CharField(source="payable.public_id")
    entry = EntryRefField()


class ImpactForwardOrderOutput(serializers.Serializer):
    public_id = serializers.CharField()
    token_class = serializers.CharField(source="token_class.code")
    quantity = serializers.IntegerField()
    filled = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    status = serializers.CharField()
    movement = serializers.CharField(source="movement.public_id")
    entry = EntryRefField()


class ImpactRedemptionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    token_class = serializers.CharField(source="token_class.code")
    quantity = serializers.IntegerField()
    amount_cents = serializers.IntegerField()
    serials = serializers.JSONField()
    payable = serializers.CharField(source="payable.public_id")
    payable_status = serializers.CharField(source="payable.status")
    entry = EntryRefField()


class ImpactImpactRowOutput(serializers.Serializer):
    month = serializers.DateField(required=False)
    goal = serializers.IntegerField(required=False)
    district_code = serializers.CharField(required=False)
    service_ref = serializers.CharField(required=False)
    indicator_code = serializers.CharField()
    token_class_code = serializers.CharField()
    unit_name = serializers.CharField()
    quantity = serializers.IntegerField()
    claims = serializers.IntegerField()


class ImpactTokenFiguresOutput(serializers.Serializer):
    token_class = serializers.CharField()
    unit = serializers.CharField()
    issued = serializers.IntegerField()
    held = serializers.IntegerField()
    retired = serializers.IntegerField()
    redeemed = serializers.IntegerField()


class ImpactInflowOutput(serializers.Serializer):
    month = serializers.DateTimeField()
    amount_cents = serializers.IntegerField()
    movements = serializers.IntegerField()


class ImpactDashboardOutput(serializers.Serializer):
    by_month = ImpactImpactRowOutput(many=True)
    by_district = ImpactImpactRowOutput(many=True)
    by_service = ImpactImpactRowOutput(many=True)
    tokens = ImpactTokenFiguresOutput(many=True)
    inflows = ImpactInflowOutput(many=True)
    claims_by_state = serializers.DictField(child=serializers.IntegerField())


# --- input serializers --------------------------------------------------------------------


class DecimalText(serializers.CharField):
    """A measured value: a decimal written as a string (or a whole number), never a JSON
    float, which would already have lost digits."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            raise serializers.ValidationError(_('Send decimal values as strings, e.g. "12.5".'))
        return super().to_internal_value(data)


def measured_values():
    return serializers.DictField(
        child=DecimalText(max_length=64),
        help_text='measured values as decimal strings, e.g. {"distance_km": "12.5"}',
    )


class ImpactClaimInput(serializers.Serializer):
    methodology = serializers.CharField(max_length=32, help_text="methodology public id")
    parameters = measured_values()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    district = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    service = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text="deployment id"
    )


class ImpactEvidenceInput(serializers.Serializer):
    type = serializers.CharField(max_length=64, help_text="evidence type code")
    file = serializers.FileField(required=False, help_text="multipart upload (at most 5 MB)")
    content_base64 = serializers.CharField(
        required=False, max_length=7_000_000, help_text="or the file, in base64"
    )
    filename = serializers.CharField(max_length=200, required=False, default="evidence")
    dataset = serializers.CharField(max_length=64, required=False)
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False)

    def validate(self, attrs):
        has_file = bool(attrs.get("file") or attrs.get("content_base64"))
        if has_file == bool(attrs.get("dataset")):
            raise serializers.ValidationError(_("Send a file, or a dataset and its sha256."))
        if attrs.get("dataset") and not attrs.get("sha256"):
            raise serializers.ValidationError(_("A dataset is cited with its sha256."))
        return attrs


class ImpactBatchItemInput(serializers.Serializer):
    claimant = serializers.CharField(max_length=32, help_text="membership public id")
    methodology = serializers.CharField(max_length=32)
    parameters = measured_values()
    period_start = serializers.CharField(max_length=10, help_text="YYYY-MM-DD")
    period_end = serializers.CharField(max_length=10)
    district = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    evidence = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        max_length=20,
        help_text="[{type, dataset, sha256}]",
    )


class ImpactBatchInput(serializers.Serializer):
    service = serializers.CharField(max_length=32, help_text="the deployment's public id")
    reference = serializers.CharField(max_length=64, help_text="idempotency key")
    items = ImpactBatchItemInput(many=True)


class ImpactBatchSubmitInput(ImpactBatchInput, SignatureFields):
    pass


class ImpactVerifyInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    recomputed_quantity = serializers.IntegerField(min_value=0)
    reason_code = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, allow_blank=True, default=""
    )


class ImpactTransferInput(serializers.Serializer):
    recipient = serializers.CharField(max_length=200, help_text="the recipient member's DID")
    token_class = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10**15)
    batch = serializers.CharField(max_length=32, required=False, allow_blank=True)


class SignedSerials(serializers.Serializer):
    serials = serializers.ListField(
        child=serializers.ListField(),
        required=False,
        max_length=10000,
        help_text="self-custody: the serials of the prepare answer's payload, as signed",
    )


class ImpactTransferSubmitInput(ImpactTransferInput, SignedSerials, SignatureFields):
    pass


class ImpactRetireInput(serializers.Serializer):
    token_class = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10**15)
    reason = serializers.ChoiceField(choices=RetireReason.choices)
    beneficiary_did = serializers.CharField(max_length=200, required=False, allow_blank=True)
    beneficiary_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    batch = serializers.CharField(max_length=32, required=False, allow_blank=True)


class ImpactRetireSubmitInput(ImpactRetireInput, SignedSerials, SignatureFields):
    pass


class ImpactOfferInput(serializers.Serializer):
    token_class = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10**15)
    unit_price_cents = serializers.IntegerField(min_value=1, max_value=10**12)


class ImpactBuyInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=10**15)


class ImpactRedeemInput(serializers.Serializer):
    token_class = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10**15)


class ImpactOfferFilterInput(serializers.Serializer):
    token_class = serializers.CharField(max_length=64, required=False)


# --- catalogue ----------------------------------------------------------------------------


class PublicApi(APIView):
    permission_classes = [AllowAny]


class GoalsApi(PublicApi):
    @operation(
        responses=ImpactGoalOutput(many=True),
        tags=[TAG],
        operation_id="impact_goals",
        description="The 17 SDGs with the targets and indicators the platform supports "
        "(UN global indicator framework, A/RES/71/313).",
    )
    def get(self, request):
        return selectors.goal_list()


class TokenClassesApi(PublicApi):
    @operation(
        responses=ImpactTokenClassOutput(many=True), tags=[TAG], operation_id="impact_classes"
    )
    def get(self, request):
        return selectors.token_class_list()


class MethodologiesApi(PublicApi):
    @operation(
        responses=ImpactMethodologyOutput(many=True),
        tags=[TAG],
        operation_id="impact_methodologies",
        description="Active methodologies: parameters, formula, emission factors with their "
        "source, and evidence requirements (CCCEV).",
    )
    def get(self, request):
        return selectors.methodology_list()


class MethodologyApi(PublicApi):
    @operation(
        parameters=[OpenApiParameter("public_id", str, OpenApiParameter.PATH)],
        responses=answers(200, ImpactMethodologyOutput, 404),
        tags=[TAG],
        operation_id="impact_methodology",
    )
    def get(self, request, public_id: str):
        return selectors.methodology_get(public_id=public_id)


# --- claims -------------------------------------------------------------------------------


def _claim_detail(claim: Claim, user) -> dict:
    detail = selectors.claim_detail(claim=claim, user=user)
    return {
        "claim": detail.claim,
        "complete": detail.complete,
        "missing": detail.missing,
        "evidence": detail.evidence,
        "verifications": detail.verifications,
        "batch": detail.batch,
        "can_verify": detail.can_verify,
    }


def _claim_of_city(request, city: City, public_id: str) -> Claim:
    claim = selectors.claim_get_for_user(public_id=public_id, user=request.user)
    if claim.city_id != city.pk:
        raise NotFound()
    return claim


class ClaimCollectionApi(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @operation(
        parameters=_city_params(),
        request=ImpactClaimInput,
        responses=answers(201, ImpactClaimDetailOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_claim_create",
        description="A draft claim for myself: the quantity is computed from the measured "
        "values by the methodology, never typed in.",
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        member = _member(request, city)
        data = parsed(ImpactClaimInput, request.data)
        methodology = Methodology.objects.filter(public_id=data["methodology"]).first()
        if methodology is None:
            raise InvalidInput(_("No such methodology."))
        claim = services.claim_create(
            claimant=member,
            by=request.user,
            methodology=methodology,
            parameters=data["parameters"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            district_code=data["district"],
            service_ref=data["service"],
        )
        return _claim_detail(claim, request.user)


class MyClaimsApi(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @operation(
        parameters=[
            *_city_params(),
            OpenApiParameter("state", str, description="draft, submitted, approved, ..."),
        ],
        responses=answers(200, ImpactClaimOutput(many=True), 401, 404),
        tags=[TAG],
        operation_id="impact_claims_mine",
        description="Claims I made, or submitted as a service, in this city; newest first.",
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        claims = selectors.claims_of(
            user=request.user, city=city, state=request.query_params.get("state") or None
        )
        page = self.paginate_queryset(claims)
        return self.get_paginated_response(ImpactClaimOutput(page, many=True).data)


class ClaimDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the claim"),
        responses=answers(200, ImpactClaimDetailOutput, 401, 404),
        tags=[TAG],
        operation_id="impact_claim",
        description="A claim with its evidence, completeness, decisions and batch. 404 to "
        "anyone but its claimant, its submitter and the city's curators and staff.",
    )
    def get(self, request, slug: str, public_id: str):
        claim = _claim_of_city(request, city_get(slug), public_id)
        return _claim_detail(claim, request.user)


class EvidenceApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the claim"),
        request=ImpactEvidenceInput,
        responses=answers(201, ImpactEvidenceOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_evidence_add",
        description="Attach evidence: a file (multipart `file`, or `content_base64`; its "
        "SHA-256 is computed here) or a marketplace dataset by id and SHA-256.",
    )
    def post(self, request, slug: str, public_id: str):
        claim = _claim_of_city(request, city_get(slug), public_id)
        data = parsed(ImpactEvidenceInput, request.data)
        if data.get("dataset"):
            evidence = services.evidence_add_dataset(
                claim=claim,
                by=request.user,
                evidence_type=data["type"],
                dataset_ref=data["dataset"],
                sha256=data["sha256"],
            )
        else:
            upload = data.get("file")
            if upload is not None:
                if upload.size > services.claims.MAX_FILE_BYTES:
                    raise InvalidInput(_("A file of evidence is at most 5 MB."))
                content, filename = upload.read(), upload.name
                media_type = upload.content_type or "application/octet-stream"
            else:
                try:
                    content = base64.b64decode(data["content_base64"], validate=True)
                except (binascii.Error, ValueError) as error:
                    raise InvalidInput(_("content_base64 is not base64.")) from error
                filename, media_type = data["filename"], "application/octet-stream"
            evidence = services.evidence_add_file(
                claim=claim,
                by=request.user,
                evidence_type=data["type"],
                filename=filename,
                content=content,
                media_type=media_type,
            )
        return evidence


class ClaimSubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the claim"),
        request=None,
        responses=answers(200, ImpactClaimDetailOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_claim_submit",
        description="Send my draft to the curators.",
    )
    def post(self, request, slug: str, public_id: str):
        claim = _claim_of_city(request, city_get(slug), public_id)
        claim = services.claim_submit(claim=claim, by=request.user)
        return _claim_detail(claim, request.user)


class ClaimVerifyApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the claim"),
        request=ImpactVerifyInput,
        responses=answers(201, ImpactVerificationOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_claim_verify",
        description="A curator approves (a credential signed by the curator's DID, and the "
        "tokens), rejects with a reason code, or disputes. The recomputed quantity must "
        "match the methodology; never one's own claim; never with evidence missing.",
    )
    def post(self, request, slug: str, public_id: str):
        claim = _claim_of_city(request, city_get(slug), public_id)
        data = parsed(ImpactVerifyInput, request.data)
        verification = services.claim_verify(
            claim=claim,
            by=request.user,
            decision=data["decision"],
            recomputed_quantity=data["recomputed_quantity"],
            reason_code=data["reason_code"],
        )
        return verification


class VerificationQueueApi(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @operation(
        parameters=_city_params(),
        responses=answers(200, ImpactClaimOutput(many=True), 401, 403, 404),
        tags=[TAG],
        operation_id="impact_verification_queue",
        description="The curator's queue: submitted and disputed claims, oldest first.",
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        if permissions.curator_of(request.user, city) is None:
            raise NotAllowed(_("Only a curator of this city verifies impact claims."))
        page = self.paginate_queryset(selectors.claims_to_verify(user=request.user, city=city))
        return self.get_paginated_response(ImpactClaimOutput(page, many=True).data)


def _batch_data(request, slug: str, serializer) -> dict:
    city = city_get(slug)
    data = parsed(serializer, request.data)
    data["city"] = city
    data["items"] = [dict(item) for item in data["items"]]
    return data


class ClaimBatchPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactBatchInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_claim_batch_prepare",
        description="The canonical bytes (RFC 8785) of a service's batch of claims, for the "
        "provider's self-custody DID to sign. Writes nothing.",
    )
    def post(self, request, slug: str):
        data = _batch_data(request, slug, ImpactBatchInput)
        prepared = action_prepare(SUBMIT_BATCH, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class ClaimBatchApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactBatchSubmitInput,
        responses=answers(201, ImpactClaimBatchOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_claim_batch_submit",
        description="A deployed service submits claims on behalf of its users, signed by "
        "its provider's DID (created_at and signature from the prepare endpoint, or by the "
        "platform for a custodial DID). The reference is an idempotency key.",
    )
    def post(self, request, slug: str):
        data = _batch_data(request, slug, ImpactBatchSubmitInput)
        batch = _execute(
            SUBMIT_BATCH,
            request,
            data,
            lambda: services.claim_batch_submit(
                city=data["city"],
                service_ref=data["service"],
                by=request.user,
                reference=data["reference"],
                items=data["items"],
            ),
        )
        return batch


# --- portfolio, transfers, retirements ----------------------------------------------------


class PortfolioApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        responses=answers(200, ImpactPortfolioOutput, 401, 403, 404),
        tags=[TAG],
        operation_id="impact_portfolio",
        description="My tokens in this city: balances per class and the serial ranges.",
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        portfolio = _my_portfolio(request, city)
        data = {
            "public_id": portfolio.public_id,
            "identity": portfolio.identity,
            "accepts_forward_orders": portfolio.accepts_forward_orders,
            "balances": selectors.portfolio_balances(portfolio=portfolio),
            "holdings": selectors.portfolio_holdings(portfolio=portfolio),
        }
        return data


def _transfer_data(request, slug: str, serializer) -> dict:
    city = city_get(slug)
    data = parsed(serializer, request.data)
    sender = _my_portfolio(request, city)
    return {
        **{k: v for k, v in data.items() if k in ("created_at", "signature", "serials")},
        "sender": sender,
        "recipient": _portfolio_of_did(city, data["recipient"]),
        "token_class": _token_class(data["token_class"]),
        "quantity": data["quantity"],
        "batch": _batch(data.get("batch"), city),
    }


class TransferPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactTransferInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_transfer_prepare",
        description="The bytes of a transfer (with the exact serials that would move) for a "
        "self-custody holder to sign. Writes nothing.",
    )
    def post(self, request, slug: str):
        data = _transfer_data(request, slug, ImpactTransferInput)
        return Response(prepared_as_dict(action_prepare(TRANSFER, user=request.user, data=data)))


class TransferApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactTransferSubmitInput,
        responses=answers(201, ImpactTransferOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_transfer",
        description="Send tokens to a member of the city (by DID), oldest serials first; "
        "409 when the portfolio holds too few available tokens.",
    )
    def post(self, request, slug: str):
        data = _transfer_data(request, slug, ImpactTransferSubmitInput)
        transfer = _execute(
            TRANSFER,
            request,
            data,
            lambda: services.token_transfer(
                sender=data["sender"],
                recipient=data["recipient"],
                by=request.user,
                token_class=data["token_class"],
                quantity=data["quantity"],
                batch=data["batch"],
            ),
        )
        return transfer


def _retire_data(request, slug: str, serializer) -> dict:
    city = city_get(slug)
    data = parsed(serializer, request.data)
    return {
        **{k: v for k, v in data.items() if k in ("created_at", "signature", "serials")},
        "portfolio": _my_portfolio(request, city),
        "token_class": _token_class(data["token_class"]),
        "quantity": data["quantity"],
        "reason_code": data["reason"],
        "beneficiary_did": data.get("beneficiary_did", ""),
        "beneficiary_name": data.get("beneficiary_name", ""),
        "batch": _batch(data.get("batch"), city),
    }


class RetirePrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactRetireInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_retire_prepare",
        description="The bytes of a retirement, for a self-custody holder to sign.",
    )
    def post(self, request, slug: str):
        data = _retire_data(request, slug, ImpactRetireInput)
        return Response(prepared_as_dict(action_prepare(RETIRE, user=request.user, data=data)))


class RetireApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactRetireSubmitInput,
        responses=answers(201, ImpactRetirementOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_retire",
        description="Retire tokens for good, for a beneficiary (a DID, or a name kept off "
        "the ledger) and a reason code.",
    )
    def post(self, request, slug: str):
        data = _retire_data(request, slug, ImpactRetireSubmitInput)
        retirement = _execute(
            RETIRE,
            request,
            data,
            lambda: services.token_retire(
                portfolio=data["portfolio"],
                by=request.user,
                token_class=data["token_class"],
                quantity=data["quantity"],
                reason_code=data["reason_code"],
                beneficiary_did=data["beneficiary_did"],
                beneficiary_name=data["beneficiary_name"],
                batch=data["batch"],
            ),
        )
        return retirement


class CertificateApi(PublicApi):
    @operation(
        parameters=[OpenApiParameter("public_id", str, OpenApiParameter.PATH)],
        responses=answers(200, ImpactCertificateOutput, 404),
        tags=[TAG],
        operation_id="impact_retirement_certificate",
        description="A retirement certificate (public): the serials, the ledger entry and its "
        "inclusion proof once sealed, the digests of the curators' credentials.",
    )
    def get(self, request, public_id: str):
        retirement = selectors.retirement_get(public_id=public_id)
        certificate = selectors.retirement_certificate(retirement=retirement)
        return certificate


class RedeemApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactRedeemInput,
        responses=answers(201, ImpactRedemptionOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_redeem",
        description="A providers-college member redeems tokens for money at the city's rate; "
        "the city owes the amount (paid through an executed proposal).",
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        data = parsed(ImpactRedeemInput, request.data)
        redemption = services.token_redeem(
            portfolio=_my_portfolio(request, city),
            by=request.user,
            token_class=_token_class(data["token_class"]),
            quantity=data["quantity"],
        )
        return redemption


# --- offers -------------------------------------------------------------------------------


class OfferCollectionApi(GenericAPIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    @operation(
        parameters=[*_city_params(), OpenApiParameter("token_class", str)],
        responses=answers(200, ImpactOfferOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="impact_offers",
        description="Open sell offers of the city, cheapest first.",
    )
    def get(self, request, slug: str):
        city = city_get(slug)
        filters = parsed(ImpactOfferFilterInput, request.query_params)
        token_class = _token_class(filters["token_class"]) if filters.get("token_class") else None
        page = self.paginate_queryset(selectors.offers_open(city=city, token_class=token_class))
        return self.get_paginated_response(ImpactOfferOutput(page, many=True).data)

    @operation(
        parameters=_city_params(),
        request=ImpactOfferInput,
        responses=answers(201, ImpactOfferOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_offer_create",
        description="Offer tokens for sale at a price per smallest unit: they are held in "
        "escrow until sold or withdrawn.",
    )
    def post(self, request, slug: str):
        if not request.user.is_authenticated:
            raise NotAllowed(_("Sign in to offer tokens."))
        city = city_get(slug)
        data = parsed(ImpactOfferInput, request.data)
        offer = services.offer_create(
            seller=_my_portfolio(request, city),
            by=request.user,
            token_class=_token_class(data["token_class"]),
            quantity=data["quantity"],
            unit_price_cents=data["unit_price_cents"],
        )
        return offer

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated()]
        return super().get_permissions()


def _offer(city: City, public_id: str) -> SellOffer:
    return selectors.offer_get(city=city, public_id=public_id)


class OfferBuyApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the offer"),
        request=ImpactBuyInput,
        responses=answers(201, ImpactPurchaseOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_offer_buy",
        description="Buy from an offer: the price is paid into the city treasury (integer "
        "cents), the seller is owed it, the serials come to my portfolio.",
    )
    def post(self, request, slug: str, public_id: str):
        city = city_get(slug)
        offer = _offer(city, public_id)
        data = parsed(ImpactBuyInput, request.data)
        purchase = services.offer_buy(
            offer=offer,
            buyer=_my_portfolio(request, city),
            by=request.user,
            quantity=data["quantity"],
        )
        return purchase


class OfferWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the offer"),
        request=None,
        responses=answers(200, ImpactOfferOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_offer_withdraw",
    )
    def post(self, request, slug: str, public_id: str):
        offer = services.offer_withdraw(offer=_offer(city_get(slug), public_id), by=request.user)
        return offer


class ForwardOrderApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactOfferInput,
        responses=answers(201, ImpactForwardOrderOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="impact_forward_order_create",
        description="Pre-buy future issuance of a class in this city at a fixed price per "
        "smallest unit, paid in now; filled as batches are issued.",
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        data = parsed(ImpactOfferInput, request.data)
        order = services.forward_order_create(
            city=city,
            by=request.user,
            token_class=_token_class(data["token_class"]),
            quantity=data["quantity"],
            unit_price_cents=data["unit_price_cents"],
        )
        return order


class ImpactMerchantOfferOutput(serializers.Serializer):
    public_id = serializers.CharField()
    merchant = serializers.CharField(source="merchant.identity.did")
    title = serializers.CharField()
    description = serializers.CharField()
    token_class = serializers.CharField(source="token_class.code")
    price_quantity = serializers.IntegerField(help_text="smallest units per item")
    settlement = serializers.CharField()
    stock = serializers.IntegerField(allow_null=True)
    active = serializers.BooleanField()


class ImpactMerchantOfferInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    token_class = serializers.CharField(max_length=64)
    price_quantity = serializers.IntegerField(min_value=1, max_value=10**15)
    settlement = serializers.ChoiceField(choices=MerchantSettlement.choices)
    stock = serializers.IntegerField(min_value=0, max_value=10**9, required=False)


class ImpactMerchantRedeemInput(serializers.Serializer):
    items = serializers.IntegerField(min_value=1, max_value=10**6, default=1)


class ImpactMerchantRedemptionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    offer = serializers.CharField(source="offer.public_id")
    items = serializers.IntegerField()
    quantity = serializers.IntegerField()
    transfer = serializers.CharField(source="transfer.public_id", allow_null=True, default=None)
    retirement = serializers.CharField(source="retirement.public_id", allow_null=True, default=None)
    entry = EntryRefField()


class MerchantOfferCollectionApi(GenericAPIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated()]
        return super().get_permissions()

    @operation(
        parameters=_city_params(),
        responses=answers(200, ImpactMerchantOfferOutput(many=True), 404),
        tags=[TAG],
        operation_id="impact_merchant_offers",
        description="Goods and services merchants of the city give for tokens.",
    )
    def get(self, request, slug: str):
        page = self.paginate_queryset(selectors.merchant_offers(city=city_get(slug)))
        return self.get_paginated_response(ImpactMerchantOfferOutput(page, many=True).data)

    @operation(
        parameters=_city_params(),
        request=ImpactMerchantOfferInput,
        responses=answers(201, ImpactMerchantOfferOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="impact_merchant_offer_create",
        description="A member offers goods or services for tokens, transferred to them or "
        "retired in the buyer's name.",
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        data = parsed(ImpactMerchantOfferInput, request.data)
        offer = services.merchant_offer_create(
            city=city,
            by=request.user,
            title=data["title"],
            description=data.get("description", ""),
            token_class=_token_class(data["token_class"]),
            price_quantity=data["price_quantity"],
            settlement=data["settlement"],
            stock=data.get("stock"),
        )
        return offer


class MerchantRedeemApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_id_params("the merchant offer"),
        request=ImpactMerchantRedeemInput,
        responses=answers(201, ImpactMerchantRedemptionOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_merchant_offer_redeem",
        description="Spend my tokens on a merchant's offer.",
    )
    def post(self, request, slug: str, public_id: str):
        city = city_get(slug)
        offer = selectors.merchant_offers(city=city).filter(public_id=public_id).first()
        if offer is None:
            raise NotFound()
        data = parsed(ImpactMerchantRedeemInput, request.data)
        redemption = services.merchant_offer_redeem(
            offer=offer, buyer=_my_portfolio(request, city), by=request.user, items=data["items"]
        )
        return redemption


class ImpactCuratorInput(serializers.Serializer):
    membership = serializers.CharField(max_length=32, help_text="the member's membership id")


class ImpactCuratorOutput(serializers.Serializer):
    public_id = serializers.CharField()
    member = serializers.CharField(source="membership.identity.did")
    granted_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    entry = EntryRefField()


class CuratorGrantApi(APIView):
    permission_classes = [IsAuthenticated]

    @operation(
        parameters=_city_params(),
        request=ImpactCuratorInput,
        responses=answers(201, ImpactCuratorOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="impact_curator_grant",
        description="Municipality staff make an approved member a curator of the city.",
    )
    def post(self, request, slug: str):
        city = city_get(slug)
        data = parsed(ImpactCuratorInput, request.data)
        membership = (
            Membership.objects.filter(city=city, public_id=data["membership"])
            .select_related("identity")
            .first()
        )
        if membership is None:
            raise InvalidInput(_("No such membership in this city."))
        curator = services.curator_grant(city=city, membership=membership, by=request.user)
        return curator


class DashboardApi(PublicApi):
    @operation(
        parameters=_city_params(),
        responses=answers(200, ImpactDashboardOutput, 404),
        tags=[TAG],
        operation_id="impact_dashboard",
        description="The city's SDG figures (aggregates only): approved impact per goal, "
        "indicator and month, per district and per service; tokens issued, held, retired "
        "and redeemed; treasury inflows from impact.",
    )
    def get(self, request, slug: str):
        board = selectors.dashboard(city=city_get(slug))
        return board


CITY = "cities/<slug:slug>"

urlpatterns = [
    path("goals", GoalsApi.as_view(), name="goals"),
    path("token-classes", TokenClassesApi.as_view(), name="token_classes"),
    path("methodologies", MethodologiesApi.as_view(), name="methodologies"),
    path("methodologies/<str:public_id>", MethodologyApi.as_view(), name="methodology"),
    path("retirements/<str:public_id>", CertificateApi.as_view(), name="certificate"),
    path(f"{CITY}/claims", ClaimCollectionApi.as_view(), name="claims"),
    path(f"{CITY}/claims/mine", MyClaimsApi.as_view(), name="claims_mine"),
    path(f"{CITY}/claims/batches/prepare", ClaimBatchPrepareApi.as_view(), name="batch_prepare"),
    path(f"{CITY}/claims/batches", ClaimBatchApi.as_view(), name="batches"),
    path(f"{CITY}/claims/<str:public_id>", ClaimDetailApi.as_view(), name="claim"),
    path(f"{CITY}/claims/<str:public_id>/evidence", EvidenceApi.as_view(), name="evidence"),
    path(f"{CITY}/claims/<str:public_id>/submit", ClaimSubmitApi.as_view(), name="submit"),
    path(f"{CITY}/claims/<str:public_id>/verify", ClaimVerifyApi.as_view(), name="verify"),
    path(f"{CITY}/verification/queue", VerificationQueueApi.as_view(), name="queue"),
    path(f"{CITY}/portfolio", PortfolioApi.as_view(), name="portfolio"),
    path(f"{CITY}/transfers/prepare", TransferPrepareApi.as_view(), name="transfer_prepare"),
    path(f"{CITY}/transfers", TransferApi.as_view(), name="transfers"),
    path(f"{CITY}/retirements/prepare", RetirePrepareApi.as_view(), name="retire_prepare"),
    path(f"{CITY}/retirements", RetireApi.as_view(), name="retirements"),
    path(f"{CITY}/redemptions", RedeemApi.as_view(), name="redemptions"),
    path(f"{CITY}/offers", OfferCollectionApi.as_view(), name="offers"),
    path(f"{CITY}/offers/<str:public_id>/buy", OfferBuyApi.as_view(), name="offer_buy"),
    path(
        f"{CITY}/offers/<str:public_id>/withdraw", OfferWithdrawApi.as_view(), name="offer_withdraw"
    ),
    path(f"{CITY}/forward-orders", ForwardOrderApi.as_view(), name="forward_orders"),
    path(f"{CITY}/merchant-offers", MerchantOfferCollectionApi.as_view(), name="merchant_offers"),
    path(
        f"{CITY}/merchant-offers/<str:public_id>/redeem",
        MerchantRedeemApi.as_view(),
        name="merchant_redeem",
    ),
    path(f"{CITY}/curators", CuratorGrantApi.as_view(), name="curators"),
    path(f"{CITY}/dashboard", DashboardApi.as_view(), name="dashboard"),
]

"""REST API of governance (`/api/v1/governance/`): the use cases of the city pages.

Each view parses its input with a serializer, checks permission with `governance.permissions`
(the same rules as the HTMX pages in `governance.views`), calls one service or selector and
answers with an output serializer. Errors leave as `{"error": {"code", "message"}}`
(`smartb.api`): 400 bad input, 401 anonymous, 403 not allowed, 404 missing or hidden (a draft
is 404 to whoever may not see it), 409 a state conflict.

A member never appears by name: as their college and DID. Postal addresses and SIRET numbers
are shown to their owner and to the city's municipality staff, nobody else.

A vote is a signed action (`governance.actions.CastVote`): `votes/prepare` answers the bytes a
self-custody voter signs, `votes` records the vote (signed by the platform for a custodial DID).
"""

from __future__ import annotations

from fractions import Fraction

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.api import EntryRef, PreparedOutput, SignatureFields
from identity.signed_actions import action_execute, action_prepare, prepared_as_dict
from smartb.api import ErrorOutput, answers, parsed  # noqa: F401 (re-exported to the apps)

from . import permissions, selectors, services
from .actions import CastVote, platform_signer
from .errors import GovernanceError, NotAllowed
from .models import (
    Choice,
    College,
    CollegeKind,
    Membership,
    MembershipStatus,
    ProposalKind,
    ProposalStatus,
)

TAG = "governance"


class NotClosed(GovernanceError):
    code = "not_closed"
    status = 409
    default_message = _("This vote is not closed yet: there are no results.")


class ReceiptNotSealed(GovernanceError):
    code = "not_sealed"
    status = 409
    default_message = _(
        "Your vote is recorded but its block is not sealed yet: ask again in a moment."
    )


class Pagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


# --- checks shared by the views ----------------------------------------------------------


def _city_and_viewer(request, slug: str):
    """The city (404 if missing) and the viewer's live membership of it (or None)."""
    city = selectors.city_get(slug)
    return city, selectors.membership_of(request.user, city)


def _require_member(viewer: Membership | None) -> None:
    if not permissions.is_member(viewer):
        raise NotAllowed(_("Only approved members of this city may do this."))


def _require_staff(viewer: Membership | None) -> None:
    if not permissions.can_administer(viewer):
        raise NotAllowed(_("Only this city's municipality staff may do this."))


def _entry_ref(entry, chain_slug: str | None = None) -> dict:
    return {
        "chain": chain_slug or entry.chain.slug,
        "index": entry.index,
        "tx_hash": entry.tx_hash,
    }


# --- output serializers ------------------------------------------------------------------


@extend_schema_field(EntryRef)
class EntryRefField(serializers.Field):
    """A ledger transaction as {chain, index, tx_hash}; the chain slug comes from the context
    when the caller knows it (no query per row)."""

    def to_representation(self, entry):
        return _entry_ref(entry, self.context.get("chain"))


class CollegeRefOutput(serializers.Serializer):
    slug = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.SerializerMethodField()

    def get_label(self, college: College) -> str:
        return selectors.college_label(college)


class MemberRefOutput(serializers.Serializer):
    """A member as the public sees them: their college and DID, never their name."""

    college = serializers.CharField(source="college.slug")
    did = serializers.CharField(source="identity.did")


class CollegeOutput(CollegeRefOutput):
    member_count = serializers.IntegerField()


class CityOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    chain = serializers.CharField(source="chain.slug")
    postal_codes = serializers.ListField(child=serializers.CharField())
    member_count = serializers.IntegerField()
    independent_at = serializers.DateTimeField(allow_null=True)


RulesDocument = inline_serializer(
    "GovernanceRules",
    {
        "colleges": serializers.DictField(child=serializers.DictField()),
        "approval_threshold_percent": serializers.IntegerField(),
        "voting_period_hours": serializers.DictField(child=serializers.IntegerField()),
        "proposers": serializers.DictField(child=serializers.ListField()),
        "vote_changeable": serializers.BooleanField(),
        "revenue_split_percent": serializers.DictField(
            child=serializers.IntegerField(),
            required=False,
            help_text="shares of fee revenue: operator, data_owners, local_projects (sum 100)",
        ),
    },
)


class RulesVersionOutput(serializers.Serializer):
    version = serializers.IntegerField()
    digest = serializers.CharField(help_text="SHA-256 of the RFC 8785 JSON of the rules")
    rules = RulesDocument
    created_at = serializers.DateTimeField()
    adopted_by = serializers.CharField(
        source="adopted_by.public_id",
        allow_null=True,
        default=None,
        help_text="the amend_rules proposal that adopted it (none for the first version)",
    )


class CityDetailOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    chain = serializers.CharField()
    municipality_did = serializers.CharField()
    postal_codes = serializers.ListField(child=serializers.CharField())
    independent_at = serializers.DateTimeField(allow_null=True)
    colleges = CollegeOutput(many=True)
    rules = RulesVersionOutput()


class ProposalOutput(serializers.Serializer):
    public_id = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    author = MemberRefOutput()
    created_at = serializers.DateTimeField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    executed_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()


class CommentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    author = MemberRefOutput(source="membership")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    entry = EntryRefField()


class ProposalDetailOutput(ProposalOutput):
    body = serializers.CharField()
    parameters = serializers.JSONField()
    rules_version = serializers.IntegerField(source="rules.version", allow_null=True, default=None)
    electorate_digest = serializers.CharField()
    electorate_sizes = serializers.DictField(child=serializers.IntegerField())
    comments = CommentOutput(many=True, source="comment_list")


class CollegeResultOutput(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    electorate = serializers.IntegerField()
    yes = serializers.IntegerField()
    no = serializers.IntegerField()
    abstain = serializers.IntegerField()
    voted = serializers.IntegerField()
    turnout_percent = serializers.DecimalField(max_digits=6, decimal_places=2)
    quorum_percent = serializers.IntegerField()
    quorum_met = serializers.BooleanField()
    counts = serializers.BooleanField()
    weight = serializers.IntegerField()
    support_percent = serializers.DecimalField(max_digits=6, decimal_places=2)


class ResultsOutput(serializers.Serializer):
    proposal = serializers.CharField()
    status = serializers.CharField()
    closed_at = serializers.DateTimeField()
    colleges = CollegeResultOutput(many=True)
    counting_weight = serializers.IntegerField()
    weighted_result = serializers.CharField(help_text="the exact fraction, e.g. 25/42")
    weighted_result_percent = serializers.DecimalField(max_digits=6, decimal_places=2)
    approval_threshold_percent = serializers.IntegerField(source="threshold")
    accepted = serializers.BooleanField()
    arithmetic = serializers.CharField(help_text="the weighted result worked out by hand")


class MembershipOutput(serializers.Serializer):
    """A membership as its owner sees it, evidence and credential included."""

    public_id = serializers.CharField()
    college = CollegeRefOutput()
    status = serializers.CharField()
    did = serializers.CharField(source="identity.did")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    postal_address = serializers.CharField()
    postal_code = serializers.CharField()
    siret = serializers.CharField()
    credential = serializers.JSONField(
        source="credential.document",
        allow_null=True,
        default=None,
        help_text="the W3C membership credential (eddsa-jcs-2022), once approved",
    )


class PersonOutput(serializers.Serializer):
    account = serializers.CharField(source="public_id")
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()


class StaffMembershipOutput(serializers.Serializer):
    """A membership as the municipality staff see it: the person and their evidence."""

    public_id = serializers.CharField()
    college = CollegeRefOutput()
    status = serializers.CharField()
    did = serializers.CharField(source="identity.did")
    person = PersonOutput(source="user")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    postal_address = serializers.CharField()
    postal_code = serializers.CharField()
    postal_code_in_city = serializers.SerializerMethodField()
    siret = serializers.CharField()

    def get_postal_code_in_city(self, membership: Membership) -> bool:
        return membership.postal_code in self.context["postal_codes"]


class BallotOutput(serializers.Serializer):
    proposal = serializers.CharField(source="proposal.public_id")
    college = serializers.CharField(source="college.slug")
    choice = serializers.CharField()
    did = serializers.CharField(source="membership.identity.did")
    cast_at = serializers.DateTimeField()
    entry = EntryRefField()


class PickOutput(serializers.Serializer):
    project = serializers.CharField(source="public_id")
    title = serializers.CharField()
    cost_cents = serializers.IntegerField(source="cost.cents")


class MyBallotOutput(serializers.Serializer):
    proposal = serializers.CharField(source="proposal.public_id")
    title = serializers.CharField(source="proposal.title")
    proposal_status = serializers.CharField(source="proposal.status")
    college = serializers.CharField(source="college.slug")
    choice = serializers.CharField()
    picks = PickOutput(
        source="picked",
        many=True,
        allow_null=True,
        help_text="on a participatory budget, the projects this ballot picks ([] for an "
        "abstention; each pick counts once, weighted by the college at the tally); null on "
        "other proposals",
    )
    cast_at = serializers.DateTimeField()
    entry = EntryRefField()


ReceiptOutput = inline_serializer(
    "Receipt",
    {
        "chain": serializers.CharField(),
        "tx_hash": serializers.CharField(),
        "leaf_index": serializers.IntegerField(),
        "leaf_hash": serializers.CharField(),
        "tree_size": serializers.IntegerField(),
        "audit_path": serializers.ListField(child=serializers.CharField()),
        "checkpoint": serializers.CharField(help_text="C2SP checkpoint, signatures included"),
    },
)


class BalanceOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    balance_cents = serializers.IntegerField(
        source="balance.cents",
        help_text="revenue and equity accounts are shown credit-positive",
    )


class PostingOutput(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    amount_cents = serializers.IntegerField(help_text="debit positive, credit negative")


class MovementOutput(serializers.Serializer):
    public_id = serializers.CharField()
    label = serializers.CharField()
    created_at = serializers.DateTimeField()
    proposal = serializers.CharField(source="proposal.public_id", allow_null=True, default=None)
    amount_cents = serializers.IntegerField(source="amount.cents")
    postings = PostingOutput(many=True, source="postings.all")
    entry = EntryRefField()


TreasuryOutput = inline_serializer(
    "Treasury",
    {
        "available_cents": serializers.IntegerField(),
        "balances": BalanceOutput(many=True),
        "movements": inline_serializer(
            "MovementPage",
            {
                "count": serializers.IntegerField(),
                "page": serializers.IntegerField(),
                "pages": serializers.IntegerField(),
                "results": MovementOutput(many=True),
            },
        ),
    },
)


# --- input serializers -------------------------------------------------------------------


class ProposalFilterInput(serializers.Serializer):
    """Empty means all, as a GET form sends it."""

    status = serializers.ChoiceField(
        choices=ProposalStatus.choices, required=False, allow_blank=True
    )
    kind = serializers.ChoiceField(choices=ProposalKind.choices, required=False, allow_blank=True)


class MembershipRequestInput(serializers.Serializer):
    college = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=College.objects.none(),
        help_text="residents or providers (municipality staff are appointed)",
    )
    postal_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    siret = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def __init__(self, *args, city=None, **kwargs):
        super().__init__(*args, **kwargs)
        if city is not None:
            self.fields["college"].queryset = College.objects.filter(city=city)

    def validate(self, attrs):
        college = attrs["college"]
        errors = {}
        if college.kind == CollegeKind.RESIDENTS:
            if not attrs.get("postal_address"):
                errors["postal_address"] = [_("Residents give their postal address.")]
            if not attrs.get("postal_code"):
                errors["postal_code"] = [_("Residents give their postal code.")]
        if college.kind == CollegeKind.PROVIDERS and not attrs.get("siret"):
            errors["siret"] = [_("Providers give their SIRET number.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class StaffMembershipFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[MembershipStatus.PENDING, MembershipStatus.APPROVED],
        default=MembershipStatus.PENDING,
    )


class ProposalInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    parameters = serializers.JSONField(
        required=False,
        help_text="fund_project: {amount_cents, recipient}; amend_rules: {rules}; "
        "deploy_service: {service}",
    )

    def validate_parameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("parameters is a JSON object"))
        return value


class ProposalCreateInput(ProposalInput):
    kind = serializers.ChoiceField(choices=ProposalKind.choices)


class OpenInput(serializers.Serializer):
    closes_at = serializers.DateTimeField(help_text="ISO 8601, within the rules' voting period")


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class VoteInput(serializers.Serializer):
    choice = serializers.ChoiceField(choices=Choice.choices)


class VoteSubmitInput(VoteInput, SignatureFields):
    pass


class RefuseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


def _proposal_params():
    return [
        OpenApiParameter("slug", str, OpenApiParameter.PATH, description="the city"),
        OpenApiParameter("public_id", str, OpenApiParameter.PATH, description="the proposal"),
    ]


# --- cities and rules --------------------------------------------------------------------


class PublicApi(APIView):
    """Anyone reads; a signed-in viewer (token or session) may see more (their drafts)."""

    permission_classes = [AllowAny]


class CityListApi(PublicApi):
    @extend_schema(responses=CityOutput(many=True), tags=[TAG], operation_id="governance_cities")
    def get(self, request):
        cities = selectors.city_list().select_related("chain")
        return Response(CityOutput(cities, many=True).data)


class CityDetailApi(PublicApi):
    @extend_schema(
        responses=answers(200, CityDetailOutput, 404),
        tags=[TAG],
        operation_id="governance_city",
        description="A city: its colleges with their number of approved members, the rules "
        "in force and the postal codes its residents live in.",
    )
    def get(self, request, slug: str):
        city = selectors.city_get(slug)
        rules = selectors.rules_in_force(city)
        data = {
            "slug": city.slug,
            "name": city.name,
            "chain": city.chain.slug,
            "municipality_did": city.identity.did,
            "postal_codes": city.postal_codes,
            "independent_at": city.independent_at,
            "colleges": selectors.colleges_of(city),
            "rules": rules,
        }
        return Response(CityDetailOutput(data).data)


class RulesHistoryApi(PublicApi):
    @extend_schema(
        responses=answers(200, RulesVersionOutput(many=True), 404),
        tags=[TAG],
        operation_id="governance_rules_history",
        description="Every version of the rules, newest first, with its digest and the "
        "amend_rules proposal that adopted it.",
    )
    def get(self, request, slug: str):
        city = selectors.city_get(slug)
        return Response(RulesVersionOutput(selectors.rules_history(city), many=True).data)


# --- memberships -------------------------------------------------------------------------


class MembershipCollectionApi(GenericAPIView):
    """POST: ask to join a college. GET: the municipality staff's list of requests (with
    their evidence) or of approved members."""

    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        parameters=[StaffMembershipFilterInput],
        responses=answers(200, StaffMembershipOutput(many=True), 400, 401, 403, 404),
        tags=[TAG],
        operation_id="governance_memberships_list",
        description="Municipality staff only: pending requests (default) with their "
        "evidence, or approved members.",
    )
    def get(self, request, slug: str):
        city, viewer = _city_and_viewer(request, slug)
        _require_staff(viewer)
        filters = parsed(StaffMembershipFilterInput, request.query_params)
        if filters["status"] == MembershipStatus.PENDING:
            memberships = selectors.pending_memberships(city)
        else:
            memberships = selectors.members(city)
        page = self.paginate_queryset(memberships)
        context = {"postal_codes": city.postal_codes}
        return self.get_paginated_response(
            StaffMembershipOutput(page, many=True, context=context).data
        )

    @extend_schema(
        request=MembershipRequestInput,
        responses=answers(201, MembershipOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_membership_request",
        description="Ask to join a college: residents give their postal address and postal "
        "code (one of the city's), providers their SIRET. Nothing goes on the ledger until "
        "the municipality staff approve.",
    )
    def post(self, request, slug: str):
        city = selectors.city_get(slug)
        data = parsed(MembershipRequestInput, request.data, city=city)
        membership = services.membership_request(
            user=request.user,
            city=city,
            college=data["college"],
            postal_address=data.get("postal_address", ""),
            postal_code=data.get("postal_code", ""),
            siret=data.get("siret", ""),
        )
        return Response(MembershipOutput(membership).data, status=status.HTTP_201_CREATED)


class MyMembershipApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, MembershipOutput, 401, 404),
        tags=[TAG],
        operation_id="governance_membership_mine",
        description="My membership of this city (approved or pending), or my last request "
        "if it was refused or revoked; 404 if I never asked.",
    )
    def get(self, request, slug: str):
        city = selectors.city_get(slug)
        membership = (
            Membership.objects.select_related("college", "identity", "credential")
            .filter(city=city, user=request.user)
            .order_by("-requested_at", "-pk")
            .first()
        )
        if membership is None:
            raise exceptions.NotFound(_("You have no membership of this city."))
        return Response(MembershipOutput(membership).data)


class StaffDecisionApi(APIView):
    permission_classes = [IsAuthenticated]

    def _decide(self, request, slug: str, public_id: str, decide) -> Response:
        city, viewer = _city_and_viewer(request, slug)
        _require_staff(viewer)
        membership = selectors.membership_get(city, public_id)
        platform_signer(request.user.primary_identity)
        membership = decide(membership)
        membership = (
            Membership.objects.select_related("college", "identity", "user")
            .filter(pk=membership.pk)
            .get()
        )
        context = {"postal_codes": city.postal_codes}
        return Response(StaffMembershipOutput(membership, context=context).data)


class MembershipApproveApi(StaffDecisionApi):
    @extend_schema(
        request=None,
        responses=answers(200, StaffMembershipOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_membership_approve",
        description="Municipality staff approve a pending request; the city's DID issues the "
        "membership credential and the ledger records its digest.",
    )
    def post(self, request, slug: str, public_id: str):
        return self._decide(
            request,
            slug,
            public_id,
            lambda membership: services.membership_approve(membership=membership, by=request.user),
        )


class MembershipRefuseApi(StaffDecisionApi):
    @extend_schema(
        request=RefuseInput,
        responses=answers(200, StaffMembershipOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_membership_refuse",
        description="Municipality staff refuse a pending request, saying why (only the "
        "reason's digest goes on the ledger).",
    )
    def post(self, request, slug: str, public_id: str):
        reason = parsed(RefuseInput, request.data)["reason"]
        return self._decide(
            request,
            slug,
            public_id,
            lambda membership: services.membership_refuse(
                membership=membership, by=request.user, reason=reason
            ),
        )


class MembershipRevokeApi(StaffDecisionApi):
    @extend_schema(
        request=None,
        responses=answers(200, StaffMembershipOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_membership_revoke",
        description="Municipality staff revoke another approved member; the credential is "
        "revoked too.",
    )
    def post(self, request, slug: str, public_id: str):
        def revoke(membership):
            if membership.user_id == request.user.pk:
                raise NotAllowed(_("Staff do not revoke their own membership."))
            return services.membership_revoke(membership=membership, by=request.user)

        return self._decide(request, slug, public_id, revoke)


# --- proposals ---------------------------------------------------------------------------


class ProposalCollectionApi(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = Pagination

    @extend_schema(
        parameters=[ProposalFilterInput],
        responses=answers(200, ProposalOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="governance_proposals",
        description="The city's proposals, newest first; drafts only to their author and the "
        "municipality staff. Authors appear as their college and DID.",
    )
    def get(self, request, slug: str):
        city, viewer = _city_and_viewer(request, slug)
        filters = parsed(ProposalFilterInput, request.query_params)
        proposals = selectors.proposals_of(
            city, viewer=viewer, status=filters.get("status"), kind=filters.get("kind")
        )
        page = self.paginate_queryset(proposals)
        return self.get_paginated_response(ProposalOutput(page, many=True).data)

    @extend_schema(
        request=ProposalCreateInput,
        responses=answers(201, ProposalDetailOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="governance_proposal_create",
        description="A draft by an approved member whose college may propose this kind.",
    )
    def post(self, request, slug: str):
        city, viewer = _city_and_viewer(request, slug)
        _require_member(viewer)
        data = parsed(ProposalCreateInput, request.data)
        rules = selectors.rules_in_force(city).rules
        if not permissions.can_propose(viewer, data["kind"], rules):
            raise NotAllowed(_("The rules do not let your college propose this kind."))
        platform_signer(viewer.identity)
        proposal = services.proposal_create(
            author=viewer,
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            parameters=data.get("parameters") or {},
        )
        return _detail_response(city, viewer, proposal, status.HTTP_201_CREATED)


def _detail_response(city, viewer, proposal, http_status: int = status.HTTP_200_OK) -> Response:
    """A proposal as the detail endpoint shows it, after a write by `viewer`."""
    proposal = selectors.proposal_get(city, proposal.public_id, viewer=viewer)
    proposal.comment_list = selectors.comments_of(proposal)
    data = ProposalDetailOutput(proposal, context={"chain": city.chain.slug}).data
    return Response(data, status=http_status)


class ProposalDetailApi(PublicApi):
    @extend_schema(
        parameters=_proposal_params(),
        responses=answers(200, ProposalDetailOutput, 404),
        tags=[TAG],
        operation_id="governance_proposal",
        description="A proposal with its debate. A draft is 404 except to its author and the "
        "municipality staff.",
    )
    def get(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        proposal.comment_list = selectors.comments_of(proposal)
        return Response(ProposalDetailOutput(proposal, context={"chain": city.chain.slug}).data)


class ProposalAmendApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=ProposalInput,
        responses=answers(200, ProposalDetailOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_proposal_amend",
        description="The author amends their draft (parameters kept when not sent).",
    )
    def post(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        _require_member(viewer)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        if proposal.author_id != viewer.pk:
            raise NotAllowed(_("Only the author amends a draft."))
        data = parsed(ProposalInput, request.data)
        platform_signer(viewer.identity)
        proposal = services.proposal_amend(
            proposal=proposal,
            by=viewer,
            title=data["title"],
            body=data["body"],
            parameters=data.get("parameters"),
        )
        return _detail_response(city, viewer, proposal)


class ProposalOpenApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=OpenInput,
        responses=answers(200, ProposalDetailOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_proposal_open",
        description="The author or the municipality staff open the vote on a draft: the "
        "rules in force are frozen with it and the electorate is snapshotted on the ledger.",
    )
    def post(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        _require_member(viewer)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        if not (proposal.author_id == viewer.pk or permissions.is_staff_membership(viewer)):
            raise NotAllowed(_("The author or the municipality staff open a vote."))
        closes_at = parsed(OpenInput, request.data)["closes_at"]
        platform_signer(viewer.identity)
        proposal = services.proposal_open(proposal=proposal, by=viewer, closes_at=closes_at)
        return _detail_response(city, viewer, proposal)


class CommentCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=CommentInput,
        responses=answers(201, CommentOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_comment_add",
        description="Members of the city debate a proposal while it is a draft or open; the "
        "ledger records the comment's digest.",
    )
    def post(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        _require_member(viewer)
        body = parsed(CommentInput, request.data)["body"]
        platform_signer(viewer.identity)
        comment = services.comment_add(proposal=proposal, member=viewer, body=body)
        data = CommentOutput(comment, context={"chain": city.chain.slug}).data
        return Response(data, status=status.HTTP_201_CREATED)


def _arithmetic(results: selectors.Results) -> str:
    """The weighted result worked out: (Σ weight × yes/(yes+no)) ÷ Σ weight, exact."""
    if not results.counting:
        return f"no college counts: rejected (threshold {results.threshold} %)"
    terms = " + ".join(f"{c.weight} × {c.yes}/{c.yes + c.no}" for c in results.counting)
    exact = sum((c.weight * Fraction(c.yes, c.yes + c.no) for c in results.counting), Fraction(0))
    verdict = ">" if results.accepted else "≤"
    return (
        f"({terms}) ÷ {results.counting_weight} = {exact} ÷ "
        f"{results.counting_weight} = {results.weighted_result} ≈ "
        f"{results.weighted_result_percent} % {verdict} {results.threshold} %"
    )


class ResultsApi(PublicApi):
    @extend_schema(
        parameters=_proposal_params(),
        responses=answers(200, ResultsOutput, 404, 409),
        tags=[TAG],
        operation_id="governance_proposal_results",
        description="The tally recorded when the vote closed, per college, with the "
        "arithmetic of the weighted result. 409 while the vote is not closed. For a "
        "participatory budget: the ranking of the projects (weighted support as an exact "
        "fraction and a percentage, funded or not) and the funded list instead.",
    )
    def get(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        if (proposal.tally or {}).get("budget"):
            from .budget_api import budget_results

            return Response(budget_results(proposal))
        results = selectors.results_of(proposal, colleges=selectors.colleges_of(city))
        if results is None:
            raise NotClosed()
        data = {
            **vars(results),
            "proposal": proposal.public_id,
            "status": proposal.status,
            "closed_at": proposal.closed_at,
            "colleges": [vars(row) for row in results.colleges],
            "arithmetic": _arithmetic(results),
        }
        return Response(ResultsOutput(data).data)


# --- votes -------------------------------------------------------------------------------

CAST_VOTE = CastVote()


def _voter(request, slug: str, public_id: str) -> dict:
    """The proposal and the voter's membership, as the vote page checks them: a hidden
    draft is 404, someone who is not an approved member of the city 403."""
    city, viewer = _city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    _require_member(viewer)
    return {"proposal": proposal, "member": viewer}


class VotePrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=VoteInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_vote_prepare",
        description="The canonical bytes (RFC 8785) of my vote's ledger transaction, for a "
        "self-custody DID to sign. Writes nothing.",
    )
    def post(self, request, slug: str, public_id: str):
        data = {**_voter(request, slug, public_id), **parsed(VoteInput, request.data)}
        prepared = action_prepare(CAST_VOTE, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class VoteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=VoteSubmitInput,
        responses=answers(201, BallotOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_vote_cast",
        description="Cast (or change, if the rules allow) my vote, signed by my DID: by the "
        "platform for a custodial DID, or by me (created_at and signature from votes/prepare).",
    )
    def post(self, request, slug: str, public_id: str):
        data = {**_voter(request, slug, public_id), **parsed(VoteSubmitInput, request.data)}
        created_at, signature = data.pop("created_at", None), data.pop("signature", None)
        ballot = action_execute(
            CAST_VOTE, user=request.user, data=data, created_at=created_at, signature=signature
        )
        return Response(BallotOutput(ballot).data, status=status.HTTP_201_CREATED)


class ReceiptApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        responses=answers(200, ReceiptOutput, 401, 404, 409),
        tags=[TAG],
        operation_id="governance_vote_receipt",
        description="My ballot's receipt: its inclusion proof against the latest checkpoint. "
        "404 if I did not vote, 409 until its block is sealed.",
    )
    def get(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        ballot = selectors.ballot_of(request.user, proposal)
        if ballot is None:
            raise exceptions.NotFound(_("You did not vote on this proposal."))
        receipt = selectors.receipt_of(ballot)
        if receipt is None:
            raise ReceiptNotSealed()
        return Response(receipt)


class MyBallotsApi(GenericAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        responses=answers(200, MyBallotOutput(many=True), 401, 404),
        tags=[TAG],
        operation_id="governance_votes_mine",
        description="My votes in this city, newest first, with their ledger entries and, on "
        "a participatory budget, the projects I picked.",
    )
    def get(self, request, slug: str):
        city = selectors.city_get(slug)
        page = self.paginate_queryset(selectors.my_ballots(request.user, city))
        selectors.ballots_picks_attach(ballots=page, city=city)
        return self.get_paginated_response(MyBallotOutput(page, many=True).data)


# --- treasury ----------------------------------------------------------------------------


class TreasuryApi(PublicApi):
    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="page of movements (25 each)")],
        responses=answers(200, TreasuryOutput, 404),
        tags=[TAG],
        operation_id="governance_treasury",
        description="Every account's balance (integer cents) and the movements, newest "
        "first, each with the proposal that decided it.",
    )
    def get(self, request, slug: str):
        city = selectors.city_get(slug)
        treasury = selectors.treasury_balances(city)
        page = selectors.movements_page(city, page=request.query_params.get("page"))
        context = {"chain": city.chain.slug}
        return Response(
            {
                "available_cents": treasury.available.cents,
                "balances": BalanceOutput(treasury.balances, many=True).data,
                "movements": {
                    "count": page.paginator.count,
                    "page": page.number,
                    "pages": page.paginator.num_pages,
                    "results": MovementOutput(page, many=True, context=context).data,
                },
            }
        )


# --- routes ------------------------------------------------------------------------------


def _routes(route: str, view, name: str) -> list:
    """`route` as the schema shows it, and the same route with or without its trailing
    slash, hidden from the schema, so that `proposals` and `proposals/` both work."""
    alias = route[:-1] if route.endswith("/") else f"{route}/"
    hidden = extend_schema(exclude=True)(type(f"{view.__name__}Alias", (view,), {}))
    return [path(route, view.as_view(), name=name), path(alias, hidden.as_view())]


CITY = "cities/<slug:slug>"
PROPOSAL = f"{CITY}/proposals/<str:public_id>"


def _budget_routes() -> list:
    from .budget_api import routes  # it builds on this module's helpers

    return routes(_routes, PROPOSAL)


urlpatterns = [
    *_routes("cities/", CityListApi, "cities"),
    *_routes(f"{CITY}/", CityDetailApi, "city"),
    *_routes(f"{CITY}/rules/", RulesHistoryApi, "rules"),
    *_routes(f"{CITY}/memberships", MembershipCollectionApi, "memberships"),
    *_routes(f"{CITY}/memberships/me", MyMembershipApi, "membership_mine"),
    *_routes(
        f"{CITY}/memberships/<str:public_id>/approve", MembershipApproveApi, "membership_approve"
    ),
    *_routes(
        f"{CITY}/memberships/<str:public_id>/refuse", MembershipRefuseApi, "membership_refuse"
    ),
    *_routes(
        f"{CITY}/memberships/<str:public_id>/revoke", MembershipRevokeApi, "membership_revoke"
    ),
    *_routes(f"{CITY}/proposals/", ProposalCollectionApi, "proposals"),
    *_routes(f"{PROPOSAL}/", ProposalDetailApi, "proposal"),
    *_routes(f"{PROPOSAL}/amend", ProposalAmendApi, "proposal_amend"),
    *_routes(f"{PROPOSAL}/open", ProposalOpenApi, "proposal_open"),
    *_routes(f"{PROPOSAL}/comments", CommentCreateApi, "comments"),
    *_routes(f"{PROPOSAL}/results", ResultsApi, "results"),
    *_routes(f"{PROPOSAL}/votes/prepare", VotePrepareApi, "vote_prepare"),
    *_routes(f"{PROPOSAL}/votes", VoteApi, "vote"),
    *_routes(f"{PROPOSAL}/receipt", ReceiptApi, "receipt"),
    *_routes(f"{CITY}/votes/me", MyBallotsApi, "votes_mine"),
    *_routes(f"{CITY}/treasury", TreasuryApi, "treasury"),
    *_budget_routes(),
]

"""REST API of the app store (`/api/v1/marketplace/`).

Each view parses its input with a serializer, checks access with `marketplace.selectors` and
`marketplace.permissions`, calls one service or selector and answers with an output
serializer. Errors leave as `{"error": {"code", "message"}}` (`smartb.api`): 400 bad input,
401 anonymous, 403 not allowed, 404 missing or hidden, 409 a state conflict.

No endpoint deploys a service: a city deploys, upgrades and undeploys only by an accepted
`deploy_service` proposal (the governance API), executed automatically.

Recording a contract execution is a signed action (`marketplace.actions.RecordExecution`):
`executions/prepare` answers the bytes a self-custody provider signs, `executions` records it
(signed by the platform for a custodial provider DID).
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors as city_selectors
from governance.api import Pagination, answers
from governance.models import Proposal
from governance.permissions import can_administer
from identity.api import PreparedOutput, SignatureFields
from identity.models import Identity
from identity.signed_actions import action_execute, action_prepare, prepared_as_dict
from smartb.api import parsed

from . import selectors, services
from .actions import RecordExecution
from .errors import InvalidInput, NotAllowed
from .models import (
    AuditKind,
    Category,
    LegalBasis,
    ServiceVersion,
    TaskKind,
    TaskPayer,
    TaskStatus,
    Verdict,
)
from .permissions import can_see_version, is_operator
from .services._common import work_ref
from .services.bounties import task_work

TAG = "marketplace"
RECORD_EXECUTION = RecordExecution()


def _entry(entry) -> dict | None:
    if entry is None:
        return None
    return {"chain": entry.chain.slug, "index": entry.index, "tx_hash": entry.tx_hash}


def _param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description=description)


CITY_PARAM = _param("slug", "the city")


# --- output serializers ----------------------------------------------------------------


class ProviderRefOutput(serializers.Serializer):
    public_id = serializers.CharField()
    name = serializers.CharField()
    website = serializers.CharField()
    did = serializers.CharField(source="identity.did")


class AuditOutput(serializers.Serializer):
    public_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=AuditKind.choices)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    findings = serializers.CharField()
    reason = serializers.CharField()
    auditor_did = serializers.CharField(source="auditor_identity.did")
    created_at = serializers.DateTimeField()
    entry = serializers.SerializerMethodField()

    def get_entry(self, audit) -> dict | None:
        return _entry(audit.entry)


class DeclarationOutput(serializers.Serializer):
    """The GDPR Article 30 record of processing a version declares."""

    personal_data = serializers.ListField(child=serializers.CharField())
    data_subjects = serializers.ListField(child=serializers.CharField())
    purposes = serializers.CharField()
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    retention = serializers.CharField()
    recipients = serializers.ListField(child=serializers.CharField())
    transfers_outside_eu = serializers.CharField()


class VersionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    service = serializers.CharField(source="service.public_id")
    number = serializers.IntegerField()
    label = serializers.CharField()
    changelog = serializers.CharField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    declaration = DeclarationOutput(source="*")
    declaration_digest = serializers.CharField(help_text="SHA-256 of its RFC 8785 JSON")
    impact_indicators = serializers.ListField(
        child=serializers.CharField(), help_text="SDG indicator ids, e.g. 11.6.1"
    )
    deployment_fee_cents = serializers.IntegerField()
    execution_fee_cents = serializers.IntegerField()
    audits = AuditOutput(many=True, source="audits.all")
    audited_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ServiceOutput(serializers.Serializer):
    public_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    website = serializers.CharField()
    logo_url = serializers.CharField()
    provider = ProviderRefOutput()
    created_at = serializers.DateTimeField()


class ProposalRefOutput(serializers.Serializer):
    public_id = serializers.CharField()
    status = serializers.CharField()
    action = serializers.CharField(source="parameters.action", default="deploy")
    service_version = serializers.CharField(source="parameters.service_version", default="")
    closes_at = serializers.DateTimeField(allow_null=True)


class StoreEntryOutput(serializers.Serializer):
    service = ServiceOutput()
    version = VersionOutput(help_text="the latest audited version")
    deployed_here = serializers.BooleanField()
    deployed_version = serializers.CharField(
        source="deployed_version.public_id", allow_null=True, default=None
    )
    deployment = serializers.CharField(source="deployment.public_id", allow_null=True, default=None)
    proposal = ProposalRefOutput(
        allow_null=True, help_text="the latest deploy_service proposal about it (not a draft)"
    )


class DeploymentOutput(serializers.Serializer):
    public_id = serializers.CharField()
    service = serializers.CharField(source="service.public_id")
    service_name = serializers.CharField(source="service.name")
    category = serializers.CharField(source="service.category")
    provider = serializers.CharField(source="service.provider.name")
    version = serializers.CharField(source="version.public_id")
    version_label = serializers.CharField(source="version.label")
    execution_fee_cents = serializers.IntegerField(source="version.execution_fee_cents")
    active = serializers.BooleanField()
    deployed_at = serializers.DateTimeField()
    undeployed_at = serializers.DateTimeField(allow_null=True)
    proposal = serializers.CharField(source="proposal.public_id")
    usage_count = serializers.IntegerField(help_text="contract executions recorded")
    revenue_cents = serializers.IntegerField(help_text="every fee it brought in")


class AwaitingVoteOutput(serializers.Serializer):
    proposal = ProposalRefOutput()
    title = serializers.CharField(source="proposal.title")
    action = serializers.CharField()
    service = serializers.CharField(source="version.service.public_id", default=None)
    service_name = serializers.CharField(source="version.service.name", default=None)
    version = serializers.CharField(source="version.public_id", default=None)


class Article30Output(serializers.Serializer):
    processing = serializers.CharField()
    provider = serializers.CharField()
    provider_website = serializers.CharField()
    version = serializers.CharField()
    purposes = serializers.CharField()
    legal_basis = serializers.CharField()
    data_subjects = serializers.ListField(child=serializers.CharField())
    personal_data = serializers.ListField(child=serializers.CharField())
    recipients = serializers.ListField(child=serializers.CharField())
    transfers_outside_eu = serializers.CharField()
    retention = serializers.CharField()
    deployed_at = serializers.DateTimeField()
    declaration_digest = serializers.CharField()
    service = serializers.CharField(source="service_public_id")
    impact_indicators = serializers.ListField(child=serializers.CharField())


class ProviderOutput(ProviderRefOutput):
    siret = serializers.CharField()
    created_at = serializers.DateTimeField()
    entry = serializers.SerializerMethodField()

    def get_entry(self, provider) -> dict | None:
        return _entry(provider.entry)


class ProviderDetailOutput(ProviderOutput):
    services = serializers.SerializerMethodField()

    def get_services(self, provider) -> list[dict]:
        services = selectors.provider_services(provider=provider)
        return [
            {
                **ServiceOutput(service).data,
                "versions": [
                    {"public_id": v.public_id, "label": v.label, "status": v.status}
                    for v in service.versions.all()
                ],
            }
            for service in services
        ]


class ExecutionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    deployment = serializers.CharField(source="deployment.public_id")
    reference = serializers.CharField()
    fee_cents = serializers.IntegerField(source="fee.amount_cents", default=0)
    operator_cents = serializers.IntegerField(source="fee.operator_cents", default=0)
    data_owners_cents = serializers.IntegerField(source="fee.data_owners_cents", default=0)
    local_projects_cents = serializers.IntegerField(source="fee.local_projects_cents", default=0)
    created_at = serializers.DateTimeField()
    entry = serializers.SerializerMethodField()

    def get_entry(self, execution) -> dict | None:
        return _entry(execution.entry)


class TaskOutput(serializers.Serializer):
    """A task; `context={"request": request}` says who reads it (see `get_title`)."""

    public_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    title = serializers.SerializerMethodField()
    reward_cents = serializers.IntegerField()
    payer = serializers.ChoiceField(choices=TaskPayer.choices)
    city = serializers.CharField(source="city.slug", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    work = serializers.SerializerMethodField()
    claimant = serializers.CharField(source="claimant_identity.did", allow_null=True, default=None)
    funding_proposal = serializers.CharField(
        source="funding_proposal.public_id", allow_null=True, default=None
    )
    created_at = serializers.DateTimeField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)

    def get_work(self, task) -> str | None:
        """What the task is about, as `app.model:public_id`."""
        return work_ref(self._work(task))

    def get_title(self, task) -> str:
        """An audit's title names the service and version it audits: only those who may see
        that version (`can_see_version`: before it passes, its provider and the operator)
        read it; anyone else reads the kind of task."""
        work = self._work(task)
        request = self.context.get("request")
        if isinstance(work, ServiceVersion) and not can_see_version(
            getattr(request, "user", None), work
        ):
            return str(task.get_kind_display())
        return task.title

    def _work(self, task):
        if not hasattr(task, "_work_of_api"):
            task._work_of_api = task_work(task)  # one query per task for both fields
        return task._work_of_api


# --- input serializers -----------------------------------------------------------------


def _texts(max_length: int = 200):
    return serializers.ListField(
        child=serializers.CharField(max_length=max_length), required=False, default=list
    )


class ProviderInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    siret = serializers.CharField(max_length=20)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    owner_did = serializers.CharField(
        max_length=200,
        required=False,
        help_text="the owner's DID (the operator registers for someone); default: mine",
    )


class ServiceInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    category = serializers.ChoiceField(choices=Category.choices)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    logo_url = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VersionInput(serializers.Serializer):
    label = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    changelog = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    personal_data = _texts()
    data_subjects = _texts()
    purposes = serializers.CharField(max_length=5000)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    retention = serializers.CharField(max_length=300)
    recipients = _texts()
    transfers_outside_eu = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    impact_indicators = serializers.ListField(
        child=serializers.CharField(max_length=16), min_length=1, max_length=30
    )
    deployment_fee_cents = serializers.IntegerField(min_value=0, max_value=10**12)
    execution_fee_cents = serializers.IntegerField(min_value=0, max_value=10**12)


class AuditInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AuditKind.choices)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    findings = serializers.CharField(max_length=20000)
    reason = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default="", help_text="on a fail"
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ExecutionInput(serializers.Serializer):
    reference = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,64}$",
        help_text="your id of this execution: the same reference is recorded (and charged) once",
    )


class ExecutionSubmitInput(ExecutionInput, SignatureFields):
    pass


class TaskFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=TaskKind.choices, required=False)
    city = serializers.SlugField(required=False)


class TaskInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    title = serializers.CharField(max_length=200)
    reward_cents = serializers.IntegerField(min_value=0, max_value=10**12)
    payer = serializers.ChoiceField(choices=TaskPayer.choices)
    city = serializers.SlugField(required=False, help_text="required when a city pays")


class TaskCompleteInput(serializers.Serializer):
    result = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,64}$", help_text="an id or the SHA-256 of what was delivered"
    )


class TaskPayInput(serializers.Serializer):
    proposal = serializers.CharField(
        max_length=32,
        required=False,
        help_text="a city's task: the executed fund_project that paid it (else it is owed)",
    )


class StoreFilterInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    q = serializers.CharField(max_length=100, required=False, help_text="search text")


# --- the app store of a city (public) --------------------------------------------------


class StoreApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_PARAM, StoreFilterInput],
        responses=answers(200, StoreEntryOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="marketplace_store",
        description="The services this city may deploy (a version passed both audits), with "
        "what they process, their impacts, their audits, whether they run here and the latest "
        "proposal to deploy them.",
    )
    def get(self, request, slug: str):
        city = city_selectors.city_get(slug)
        filters = parsed(StoreFilterInput, request.query_params)
        entries = selectors.app_store(
            city=city, category=filters.get("category"), search=filters.get("q")
        )
        return Response(StoreEntryOutput(entries, many=True).data)


class StoreServiceApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_PARAM, _param("public_id", "the service")],
        responses=answers(200, StoreEntryOutput, 404),
        tags=[TAG],
        operation_id="marketplace_store_service",
    )
    def get(self, request, slug: str, public_id: str):
        city = city_selectors.city_get(slug)
        entry = selectors.app_store_entry(city=city, public_id=public_id)
        return Response(StoreEntryOutput(entry).data)


class DeploymentsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_PARAM],
        responses=answers(200, DeploymentOutput(many=True), 404),
        tags=[TAG],
        operation_id="marketplace_deployments",
        description="The services deployed in this city, with their usage and revenue "
        "(integer cents). Deploying happens only by an accepted deploy_service proposal.",
    )
    def get(self, request, slug: str):
        city = city_selectors.city_get(slug)
        return Response(DeploymentOutput(selectors.city_deployments(city=city), many=True).data)


class AwaitingVoteApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_PARAM],
        responses=answers(200, AwaitingVoteOutput(many=True), 404),
        tags=[TAG],
        operation_id="marketplace_awaiting_vote",
        description="deploy_service proposals to be decided: open votes, and drafts for the "
        "city's municipality staff.",
    )
    def get(self, request, slug: str):
        city = city_selectors.city_get(slug)
        viewer = city_selectors.membership_of(request.user, city)
        rows = selectors.services_awaiting_vote(city=city, include_drafts=can_administer(viewer))
        return Response(AwaitingVoteOutput(rows, many=True).data)


class ProcessingRegisterApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_PARAM],
        responses=answers(200, Article30Output(many=True), 404),
        tags=[TAG],
        operation_id="marketplace_processing_register",
        description="The city's record of processing activities (GDPR Article 30), from the "
        "declarations of the services deployed here.",
    )
    def get(self, request, slug: str):
        city = city_selectors.city_get(slug)
        return Response(Article30Output(selectors.gdpr_register(city=city), many=True).data)


# --- providers, services, versions -----------------------------------------------------


class ProviderCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ProviderInput,
        responses=answers(201, ProviderOutput, 400, 401, 403, 409),
        tags=[TAG],
        operation_id="marketplace_provider_register",
        description="Register a provider: the operator for anyone (owner_did), or an approved "
        "member of a providers college for their own organisation.",
    )
    def post(self, request):
        data = parsed(ProviderInput, request.data)
        owner = request.user
        if data.get("owner_did"):
            identity = Identity.objects.select_related("user").filter(did=data["owner_did"]).first()
            if identity is None or identity.revoked_at is not None:
                raise InvalidInput(_("No account holds this DID."))
            owner = identity.user
        provider = services.provider_register(
            by=request.user,
            owner=owner,
            name=data["name"],
            siret=data["siret"],
            website=data["website"],
        )
        return Response(ProviderOutput(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the provider")],
        responses=answers(200, ProviderDetailOutput, 401, 404),
        tags=[TAG],
        operation_id="marketplace_provider",
        description="A provider with its services and their versions: its owner and the "
        "operator only.",
    )
    def get(self, request, public_id: str):
        provider = selectors.provider_get(public_id=public_id, user=request.user)
        return Response(ProviderDetailOutput(provider).data)


class ServiceCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the provider")],
        request=ServiceInput,
        responses=answers(201, ServiceOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="marketplace_service_create",
        description="The provider's owner lists a service (signed by the provider's DID).",
    )
    def post(self, request, public_id: str):
        provider = selectors.provider_get(public_id=public_id, user=request.user)
        service = services.service_create(
            provider=provider, by=request.user, **parsed(ServiceInput, request.data)
        )
        return Response(ServiceOutput(service).data, status=status.HTTP_201_CREATED)


class VersionCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[_param("public_id", "the service")],
        request=VersionInput,
        responses=answers(201, VersionOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="marketplace_version_create",
        description="A new version (a draft): its GDPR Article 30 declaration, the impact "
        "indicators it claims and its pricing in integer cents. It needs its own audits.",
    )
    def post(self, request, public_id: str):
        service = selectors.service_get_for_manager(public_id=public_id, user=request.user)
        version = services.version_create(
            service=service, by=request.user, **parsed(VersionInput, request.data)
        )
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)


VERSION_PARAM = _param("public_id", "the service version")


class VersionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[VERSION_PARAM],
        responses=answers(200, VersionOutput, 404),
        tags=[TAG],
        operation_id="marketplace_version",
        description="A version with its declaration and audits: public once audited, before "
        "that its provider and the operator only.",
    )
    def get(self, request, public_id: str):
        version = selectors.version_get(public_id=public_id, user=request.user)
        return Response(VersionOutput(version).data)


class AuditRequestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[VERSION_PARAM],
        request=None,
        responses=answers(201, TaskOutput(many=True), 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_audit_request",
        description="The provider sends a draft version to audit: the technical and the legal "
        "audit tasks open.",
    )
    def post(self, request, public_id: str):
        version = selectors.version_get(public_id=public_id, user=request.user)
        tasks = services.audit_request(version=version, by=request.user)
        tasks = TaskOutput(tasks, many=True, context={"request": request})
        return Response(tasks.data, status=status.HTTP_201_CREATED)


class AuditQueueApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=answers(200, VersionOutput(many=True), 401, 403),
        tags=[TAG],
        operation_id="marketplace_audit_queue",
        description="Versions awaiting their audits, oldest first: the operator only.",
    )
    def get(self, request):
        if not is_operator(request.user):
            raise NotAllowed(_("Only the operator audits services."))
        return Response(VersionOutput(selectors.audit_queue(), many=True).data)


class AuditRecordApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[VERSION_PARAM],
        request=AuditInput,
        responses=answers(201, AuditOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_audit_record",
        description="The operator records a technical or legal review, signed by the "
        "auditor's DID on the network chain; never of a service of a provider it owns. A fail "
        "says why.",
    )
    def post(self, request, public_id: str):
        version = selectors.version_get(public_id=public_id, user=request.user)
        audit = services.audit_record(
            version=version, auditor=request.user, **parsed(AuditInput, request.data)
        )
        return Response(AuditOutput(audit).data, status=status.HTTP_201_CREATED)


class VersionSuspendApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[VERSION_PARAM],
        request=ReasonInput,
        responses=answers(200, VersionOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_version_suspend",
        description="The operator withdraws a version's audit: no city may deploy it any more.",
    )
    def post(self, request, public_id: str):
        version = selectors.version_get(public_id=public_id, user=request.user)
        version = services.version_suspend(
            version=version, by=request.user, reason=parsed(ReasonInput, request.data)["reason"]
        )
        return Response(VersionOutput(version).data)


# --- contract executions (signed) ------------------------------------------------------


DEPLOYMENT_PARAM = _param("public_id", "the deployment")


def _execution_data(request, public_id: str, input_class) -> dict:
    deployment = selectors.deployment_get(public_id=public_id)
    return {"deployment": deployment, **parsed(input_class, request.data)}


class ExecutionPrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[DEPLOYMENT_PARAM],
        request=ExecutionInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_execution_prepare",
        description="The canonical bytes (RFC 8785) of an execution's ledger transaction, "
        "for a self-custody provider DID to sign. Writes nothing.",
    )
    def post(self, request, public_id: str):
        data = _execution_data(request, public_id, ExecutionInput)
        prepared = action_prepare(RECORD_EXECUTION, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class ExecutionRecordApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[DEPLOYMENT_PARAM],
        request=ExecutionSubmitInput,
        responses=answers(201, ExecutionOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_execution_record",
        description="Record one execution of the deployed service's contract, signed by the "
        "provider's DID (by the platform for a custodial DID, or by the client: created_at and "
        "signature from executions/prepare), and charge its fee into the city's treasury, "
        "split by the city's rules. The same reference is recorded and charged once.",
    )
    def post(self, request, public_id: str):
        data = _execution_data(request, public_id, ExecutionSubmitInput)
        created_at, signature = data.pop("created_at", None), data.pop("signature", None)
        execution = action_execute(
            RECORD_EXECUTION,
            user=request.user,
            data=data,
            created_at=created_at,
            signature=signature,
        )
        return Response(ExecutionOutput(execution).data, status=status.HTTP_201_CREATED)


# --- tasks (bounties) ------------------------------------------------------------------

TASK_PARAM = _param("public_id", "the task")


class TaskCollectionApi(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = Pagination

    @extend_schema(
        parameters=[TaskFilterInput],
        responses=answers(200, TaskOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="marketplace_tasks",
        description="Bounties, newest first: their rewards, payers and claimants' DIDs are on "
        "the ledger.",
    )
    def get(self, request):
        filters = parsed(TaskFilterInput, request.query_params)
        city = city_selectors.city_get(filters["city"]) if filters.get("city") else None
        tasks = selectors.tasks_list(
            status=filters.get("status"), kind=filters.get("kind"), city=city
        )
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(
            TaskOutput(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=TaskInput,
        responses=answers(201, TaskOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="marketplace_task_create",
        description="Post a bounty: the operator for those it pays, a city's municipality "
        "staff for the city's.",
    )
    def post(self, request):
        data = parsed(TaskInput, request.data)
        city = city_selectors.city_get(data.pop("city")) if data.get("city") else None
        task = services.task_create(by=request.user, city=city, **data)
        return Response(
            TaskOutput(task, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class TaskDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[TASK_PARAM],
        responses=answers(200, TaskOutput, 404),
        tags=[TAG],
        operation_id="marketplace_task",
    )
    def get(self, request, public_id: str):
        task = selectors.task_get(public_id=public_id)
        return Response(TaskOutput(task, context={"request": request}).data)


class TaskClaimApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[TASK_PARAM],
        request=None,
        responses=answers(200, TaskOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_task_claim",
        description="A qualified member takes an open task (an audit: an operator auditor who "
        "is not the provider).",
    )
    def post(self, request, public_id: str):
        task = services.task_claim(task=selectors.task_get(public_id=public_id), by=request.user)
        return Response(TaskOutput(task, context={"request": request}).data)


class TaskCompleteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[TASK_PARAM],
        request=TaskCompleteInput,
        responses=answers(200, TaskOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_task_complete",
        description="The claimant declares the work done (an audit task completes with its audit).",
    )
    def post(self, request, public_id: str):
        task = selectors.task_get(public_id=public_id)
        result = parsed(TaskCompleteInput, request.data)["result"]
        return Response(
            TaskOutput(
                services.task_complete(task=task, by=request.user, result=result),
                context={"request": request},
            ).data
        )


class TaskPayApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[TASK_PARAM],
        request=TaskPayInput,
        responses=answers(200, TaskOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="marketplace_task_pay",
        description="The payer settles a completed task with a signed record: the operator "
        "pays its own; a city pays through an executed fund_project (else the reward is owed).",
    )
    def post(self, request, public_id: str):
        task = selectors.task_get(public_id=public_id)
        proposal_id = parsed(TaskPayInput, request.data).get("proposal")
        proposal = None
        if proposal_id:
            proposal = Proposal.objects.filter(public_id=proposal_id).first()
            if proposal is None:
                raise InvalidInput(_("No such proposal."))
        task = services.task_pay(task=task, by=request.user, proposal=proposal)
        return Response(TaskOutput(task, context={"request": request}).data)


# --- routes ----------------------------------------------------------------------------


def _routes(route: str, view, name: str) -> list:
    """`route` as the schema shows it, and the same route with or without its trailing
    slash, hidden from the schema."""
    alias = route[:-1] if route.endswith("/") else f"{route}/"
    hidden = extend_schema(exclude=True)(type(f"{view.__name__}Alias", (view,), {}))
    return [path(route, view.as_view(), name=name), path(alias, hidden.as_view())]


CITY = "cities/<slug:slug>"
VERSION = "versions/<str:public_id>"
TASK = "tasks/<str:public_id>"

urlpatterns = [
    *_routes(f"{CITY}/services/", StoreApi, "store"),
    *_routes(f"{CITY}/services/<str:public_id>/", StoreServiceApi, "store_service"),
    *_routes(f"{CITY}/deployments/", DeploymentsApi, "deployments"),
    *_routes(f"{CITY}/awaiting-vote", AwaitingVoteApi, "awaiting_vote"),
    *_routes(f"{CITY}/processing-register", ProcessingRegisterApi, "processing_register"),
    *_routes("providers/", ProviderCollectionApi, "providers"),
    *_routes("providers/<str:public_id>/", ProviderDetailApi, "provider"),
    *_routes("providers/<str:public_id>/services", ServiceCreateApi, "service_create"),
    *_routes("services/<str:public_id>/versions", VersionCreateApi, "version_create"),
    *_routes("audits/queue", AuditQueueApi, "audit_queue"),
    *_routes(f"{VERSION}/", VersionDetailApi, "version"),
    *_routes(f"{VERSION}/audit-request", AuditRequestApi, "audit_request"),
    *_routes(f"{VERSION}/audits", AuditRecordApi, "audit_record"),
    *_routes(f"{VERSION}/suspend", VersionSuspendApi, "version_suspend"),
    *_routes(
        "deployments/<str:public_id>/executions/prepare", ExecutionPrepareApi, "execution_prepare"
    ),
    *_routes("deployments/<str:public_id>/executions", ExecutionRecordApi, "execution_record"),
    *_routes("tasks/", TaskCollectionApi, "tasks"),
    *_routes(f"{TASK}/", TaskDetailApi, "task"),
    *_routes(f"{TASK}/claim", TaskClaimApi, "task_claim"),
    *_routes(f"{TASK}/complete", TaskCompleteApi, "task_complete"),
    *_routes(f"{TASK}/pay", TaskPayApi, "task_pay"),
]

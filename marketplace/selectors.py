"""Reads of the app store, with the object-level access that goes with them. "Missing" and
"not yours" raise the same Http404, so a page never tells a stranger what exists.

The lists keep a constant number of queries however many services, versions, deployments
or executions there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from governance.models import City, Proposal, ProposalKind, ProposalStatus

from .models import (
    Audit,
    ContractExecution,
    Deployment,
    Fee,
    LegalBasis,
    Provider,
    Service,
    ServiceVersion,
    Task,
    VersionStatus,
)
from .permissions import can_see_version, is_operator, owns_provider

# --- the app store of a city ---------------------------------------------------------------


@dataclass
class StoreEntry:
    """One service in a city's app store: its latest audited version (with its audits),
    whether it runs here, and the latest deploy_service proposal about it (not a draft)."""

    service: Service
    version: ServiceVersion
    audits: list[Audit]
    deployment: Deployment | None
    proposal: Proposal | None

    @property
    def deployed_here(self) -> bool:
        return self.deployment is not None and self.deployment.active

    @property
    def deployed_version(self) -> ServiceVersion | None:
        return self.deployment.version if self.deployed_here else None

    @property
    def proposal_status(self) -> str | None:
        return self.proposal.status if self.proposal else None


def _audited_services() -> QuerySet[Service]:
    audited = ServiceVersion.objects.filter(service=OuterRef("pk"), status=VersionStatus.AUDITED)
    return (
        Service.objects.filter(Exists(audited))
        .select_related("provider__identity")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ServiceVersion.objects.order_by("-number").prefetch_related(
                    Prefetch(
                        "audits",
                        queryset=Audit.objects.select_related(
                            "auditor_identity", "entry__chain"
                        ).order_by("kind"),
                    )
                ),
                to_attr="all_versions",
            )
        )
        .order_by("name", "pk")
    )


def _store_entries(city: City, services: list[Service]) -> list[StoreEntry]:
    """Deployments and proposals of `services` in `city`: two queries for any number."""
    if not services:
        return []
    deployments = {
        d.service_id: d
        for d in Deployment.objects.filter(
            city=city, service_id__in=[s.pk for s in services]
        ).select_related("version")
    }
    service_of_version = {v.public_id: s.pk for s in services for v in s.all_versions}
    latest: dict[int, Proposal] = {}
    proposals = (
        Proposal.objects.filter(
            city=city,
            kind=ProposalKind.DEPLOY_SERVICE,
            parameters__service_version__in=list(service_of_version),
        )
        .exclude(status=ProposalStatus.DRAFT)
        .order_by("-created_at", "-pk")
    )
    for proposal in proposals:
        service_id = service_of_version.get(proposal.parameters.get("service_version"))
        latest.setdefault(service_id, proposal)
    entries = []
    for service in services:
        version = next(v for v in service.all_versions if v.status == VersionStatus.AUDITED)
        entries.append(
            StoreEntry(
                service=service,
                version=version,
                audits=list(version.audits.all()),
                deployment=deployments.get(service.pk),
                proposal=latest.get(service.pk),
            )
        )
    return entries


def app_store(
    *, city: City, category: str | None = None, search: str | None = None
) -> list[StoreEntry]:
    """The services a city may deploy (at least one version passed both audits), by name,
    optionally of one `category` and matching `search` in their name, description or
    provider. Five queries, however many services."""
    services = _audited_services()
    if category:
        services = services.filter(category=category)
    if search and search.strip():
        text = search.strip()[:100]
        services = services.filter(
            Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(provider__name__icontains=text)
        )
    return _store_entries(city, list(services))


def app_store_entry(*, city: City, public_id: str) -> StoreEntry:
    """One service of the city's app store, or Http404 (unknown, or never audited)."""
    services = list(_audited_services().filter(public_id=public_id))
    if not services:
        raise Http404
    return _store_entries(city, services)[0]


# --- a city's deployed services, votes and record of processing -----------------------------


def _count_of(model, field_name: str = "deployment"):
    rows = (
        model.objects.filter(**{field_name: OuterRef("pk")})
        .order_by()
        .values(field_name)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def _revenue_of(kind: str | None = None):
    fees = Fee.objects.filter(deployment=OuterRef("pk"))
    if kind:
        fees = fees.filter(kind=kind)
    rows = fees.order_by().values("deployment").annotate(total=Sum("amount_cents")).values("total")
    return Coalesce(Subquery(rows), 0)


def city_deployments(*, city: City, active_only: bool = True) -> QuerySet[Deployment]:
    """The services deployed in a city, each with `usage_count` (executions recorded) and
    `revenue_cents` (every fee it brought in, deployment fees included): one query."""
    deployments = (
        Deployment.objects.filter(city=city)
        .select_related("service__provider", "version", "proposal")
        .annotate(usage_count=_count_of(ContractExecution), revenue_cents=_revenue_of())
        .order_by("service__name", "pk")
    )
    return deployments.filter(active=True) if active_only else deployments


@dataclass
class AwaitingVote:
    proposal: Proposal
    action: str
    version: ServiceVersion | None


def services_awaiting_vote(*, city: City, include_drafts: bool = False) -> list[AwaitingVote]:
    """The city's deploy_service proposals still to be decided (open; drafts too for the
    municipality portal), soonest closing first, with the version each is about: two
    queries."""
    statuses = [ProposalStatus.OPEN] + ([ProposalStatus.DRAFT] if include_drafts else [])
    proposals = list(
        Proposal.objects.filter(city=city, kind=ProposalKind.DEPLOY_SERVICE, status__in=statuses)
        .select_related("author__college")
        .order_by("closes_at", "created_at", "pk")
    )
    ids = [p.parameters.get("service_version") for p in proposals]
    versions = {
        v.public_id: v
        for v in ServiceVersion.objects.filter(public_id__in=[i for i in ids if i]).select_related(
            "service__provider"
        )
    }
    return [
        AwaitingVote(
            proposal=p,
            action=p.parameters.get("action", "deploy"),
            version=versions.get(p.parameters.get("service_version")),
        )
        for p in proposals
    ]


ARTICLE30_COLUMNS = [
    # (attribute of Article30Row, column label): the CSV and printable register's columns
    ("processing", "Processing (service)"),
    ("provider", "Processor (provider)"),
    ("provider_website", "Processor contact"),
    ("version", "Version"),
    ("purposes", "Purposes"),
    ("legal_basis", "Legal basis"),
    ("data_subjects", "Categories of data subjects"),
    ("personal_data", "Categories of personal data"),
    ("recipients", "Recipients"),
    ("transfers_outside_eu", "Transfers outside the EU"),
    ("retention", "Retention period"),
    ("deployed_at", "In use since"),
    ("declaration_digest", "Declaration SHA-256"),
]


@dataclass
class Article30Row:
    """One processing activity of a city's record (GDPR Article 30(1)), from a deployed
    service's declaration."""

    processing: str
    provider: str
    provider_website: str
    version: str
    purposes: str
    legal_basis: str
    data_subjects: list[str]
    personal_data: list[str]
    recipients: list[str]
    transfers_outside_eu: str
    retention: str
    deployed_at: datetime
    declaration_digest: str
    service_public_id: str = ""
    impact_indicators: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        """The row as text cells, in ARTICLE30_COLUMNS order (lists joined by "; ")."""
        out = []
        for name, _label in ARTICLE30_COLUMNS:
            value = getattr(self, name)
            if isinstance(value, list):
                value = "; ".join(value)
            elif isinstance(value, datetime):
                value = value.date().isoformat()
            out.append(str(value))
        return out


def gdpr_register(*, city: City) -> list[Article30Row]:
    """The city's record of processing activities, one row per deployed service, generated
    from the declaration of the version running: one query."""
    rows = []
    for deployment in city_deployments(city=city):
        version, service = deployment.version, deployment.service
        rows.append(
            Article30Row(
                processing=service.name,
                provider=service.provider.name,
                provider_website=service.provider.website or service.website,
                version=version.label,
                purposes=version.purposes,
                legal_basis=str(LegalBasis(version.legal_basis).label),
                data_subjects=list(version.data_subjects),
                personal_data=list(version.personal_data),
                recipients=list(version.recipients),
                transfers_outside_eu=version.transfers_outside_eu,
                retention=version.retention,
                deployed_at=deployment.deployed_at,
                declaration_digest=version.declaration_digest,
                service_public_id=service.public_id,
                impact_indicators=list(version.impact_indicators),
            )
        )
    return rows


# --- providers, services and versions, for their owner and the operator ---------------------


def providers_of(*, user) -> QuerySet[Provider]:
    return Provider.objects.filter(owner=user).order_by("name")


def provider_get(*, public_id: str, user) -> Provider:
    """A provider, for its owner and the operator."""
    provider = (
        Provider.objects.select_related("owner", "identity").filter(public_id=public_id).first()
    )
    if provider is None or not (is_operator(user) or owns_provider(user, provider)):
        raise Http404
    return provider


def provider_services(*, provider: Provider) -> QuerySet[Service]:
    """A provider's services with every version and its audits (three queries)."""
    return (
        Service.objects.filter(provider=provider)
        .select_related("provider")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ServiceVersion.objects.order_by("-number").prefetch_related("audits"),
            )
        )
        .order_by("name", "pk")
    )


def service_get_for_manager(*, public_id: str, user) -> Service:
    """A service, for its provider's owner and the operator."""
    service = (
        Service.objects.select_related("provider__owner", "provider__identity")
        .filter(public_id=public_id)
        .first()
    )
    if service is None or not (is_operator(user) or owns_provider(user, service.provider)):
        raise Http404
    return service


def version_get(*, public_id: str, user) -> ServiceVersion:
    """A version: public once audited, else for its provider and the operator."""
    version = (
        ServiceVersion.objects.select_related("service__provider__identity")
        .prefetch_related("audits__auditor_identity")
        .filter(public_id=public_id)
        .first()
    )
    if version is None or not can_see_version(user, version):
        raise Http404
    return version


def audit_queue() -> QuerySet[ServiceVersion]:
    """Versions awaiting their audits, oldest first (the operator portal)."""
    return (
        ServiceVersion.objects.filter(status=VersionStatus.IN_AUDIT)
        .select_related("service__provider")
        .prefetch_related("audits")
        .order_by("created_at", "pk")
    )


def deployment_get(*, public_id: str) -> Deployment:
    deployment = (
        Deployment.objects.select_related("city__chain", "service__provider__identity", "version")
        .filter(public_id=public_id)
        .first()
    )
    if deployment is None:
        raise Http404
    return deployment


# --- tasks ---------------------------------------------------------------------------------


def tasks_list(
    *, status: str | None = None, kind: str | None = None, city: City | None = None
) -> QuerySet[Task]:
    """Bounties, newest first (public: their rewards and claimants' DIDs are on the ledger)."""
    tasks = Task.objects.select_related("city", "claimant_identity", "funding_proposal")
    if status:
        tasks = tasks.filter(status=status)
    if kind:
        tasks = tasks.filter(kind=kind)
    if city is not None:
        tasks = tasks.filter(city=city)
    return tasks.order_by("-created_at", "-pk")


def task_get(*, public_id: str) -> Task:
    task = (
        Task.objects.select_related("city__chain", "claimant_identity", "funding_proposal")
        .filter(public_id=public_id)
        .first()
    )
    if task is None:
        raise Http404
    return task

"""Reads that only the app store's pages need: a paginated city store, the history of a
service's proposals in a city, the operator's overview of the network, a provider's own
catalogue. Nothing here writes; each read asks a fixed number of queries, however many
services, versions, cities or tasks there are.

The domain reads (the store's entries, the record of processing, deployments, the audit
queue) live in `selectors`; these build on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from governance.models import City, Proposal, ProposalKind, ProposalStatus
from governance.selectors import Money
from ledger.models import Block

from .models import (
    Audit,
    Deployment,
    Provider,
    Service,
    ServiceVersion,
    Task,
    VersionStatus,
)
from .selectors import StoreEntry, city_deployments

STORE_PER_PAGE = 20
SEARCH_MAX = 100


def with_money(version: ServiceVersion) -> ServiceVersion:
    """Give `version` its fees as Money (`deployment_fee`, `execution_fee`) for the pages."""
    version.deployment_fee = Money(version.deployment_fee_cents)
    version.execution_fee = Money(version.execution_fee_cents)
    return version


# --- a city's app store ---------------------------------------------------------------------


def _store_services() -> QuerySet[Service]:
    """Services with at least one audited version, each with all its versions (newest first,
    `all_versions`) and their audits (auditor's DID and ledger entry joined)."""
    audited = ServiceVersion.objects.filter(service=OuterRef("pk"), status=VersionStatus.AUDITED)
    # "-kind": the technical review, then the legal one.
    audits = Audit.objects.select_related("auditor_identity", "entry").order_by("-kind")
    return (
        Service.objects.filter(Exists(audited))
        .select_related("provider")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ServiceVersion.objects.order_by("-number").prefetch_related(
                    Prefetch("audits", queryset=audits)
                ),
                to_attr="all_versions",
            )
        )
        .order_by("name", "pk")
    )


def _deploy_proposals(city: City, version_ids: list[str]) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(
            city=city,
            kind=ProposalKind.DEPLOY_SERVICE,
            parameters__service_version__in=version_ids,
        )
        .exclude(status=ProposalStatus.DRAFT)
        .order_by("-created_at", "-pk")
    )


def store_entries(*, city: City, services: list[Service]) -> list[StoreEntry]:
    """The store entries of `services` (from `_store_services`) in `city`: their deployment
    here and the latest deploy_service proposal about them (not a draft). Two queries."""
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
    for proposal in _deploy_proposals(city, list(service_of_version)):
        service_id = service_of_version.get(proposal.parameters.get("service_version"))
        latest.setdefault(service_id, proposal)
    entries = []
    for service in services:
        for v in service.all_versions:
            with_money(v)
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


def store_page(
    *,
    city: City,
    category: str | None = None,
    search: str | None = None,
    page: str | int | None = None,
    per_page: int = STORE_PER_PAGE,
) -> Page:
    """One page of the city's app store (`page.entries`: StoreEntry), by name, optionally of
    one `category` and matching `search` in the name, description or provider's name. Six
    queries, whatever the number of services."""
    services = _store_services()
    if category:
        services = services.filter(category=category)
    text = (search or "").strip()[:SEARCH_MAX]
    if text:
        services = services.filter(
            Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(provider__name__icontains=text)
        )
    result = Paginator(services, per_page).get_page(page)
    result.entries = store_entries(city=city, services=list(result.object_list))
    return result


def store_entry(*, city: City, public_id: str) -> StoreEntry:
    """One service of the city's app store, or Http404 (unknown, or never audited)."""
    services = list(_store_services().filter(public_id=public_id))
    if not services:
        raise Http404
    return store_entries(city=city, services=services)[0]


def service_proposals(*, city: City, service: Service) -> list[Proposal]:
    """Every deploy_service proposal of `city` about any version of `service`, drafts
    excluded, newest first (one query: the versions are those of the store entry)."""
    versions = getattr(service, "all_versions", None) or list(service.versions.all())
    proposals = _deploy_proposals(city, [v.public_id for v in versions])
    return list(proposals.select_related("author__college", "author__identity"))


def newest_audited(*, service_ids: list[int]) -> dict[int, ServiceVersion]:
    """The newest audited version of each service (one query): what an upgrade offers."""
    newest: dict[int, ServiceVersion] = {}
    versions = ServiceVersion.objects.filter(
        service_id__in=service_ids, status=VersionStatus.AUDITED
    ).order_by("service_id", "-number")
    for version in versions:
        newest.setdefault(version.service_id, version)
    return newest


def deployable_entries(*, city: City) -> list[StoreEntry]:
    """The audited services not running in `city` and without an open vote about them: what
    the municipality may propose to deploy (five queries)."""
    entries = store_entries(city=city, services=list(_store_services()))
    return [
        e
        for e in entries
        if not e.deployed_here and not (e.proposal and e.proposal.status == ProposalStatus.OPEN)
    ]


@dataclass
class DeployedRow:
    deployment: Deployment
    usage_count: int
    revenue: Money
    upgrade_to: ServiceVersion | None


def deployed_rows(*, city: City, active_only: bool = True) -> list[DeployedRow]:
    """The services running in `city` with their usage (executions recorded), the revenue
    they brought (every fee, deployment fees included) and the newer audited version an
    upgrade would bring, if any: two queries."""
    deployments = list(city_deployments(city=city, active_only=active_only))
    newest = newest_audited(service_ids=[d.service_id for d in deployments])
    rows = []
    for d in deployments:
        with_money(d.version)
        candidate = newest.get(d.service_id)
        upgrade = candidate if candidate and candidate.number > d.version.number else None
        rows.append(
            DeployedRow(
                deployment=d,
                usage_count=d.usage_count,
                revenue=Money(d.revenue_cents),
                upgrade_to=upgrade,
            )
        )
    return rows


# --- providers -----------------------------------------------------------------------------


def my_providers(*, user) -> list[Provider]:
    """The organisations `user` owns, each with its services (`services.all`), their
    versions (newest first) and audits: four queries."""
    versions = ServiceVersion.objects.order_by("-number").prefetch_related(
        Prefetch("audits", queryset=Audit.objects.select_related("entry").order_by("-kind"))
    )
    services = Service.objects.order_by("name", "pk").prefetch_related(
        Prefetch("versions", queryset=versions)
    )
    providers = list(
        Provider.objects.filter(owner=user)
        .select_related("identity")
        .prefetch_related(Prefetch("services", queryset=services))
        .order_by("name")
    )
    for provider in providers:
        for service in provider.services.all():
            for version in service.versions.all():
                with_money(version)
    return providers


# --- the operator --------------------------------------------------------------------------


@dataclass
class CityOverview:
    city: City
    head_height: int | None
    head_tree_size: int | None
    head_root: str | None
    head_sealed_at: object | None


def cities_overview() -> list[CityOverview]:
    """Every city with its chain's size and its last checkpoint (the latest sealed block's
    height, tree size, root and time): one query."""
    latest = Block.objects.filter(chain=OuterRef("chain")).order_by("-height")
    cities = (
        City.objects.select_related("chain")
        .annotate(
            head_height=Subquery(latest.values("height")[:1]),
            head_tree_size=Subquery(latest.values("tree_size")[:1]),
            head_root=Subquery(latest.values("root")[:1]),
            head_sealed_at=Subquery(latest.values("sealed_at")[:1]),
        )
        .order_by("name", "pk")
    )
    return [
        CityOverview(
            city=c,
            head_height=c.head_height,
            head_tree_size=c.head_tree_size,
            head_root=c.head_root,
            head_sealed_at=c.head_sealed_at,
        )
        for c in cities
    ]


def providers_page(*, page: str | int | None, per_page: int = 25) -> Page:
    """Every provider of the network, by name, with its owner's DID: two queries."""
    providers = Provider.objects.select_related("identity").order_by("name", "pk")
    return Paginator(providers, per_page).get_page(page)


def tasks_page(
    *, status: str | None = None, page: str | int | None = None, per_page: int = 25
) -> Page:
    """Bounties, newest first, optionally of one status: two queries."""
    tasks = Task.objects.select_related("city", "claimant_identity", "payment_entry__chain")
    if status:
        tasks = tasks.filter(status=status)
    result = Paginator(tasks.order_by("-created_at", "-pk"), per_page).get_page(page)
    result.object_list = list(result.object_list)
    for task in result.object_list:
        task.reward = Money(task.reward_cents)
    return result


def version_for_audit(*, public_id: str) -> ServiceVersion:
    """A version with its service, provider, audits and audit tasks, for the operator."""
    version = (
        ServiceVersion.objects.select_related("service__provider__identity")
        .prefetch_related(
            Prefetch(
                "audits",
                queryset=Audit.objects.select_related("auditor_identity", "entry").order_by(
                    "-kind"
                ),
            )
        )
        .filter(public_id=public_id)
        .first()
    )
    if version is None:
        raise Http404
    return with_money(version)


def audit_tasks_of(*, version: ServiceVersion) -> list[Task]:
    """The audit bounties of a version (technical and legal), with their claimants' DIDs."""
    return list(
        Task.objects.filter(
            work_type=ContentType.objects.get_for_model(ServiceVersion), work_id=version.pk
        )
        .select_related("claimant_identity")
        .order_by("kind", "-pk")
    )

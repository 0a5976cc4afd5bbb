"""Who may do what in the app store: one predicate per rule, shared by the pages and the API.

The services check again; these predicates decide what a page shows and which requests it
refuses early. The operator is a staff account of the network (`is_staff`), as in
governance.
"""

from __future__ import annotations

from governance.models import CollegeKind, Membership, MembershipStatus

from .models import (
    Deployment,
    Provider,
    Service,
    ServiceVersion,
    Task,
    TaskKind,
    TaskPayer,
    TaskStatus,
    VersionStatus,
)

AUDIT_TASK_KINDS = (TaskKind.AUDIT_TECHNICAL, TaskKind.AUDIT_LEGAL)


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_operator(user) -> bool:
    """A staff account of the network: creates cities, registers providers, audits."""
    return _signed_in(user) and user.is_active and user.is_staff


def has_provider_membership(user) -> bool:
    """An approved member of a providers college of some city."""
    return (
        _signed_in(user)
        and Membership.objects.filter(
            user=user, status=MembershipStatus.APPROVED, college__kind=CollegeKind.PROVIDERS
        ).exists()
    )


def can_register_provider(by, owner) -> bool:
    """The operator registers any provider; a member of a providers college registers their
    own organisation."""
    if is_operator(by):
        return True
    return _signed_in(by) and by.pk == owner.pk and has_provider_membership(owner)


def owns_provider(user, provider: Provider) -> bool:
    return _signed_in(user) and provider.owner_id == user.pk


def can_manage_service(user, service: Service) -> bool:
    """The provider's owner lists the service, adds versions and asks for audits."""
    return owns_provider(user, service.provider)


def can_audit(user, version: ServiceVersion) -> bool:
    """Only the operator audits, and never a service of a provider it owns."""
    return is_operator(user) and not owns_provider(user, version.service.provider)


def can_see_version(user, version: ServiceVersion) -> bool:
    """An audited (or once audited) version is public; a draft, one in audit or a rejected
    one only its provider and the operator see."""
    if version.status in (VersionStatus.AUDITED, VersionStatus.SUSPENDED):
        return True
    return is_operator(user) or owns_provider(user, version.service.provider)


def can_record_execution(user, deployment: Deployment) -> bool:
    """The provider of a deployed service records the executions of its contract."""
    return deployment.active and owns_provider(user, deployment.service.provider)


def can_create_task(user, *, payer: str, city=None) -> bool:
    """The operator posts bounties it pays; a city's municipality staff post the city's."""
    if payer == TaskPayer.OPERATOR:
        return is_operator(user)
    return city is not None and _is_staff_of(user, city)


def is_qualified_for(user, task: Task, *, work=None) -> bool:
    """Audits: an operator auditor who is not the provider of the audited service. Other work:
    an approved member of the task's city (of any city for a network task), or the operator."""
    if not _signed_in(user):
        return False
    if task.kind in AUDIT_TASK_KINDS:
        return isinstance(work, ServiceVersion) and can_audit(user, work)
    if is_operator(user):
        return True
    members = Membership.objects.filter(user=user, status=MembershipStatus.APPROVED)
    if task.city_id is not None:
        members = members.filter(city_id=task.city_id)
    return members.exists()


def can_claim_task(user, task: Task, *, work=None) -> bool:
    return task.status == TaskStatus.OPEN and is_qualified_for(user, task, work=work)


def can_complete_task(user, task: Task) -> bool:
    """The claimant declares the work done (an audit task completes with its audit)."""
    return (
        _signed_in(user)
        and task.status == TaskStatus.CLAIMED
        and task.claimant_id == user.pk
        and task.kind not in AUDIT_TASK_KINDS
    )


def can_pay_task(user, task: Task) -> bool:
    """The payer settles: the operator, or the city's municipality staff."""
    if task.payer == TaskPayer.OPERATOR:
        return is_operator(user)
    return _is_staff_of(user, task.city)


def _is_staff_of(user, city) -> bool:
    from governance.permissions import is_municipality_staff

    return is_municipality_staff(user, city)

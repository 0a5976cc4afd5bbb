"""Who may do what in the data marketplace: one predicate per rule, shared by the API and the
pages; the services check again.

Curators are the approved members of the city's curators college: a college of kind "other"
with the slug "curators" (`CURATORS_SLUG`), opened by the municipality staff
(`curators_college_open`) and joined like any college (request, staff approval).
"""

from __future__ import annotations

from governance.models import City, CollegeKind, Membership, MembershipStatus

from ..permissions import is_operator, owns_provider
from .models import Agreement, Dataset, DatasetStatus, FieldMapping, Ontology, PublisherKind

CURATORS_SLUG = "curators"


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_staff_of(user, city: City) -> bool:
    """An approved member of the city's municipality college."""
    return (
        _signed_in(user)
        and Membership.objects.filter(
            city=city,
            user=user,
            status=MembershipStatus.APPROVED,
            college__kind=CollegeKind.MUNICIPALITY,
        ).exists()
    )


def curator_membership(user, city: City) -> Membership | None:
    """The user's approved membership of the city's curators college, or None."""
    if not _signed_in(user):
        return None
    return (
        Membership.objects.select_related("identity", "college")
        .filter(
            city=city,
            user=user,
            status=MembershipStatus.APPROVED,
            college__slug=CURATORS_SLUG,
            college__kind=CollegeKind.OTHER,
        )
        .first()
    )


def is_curator(user, city: City) -> bool:
    return curator_membership(user, city) is not None


def can_open_curators_college(user, city: City) -> bool:
    """The municipality staff open the city's curators college."""
    return is_staff_of(user, city)


def can_publish(user, *, city: City, publisher_kind: str, provider=None) -> bool:
    """A provider's owner publishes for the provider; the staff for the municipality; an
    approved member of the city as themself."""
    if not _signed_in(user):
        return False
    if publisher_kind == PublisherKind.PROVIDER:
        return provider is not None and owns_provider(user, provider)
    if publisher_kind == PublisherKind.MUNICIPALITY:
        return is_staff_of(user, city)
    if publisher_kind == PublisherKind.MEMBER:
        return Membership.objects.filter(
            city=city, user=user, status=MembershipStatus.APPROVED
        ).exists()
    return False


def can_manage_dataset(user, dataset: Dataset) -> bool:
    """Who publishes the dataset also adds its versions, files and field links."""
    if not _signed_in(user):
        return False
    if dataset.publisher_kind == PublisherKind.PROVIDER:
        return owns_provider(user, dataset.publisher_provider)
    if dataset.publisher_kind == PublisherKind.MEMBER:
        return dataset.publisher_membership.user_id == user.pk
    return is_staff_of(user, dataset.city)


def can_see_dataset(user, dataset: Dataset) -> bool:
    """A published dataset's metadata is public; a withdrawn one only its publisher and the
    operator see."""
    if dataset.status == DatasetStatus.PUBLISHED:
        return True
    return is_operator(user) or can_manage_dataset(user, dataset)


def can_see_access_url(user, dataset: Dataset) -> bool:
    """The producer's own URL is never shown to consumers: they fetch through the platform,
    under an agreement."""
    return can_manage_dataset(user, dataset)


def can_submit_ontology(user, city: City) -> bool:
    """Any approved member of the city, or the operator, proposes a vocabulary."""
    if is_operator(user):
        return True
    return (
        _signed_in(user)
        and Membership.objects.filter(
            city=city, user=user, status=MembershipStatus.APPROVED
        ).exists()
    )


def can_curate_ontology(user, ontology: Ontology) -> bool:
    """A curator of the ontology's city, who did not submit it."""
    return ontology.submitted_by_id != user.pk and is_curator(user, ontology.city)


def can_curate_mapping(user, mapping: FieldMapping) -> bool:
    """A curator of the dataset's city, who neither proposed the link nor manages the
    dataset."""
    dataset = mapping.dataset
    return (
        mapping.proposed_by_id != user.pk
        and not can_manage_dataset(user, dataset)
        and is_curator(user, dataset.city)
    )


def can_request_access(user, city: City) -> bool:
    """An approved member of the offer's city, in any college, asks for data; the services
    then refuse the dataset's own publisher."""
    return (
        _signed_in(user)
        and Membership.objects.filter(
            city=city, user=user, status=MembershipStatus.APPROVED
        ).exists()
    )


def can_see_agreement(user, agreement: Agreement) -> bool:
    """Its consumer, or the dataset's publisher."""
    return agreement.consumer_id == user.pk or can_manage_dataset(user, agreement.dataset)

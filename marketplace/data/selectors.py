"""Reads of the data marketplace, with the object-level access that goes with them. "Missing"
and "not yours" raise the same Http404.

`dataset_search` answers in a constant number of queries (one for the page, one per
prefetched relation) whatever the filters and the number of datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from governance.models import City

from . import sepa
from .errors import InvalidInput
from .models import (
    CreditorAccount,
    Curation,
    Dataset,
    DatasetStatus,
    DatasetVersion,
    DataUpload,
    Distribution,
    FieldMapping,
    Offer,
    OfferStatus,
    Ontology,
    OntologyTerm,
    Payment,
    PaymentKind,
    PaymentStatus,
    ReviewStatus,
    TermKind,
)
from .permissions import can_manage_dataset, can_see_dataset

CLASS_KINDS = [TermKind.CLASS]


def _datasets() -> QuerySet[Dataset]:
    return Dataset.objects.select_related(
        "city__chain",
        "publisher_identity",
        "publisher_provider",
        "publisher_membership",
        "subject_college",
    ).prefetch_related(
        "themes",
        "keywords",
        Prefetch(
            "offers",
            queryset=Offer.objects.filter(status=OfferStatus.ACTIVE).order_by(
                "unit_price_cents", "pk"
            ),
            to_attr="active_offers",
        ),
        Prefetch(
            "field_mappings",
            queryset=FieldMapping.objects.filter(status=ReviewStatus.ACCEPTED)
            .select_related("term__ontology")
            .order_by("field_name", "pk"),
            to_attr="accepted_mappings",
        ),
    )


def _listed() -> QuerySet[Dataset]:
    return _datasets().filter(status=DatasetStatus.PUBLISHED)


def dataset_search(
    *,
    city: City | None = None,
    theme: str | None = None,
    keyword: str | None = None,
    ontology_class: str | None = None,
    publisher: str | None = None,
    max_price_cents: int | None = None,
    pricing: str | None = None,
    personal: bool | None = None,
    q: str | None = None,
) -> QuerySet[Dataset]:
    """Published datasets, newest first, filtered by: city, EU theme code, keyword (exact,
    case-insensitive), ontology class (a term IRI an accepted field link points to),
    publisher (its DID), price (an active offer at most `max_price_cents` per unit, or of
    pricing model `pricing`), personal or not, and text in the title or description."""
    datasets = _listed()
    if city is not None:
        datasets = datasets.filter(city=city)
    if theme:
        datasets = datasets.filter(themes__code=theme.upper())
    if keyword:
        datasets = datasets.filter(keywords__normalized=keyword.strip().lower())
    if ontology_class:
        datasets = datasets.filter(
            Exists(
                FieldMapping.objects.filter(
                    dataset=OuterRef("pk"),
                    status=ReviewStatus.ACCEPTED,
                    term__iri=ontology_class,
                )
            )
        )
    if publisher:
        datasets = datasets.filter(publisher_identity__did=publisher)
    if max_price_cents is not None or pricing:
        offers = Offer.objects.filter(dataset=OuterRef("pk"), status=OfferStatus.ACTIVE)
        if max_price_cents is not None:
            offers = offers.filter(unit_price_cents__lte=max_price_cents)
        if pricing:
            offers = offers.filter(pricing_model=pricing)
        datasets = datasets.filter(Exists(offers))
    if personal is not None:
        datasets = datasets.filter(is_personal=personal)
    if q:
        datasets = datasets.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return datasets.order_by("-created_at", "-pk")


def _versions() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=DatasetVersion.objects.order_by("-number").prefetch_related(
            Prefetch("distributions", queryset=Distribution.objects.order_by("pk"))
        ),
    )


def dataset_get(*, public_id: str, user) -> Dataset:
    """A dataset the user may see, with its versions and distributions."""
    dataset = _datasets().prefetch_related(_versions()).filter(public_id=public_id).first()
    if dataset is None or not can_see_dataset(user, dataset):
        raise Http404("no such dataset")
    return dataset


def dataset_managed(*, public_id: str, user) -> Dataset:
    """A dataset the user publishes (for adding versions, files and links)."""
    dataset = dataset_get(public_id=public_id, user=user)
    if not can_manage_dataset(user, dataset):
        raise Http404("no such dataset")
    return dataset


def version_managed(*, public_id: str, user) -> DatasetVersion:
    version = (
        DatasetVersion.objects.select_related(
            "dataset__city__chain",
            "dataset__publisher_provider",
            "dataset__publisher_membership",
        )
        .filter(public_id=public_id)
        .first()
    )
    if version is None or not can_manage_dataset(user, version.dataset):
        raise Http404("no such version")
    return version


def upload_get(*, public_id: str, user) -> DataUpload:
    """An upload, for the user who started it only."""
    upload = (
        DataUpload.objects.select_related("version__dataset", "distribution")
        .filter(public_id=public_id)
        .first()
    )
    if upload is None or not getattr(user, "is_authenticated", False):
        raise Http404("no such upload")
    if upload.created_by_id != user.pk:
        raise Http404("no such upload")
    return upload


def catalogue_datasets(*, city: City | None = None) -> list[Dataset]:
    """Every published dataset (of `city`, or of the network) with what the DCAT export
    needs, in a constant number of queries."""
    datasets = _listed().prefetch_related(_versions())
    if city is not None:
        datasets = datasets.filter(city=city)
    return list(datasets.order_by("city__slug", "created_at", "pk"))


# --- ontologies ---------------------------------------------------------------------------


def ontology_list(*, city: City | None = None, status: str | None = None) -> QuerySet[Ontology]:
    """The registry (public): every ontology with its number of terms, newest first."""
    ontologies = Ontology.objects.select_related("city", "submitter_identity").annotate(
        term_count=Count("terms")
    )
    if city is not None:
        ontologies = ontologies.filter(city=city)
    if status:
        ontologies = ontologies.filter(status=status)
    return ontologies.order_by("-created_at", "-pk")


def ontology_get(*, public_id: str) -> Ontology:
    ontology = (
        Ontology.objects.select_related("city__chain", "submitter_identity")
        .prefetch_related(
            Prefetch("terms", queryset=OntologyTerm.objects.order_by("kind", "iri")),
            Prefetch(
                "curations",
                queryset=Curation.objects.select_related("curator__identity").order_by("pk"),
            ),
        )
        .filter(public_id=public_id)
        .first()
    )
    if ontology is None:
        raise Http404("no such ontology")
    return ontology


def term_get(*, ontology: Ontology, iri: str) -> OntologyTerm:
    term = (
        OntologyTerm.objects.select_related("ontology").filter(ontology=ontology, iri=iri).first()
    )
    if term is None:
        raise Http404("no such term")
    return term


def mapping_get(*, public_id: str) -> FieldMapping:
    mapping = (
        FieldMapping.objects.select_related(
            "dataset__city__chain",
            "dataset__publisher_provider",
            "dataset__publisher_membership",
            "term__ontology",
        )
        .prefetch_related(
            Prefetch(
                "curations",
                queryset=Curation.objects.select_related("curator__identity").order_by("pk"),
            )
        )
        .filter(public_id=public_id, dataset__status=DatasetStatus.PUBLISHED)
        .first()
    )
    if mapping is None:
        raise Http404("no such field link")
    return mapping


def dataset_mappings(*, dataset: Dataset) -> QuerySet[FieldMapping]:
    return (
        FieldMapping.objects.filter(dataset=dataset)
        .select_related("term__ontology")
        .order_by("field_name", "pk")
    )


def curation_queue(*, city: City) -> dict:
    """What waits for the city's curators: pending ontologies and pending field links."""
    return {
        "ontologies": list(
            ontology_list(city=city, status=ReviewStatus.PENDING).order_by("created_at", "pk")
        ),
        "mappings": list(
            FieldMapping.objects.filter(
                dataset__city=city,
                dataset__status=DatasetStatus.PUBLISHED,
                status=ReviewStatus.PENDING,
            )
            .select_related("dataset", "term__ontology")
            .order_by("created_at", "pk")
        ),
    }


# --- billing: the city's creditor account -------------------------------------------------


@dataclass(frozen=True)
class CreditorOverview:
    """What the staff's billing page says about where transfers for the city's data go."""

    account: CreditorAccount | None  # the city's own account, when its staff set one
    deployment: sepa.Party | None  # the deployment's account (None: misconfigured)
    deployment_is_example: bool  # the published example account of the development settings
    fallback_allowed: bool  # may the city be paid into the deployment's account?

    @property
    def transfers_refused(self) -> bool:
        """No account of its own and no fallback: transfer files are refused."""
        return self.account is None and (not self.fallback_allowed or self.deployment is None)


def creditor_overview(*, city: City) -> CreditorOverview:
    account = CreditorAccount.objects.select_related("entry__chain").filter(city=city).first()
    try:
        deployment = sepa.deployment_creditor()
    except InvalidInput:
        deployment = None
    return CreditorOverview(
        account=account,
        deployment=deployment,
        deployment_is_example=deployment is not None and sepa.is_example_account(deployment),
        fallback_allowed=sepa.fallback_allowed(),
    )


def sepa_transfers_waiting(*, city: City, limit: int = 50) -> list[Payment]:
    """The city's SEPA transfers waiting for the money to arrive, oldest first."""
    return list(
        Payment.objects.select_related("invoice", "entry__chain")
        .filter(
            invoice__agreement__dataset__city=city,
            kind=PaymentKind.SEPA,
            status=PaymentStatus.PENDING,
        )
        .order_by("created_at", "pk")[:limit]
    )

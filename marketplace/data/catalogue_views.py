"""The data marketplace's pages under /c/<slug>/data/ (HTMX-enhanced; every form also works
without JavaScript):

- the city's catalogue: search and filters (theme, keyword, ontology term, publisher, price,
  personal or not) through `selectors.dataset_search`, paginated, in a constant number of
  queries; a dataset's page (DCAT metadata, distributions with size and SHA-256, field links
  and their curation, offers with their price and ODRL policy, the DCAT exports);
- producers' pages: describe a dataset (DCAT-AP 3), add a version, add its files (chunked
  upload with a progress bar through the API, static/js/upload.js; a plain multipart form
  without JavaScript), an access URL, links of fields to ontology terms;
- the ontology registry: list, submit, a vocabulary's classes and properties; the curators'
  queue with accept / refuse forms, and a curator's rewards.

Reads are public; a write sends an anonymous visitor to log in and answers 403 to anyone
else signed in who may not do it. A service's refusal (`LedgerError`) becomes a form error
with its 400/403/409 status, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from governance import permissions as gov_permissions
from governance import selectors as gov_selectors
from governance.models import College
from governance.selectors import Money
from ledger.errors import LedgerError
from smartb.htmx import form_error_status as _error_status
from smartb.htmx import redirect_after_form as _to

from ..models import TaskStatus
from . import selectors, services
from .catalogue_forms import (
    MEDIA_TYPES,
    CatalogueFilterForm,
    CurationForm,
    DatasetForm,
    LinkForm,
    MappingForm,
    OntologyForm,
    OntologyStatusForm,
    UploadForm,
    VersionForm,
    publisher_options,
)
from .errors import InvalidInput
from .models import (
    Curation,
    Dataset,
    DatasetStatus,
    DatasetVersion,
    Distribution,
    FieldMapping,
    Ontology,
    OntologyTerm,
    PricingModel,
    PublisherKind,
    ReviewStatus,
)
from .permissions import (
    CURATORS_SLUG,
    can_curate_mapping,
    can_curate_ontology,
    can_manage_dataset,
    can_open_curators_college,
    can_see_access_url,
    can_submit_ontology,
    curator_membership,
)
from .services.uploads import max_chunk_bytes

DATASETS_PER_PAGE = 20
ONTOLOGIES_PER_PAGE = 30
# The browser sends a file in chunks of at most 1 MiB (fewer if the platform accepts less),
# so the progress bar moves often and a lost connection costs little.
BROWSER_CHUNK_BYTES = 1024 * 1024
API_ROOT = "/api/v1/marketplace/data/"


def _city_context(request, city, **extra) -> dict:
    """What every city page needs (the city's navigation reads it)."""
    viewer = gov_selectors.membership_of(request.user, city)
    return {
        "city": city,
        "viewer": viewer,
        "viewer_is_member": gov_permissions.is_member(viewer),
        "viewer_is_staff": gov_permissions.is_staff_membership(viewer),
        **extra,
    }


def _url(name: str, *args) -> str:
    return reverse(f"data_catalogue:{name}", args=args)


# --- reads that only these pages need -------------------------------------------------------


def _dataset_in(city, public_id: str, user) -> Dataset:
    """A dataset of `city` the user may see (404 otherwise)."""
    dataset = selectors.dataset_get(public_id=public_id, user=user)
    if dataset.city_id != city.pk:
        raise Http404("no such dataset in this city")
    return dataset


def _managed(user, dataset: Dataset) -> None:
    if not can_manage_dataset(user, dataset):
        raise PermissionDenied(
            _("Only the dataset's publisher adds its versions, files and links.")
        )


def _version_in(city, public_id: str) -> DatasetVersion:
    version = (
        DatasetVersion.objects.select_related(
            "dataset__city__chain",
            "dataset__publisher_provider",
            "dataset__publisher_membership",
        )
        .prefetch_related(Prefetch("distributions", queryset=Distribution.objects.order_by("pk")))
        .filter(public_id=public_id, dataset__city=city, dataset__status=DatasetStatus.PUBLISHED)
        .first()
    )
    if version is None:
        raise Http404("no such version in this city")
    return version


def _mappings_of(dataset: Dataset) -> list[FieldMapping]:
    return list(selectors.dataset_mappings(dataset=dataset).select_related("term__ontology__city"))


def _accepted_terms() -> list[OntologyTerm]:
    """Every term of an accepted ontology of the network, to link fields to."""
    return list(
        OntologyTerm.objects.filter(ontology__status=ReviewStatus.ACCEPTED)
        .select_related("ontology")
        .order_by("ontology__name", "ontology__version", "kind", "iri")
    )


def _ontology_in(city, public_id: str) -> Ontology:
    ontology = selectors.ontology_get(public_id=public_id)
    if ontology.city_id != city.pk:
        raise Http404("no such ontology in this city's registry")
    return ontology


def _mapping_in(city, public_id: str) -> FieldMapping:
    mapping = selectors.mapping_get(public_id=public_id)
    if mapping.dataset.city_id != city.pk:
        raise Http404("no such field link in this city")
    return mapping


def _my_curations(user, city) -> list[Curation]:
    return list(
        Curation.objects.filter(curator__user=user, curator__city=city)
        .select_related("ontology", "mapping__dataset", "mapping__term", "task", "entry__chain")
        .order_by("-created_at", "-pk")
    )


# --- what the templates show ----------------------------------------------------------------


def publisher_name(dataset: Dataset) -> str:
    if dataset.publisher_kind == PublisherKind.PROVIDER:
        return dataset.publisher_provider.name
    if dataset.publisher_kind == PublisherKind.MUNICIPALITY:
        return _("%(city)s (the municipality)") % {"city": dataset.city.name}
    return _("a member of the city")


@dataclass
class PolicyRule:
    """One rule of an ODRL policy, in words a consumer can read."""

    kind: str  # permission, prohibition, obligation
    action: str
    constraints: list[str]
    duties: list[str]


OPERATOR_SIGNS = {
    "eq": "=",
    "neq": "≠",
    "lt": "<",
    "lteq": "≤",
    "gt": ">",
    "gteq": "≥",
    "isA": "∈",
    "isAnyOf": "∈",
    "isNoneOf": "∉",
    "isAllOf": "⊇",
    "isPartOf": "⊆",
}


def _term(value) -> str:
    """An ODRL term without its namespace: read, count, trainModel…"""
    text = str(value.get("@id", value.get("@value", "")) if isinstance(value, dict) else value)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if "://" in text else text


def _operand(value) -> str:
    if isinstance(value, list):
        return ", ".join(_operand(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("@value", value.get("@id", "")))
    return _term(value)


def _constraint_text(constraint: dict) -> str:
    left = _term(constraint.get("leftOperand", ""))
    sign = OPERATOR_SIGNS.get(constraint.get("operator", ""), constraint.get("operator", ""))
    text = f"{left} {sign} {_operand(constraint.get('rightOperand', ''))}"
    if constraint.get("unit") and _term(constraint["unit"]) == "Euro":
        text += " €"
    return text


def _duty_text(duty: dict) -> str:
    constraints = [_constraint_text(c) for c in duty.get("constraint", [])]
    action = _term(duty.get("action", ""))
    return f"{action} ({'; '.join(constraints)})" if constraints else action


def policy_summary(policy: dict) -> list[PolicyRule]:
    """The rules of an ODRL JSON-LD policy (an offer's), permissions first."""
    rules = []
    for kind in ("permission", "prohibition", "obligation"):
        for rule in policy.get(kind) or []:
            if not isinstance(rule, dict):
                continue
            rules.append(
                PolicyRule(
                    kind=kind,
                    action=_term(rule.get("action", "")),
                    constraints=[_constraint_text(c) for c in rule.get("constraint") or []],
                    duties=[_duty_text(d) for d in rule.get("duty") or []],
                )
            )
    return rules


# Lazy: a module-level string is read once at import, in whatever language was active then.
PRICE_UNITS = {
    PricingModel.PER_REQUEST: gettext_lazy("per request"),
    PricingModel.PER_RECORD: gettext_lazy("per record"),
    PricingModel.PER_MB: gettext_lazy("per MB"),
}


def offer_rows(dataset: Dataset) -> list[dict]:
    rows = []
    for offer in getattr(dataset, "active_offers", []):
        if offer.pricing_model == PricingModel.FREE:
            price = _("free")
        elif offer.pricing_model == PricingModel.SUBSCRIPTION:
            price = _("%(price)s per %(days)s days") % {
                "price": Money(offer.unit_price_cents),
                "days": offer.subscription_days,
            }
        else:
            price = f"{Money(offer.unit_price_cents)} {PRICE_UNITS[offer.pricing_model]}"
        rows.append(
            {
                "offer": offer,
                "price": price,
                "transformation_fee": Money(offer.transformation_fee_cents)
                if offer.transformation_fee_cents
                else None,
                "rules": policy_summary(offer.policy or {}),
            }
        )
    return rows


def cheapest(dataset: Dataset) -> str | None:
    offers = getattr(dataset, "active_offers", [])
    if not offers:
        return None
    offer = offers[0]  # prefetched by unit price
    if offer.pricing_model == PricingModel.FREE or not offer.unit_price_cents:
        return _("free")
    return _("from %(price)s") % {"price": Money(offer.unit_price_cents)}


# --- the catalogue --------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def catalogue(request, slug: str):
    city = gov_selectors.city_get(slug)
    filters = CatalogueFilterForm(request.GET or None, city=city)
    datasets = selectors.dataset_search(city=city, **filters.filters())
    page = Paginator(datasets, DATASETS_PER_PAGE).get_page(request.GET.get("page"))
    for dataset in page.object_list:
        dataset.publisher_name = publisher_name(dataset)
        dataset.cheapest = cheapest(dataset)
    context = _city_context(
        request,
        city,
        filters=filters,
        page=page,
        may_publish=bool(publisher_options(request.user, city)),
        export_turtle=f"{API_ROOT}catalogue.ttl?city={city.slug}",
        export_jsonld=f"{API_ROOT}catalogue.jsonld?city={city.slug}",
    )
    template = "marketplace/data/catalogue/catalogue.html"
    if request.htmx:
        template += "#dataset-list"
    return render(request, template, context)


@require_GET
def dataset_detail(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    dataset = _dataset_in(city, public_id, request.user)
    manager = can_manage_dataset(request.user, dataset)
    versions = list(dataset.versions.all())
    uploaded = request.GET.get("uploaded")
    context = _city_context(
        request,
        city,
        dataset=dataset,
        publisher=publisher_name(dataset),
        versions=versions,
        mappings=_mappings_of(dataset),
        offers=offer_rows(dataset),
        manager=manager,
        show_access_url=can_see_access_url(request.user, dataset),
        uploaded=uploaded if uploaded else None,
        export_turtle=f"{API_ROOT}catalogue.ttl?city={city.slug}",
        export_jsonld=f"{API_ROOT}catalogue.jsonld?city={city.slug}",
        api_url=f"{API_ROOT}datasets/{dataset.public_id}/",
    )
    return render(request, "marketplace/data/catalogue/dataset_detail.html", context)


# --- producers ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def dataset_create(request, slug: str):
    city = gov_selectors.city_get(slug)
    form = DatasetForm(request.POST or None, user=request.user, city=city)
    if not form.fields["publisher"].choices:
        raise PermissionDenied(
            _("Only a member of the city, its municipality or a provider publishes here.")
        )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            kind, provider = form.publisher_chosen()
            try:
                dataset = services.dataset_create(
                    by=request.user,
                    city=city,
                    publisher_kind=kind,
                    provider=provider,
                    is_personal=data["is_personal"],
                    subject_college=form.college_chosen(),
                    subject_dids=data["subject_dids"],
                    metadata=services.DatasetMetadata(
                        title=data["title"],
                        description=data["description"],
                        licence=data["licence"],
                        contact_name=data["contact_name"],
                        contact_email=data["contact_email"],
                        themes=data["themes"],
                        keywords=data["keywords"],
                        frequency=data["frequency"],
                        temporal_start=data["temporal_start"],
                        temporal_end=data["temporal_end"],
                        spatial_uri=data["spatial_uri"],
                        landing_page=data["landing_page"],
                    ),
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request, _("Dataset published in the catalogue. Now add its first version.")
                )
                return _to(request, _url("version_create", city.slug, dataset.public_id))
    context = _city_context(request, city, form=form)
    return render(request, "marketplace/data/catalogue/dataset_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def version_create(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    dataset = _dataset_in(city, public_id, request.user)
    _managed(request.user, dataset)
    form = VersionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = services.dataset_version_add(
                    by=request.user, dataset=dataset, **form.cleaned_data
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("Version %(version)s added, with its own encryption key. Now add its files.")
                    % {"version": version.label},
                )
                return _to(request, _url("version_upload", city.slug, version.public_id))
    context = _city_context(request, city, dataset=dataset, form=form)
    return render(request, "marketplace/data/catalogue/version_form.html", context, status=status)


def _upload_context(request, city, version, upload_form, link_form) -> dict:
    return _city_context(
        request,
        city,
        version=version,
        dataset=version.dataset,
        form=upload_form,
        link_form=link_form,
        start_url=f"{API_ROOT}versions/{version.public_id}/uploads",
        api_root=API_ROOT,
        chunk_bytes=min(BROWSER_CHUNK_BYTES, max_chunk_bytes()),
        media_types=MEDIA_TYPES,
        dataset_url=_url("dataset_detail", city.slug, version.dataset.public_id),
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_upload(request, slug: str, version_id: str):
    """A version's files: the chunked upload (JavaScript, through the API) or, without
    JavaScript, the same form posted whole and streamed into the service."""
    city = gov_selectors.city_get(slug)
    version = _version_in(city, version_id)
    _managed(request.user, version.dataset)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                distribution = services.distribution_add(
                    by=request.user,
                    version=version,
                    file=services.HostedFile(
                        content=data["file"],
                        format=data["format"],
                        media_type=data["media_type"],
                        title=data["title"],
                        sha256=data["sha256"],
                    ),
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("File received and encrypted; its SHA-256 is %(sha)s.")
                    % {"sha": distribution.sha256},
                )
                url = _url("dataset_detail", city.slug, version.dataset.public_id)
                return redirect(f"{url}?uploaded={distribution.public_id}")
    context = _upload_context(request, city, version, form, LinkForm())
    return render(request, "marketplace/data/catalogue/upload.html", context, status=status)


@login_required
@require_POST
def distribution_link(request, slug: str, version_id: str):
    city = gov_selectors.city_get(slug)
    version = _version_in(city, version_id)
    _managed(request.user, version.dataset)
    form = LinkForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.distribution_add(
                by=request.user,
                version=version,
                file=services.LinkedFile(
                    access_url=data["access_url"],
                    format=data["format"],
                    media_type=data["media_type"],
                    title=data["title"],
                    byte_size=data["byte_size"],
                    sha256=data["sha256"],
                ),
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(
                request, _("Access URL added: consumers reach it only through the platform.")
            )
            return redirect(_url("dataset_detail", city.slug, version.dataset.public_id))
    context = _upload_context(request, city, version, UploadForm(), form)
    return render(request, "marketplace/data/catalogue/upload.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def mapping_create(request, slug: str, public_id: str):
    """Link one of the dataset's fields to a term of an accepted ontology."""
    city = gov_selectors.city_get(slug)
    dataset = _dataset_in(city, public_id, request.user)
    _managed(request.user, dataset)
    terms = _accepted_terms()
    form = MappingForm(request.POST or None, terms=terms)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            ontology_id, iri = form.term_key()
            term = next(
                (t for t in terms if t.ontology.public_id == ontology_id and t.iri == iri), None
            )
            try:
                if term is None:
                    raise InvalidInput(_("Link fields only to terms of an accepted ontology."))
                services.field_mapping_propose(
                    by=request.user,
                    dataset=dataset,
                    field_name=form.cleaned_data["field_name"],
                    term=term,
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(request, _("Field linked: the city's curators will review it."))
                return _to(request, _url("dataset_detail", city.slug, dataset.public_id))
    context = _city_context(
        request, city, dataset=dataset, form=form, mappings=_mappings_of(dataset)
    )
    template = "marketplace/data/catalogue/mapping_form.html"
    if request.htmx:
        template += "#mapping-form"
    return render(request, template, context, status=status)


# --- the ontology registry ------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def ontology_list(request, slug: str):
    city = gov_selectors.city_get(slug)
    filters = OntologyStatusForm(request.GET or None)
    status = filters.cleaned_data.get("status") if filters.is_valid() else None
    ontologies = selectors.ontology_list(city=city, status=status or None)
    page = Paginator(ontologies, ONTOLOGIES_PER_PAGE).get_page(request.GET.get("page"))
    context = _city_context(
        request,
        city,
        filters=filters,
        page=page,
        may_submit=can_submit_ontology(request.user, city),
    )
    template = "marketplace/data/catalogue/ontology_list.html"
    if request.htmx:
        template += "#ontology-list"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def ontology_submit(request, slug: str):
    city = gov_selectors.city_get(slug)
    if not can_submit_ontology(request.user, city):
        raise PermissionDenied(_("Only an approved member of the city submits an ontology."))
    form = OntologyForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                ontology = services.ontology_submit(
                    by=request.user,
                    city=city,
                    name=data["name"],
                    namespace=data["namespace"],
                    version=data["version"],
                    format=data["format"],
                    source=form.content(),
                )
            except LedgerError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(
                    request,
                    _("Ontology submitted with %(n)s terms: it waits for the city's curators.")
                    % {"n": ontology.terms.count()},
                )
                return redirect(_url("ontology_detail", city.slug, ontology.public_id))
    context = _city_context(request, city, form=form)
    return render(request, "marketplace/data/catalogue/ontology_form.html", context, status=status)


@require_GET
def ontology_detail(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    ontology = _ontology_in(city, public_id)
    terms = list(ontology.terms.all())
    may_curate = (
        ontology.status == ReviewStatus.PENDING
        and request.user.is_authenticated
        and can_curate_ontology(request.user, ontology)
        and not any(c.curator.user_id == request.user.pk for c in ontology.curations.all())
    )
    context = _city_context(
        request,
        city,
        ontology=ontology,
        classes=[t for t in terms if t.kind == "class"],
        properties=[t for t in terms if t.kind != "class"],
        may_curate=may_curate,
        form=CurationForm(),
    )
    return render(request, "marketplace/data/catalogue/ontology_detail.html", context)


# --- the curators ---------------------------------------------------------------------------


def _queue_context(request, city, **extra) -> dict:
    curator = curator_membership(request.user, city)
    queue = selectors.curation_queue(city=city)
    if curator is not None:
        decided = set(
            Curation.objects.filter(curator=curator).values_list("ontology_id", "mapping_id")
        )
        done_ontologies = {o for o, _m in decided if o}
        done_mappings = {m for _o, m in decided if m}
        for ontology in queue["ontologies"]:
            ontology.may_curate = (
                ontology.pk not in done_ontologies and ontology.submitted_by_id != request.user.pk
            )
        for mapping in queue["mappings"]:
            mapping.may_curate = mapping.pk not in done_mappings and can_curate_mapping(
                request.user, mapping
            )
    return _city_context(
        request,
        city,
        queue=queue,
        curator=curator,
        form=CurationForm(),
        has_college=College.objects.filter(city=city, slug=CURATORS_SLUG).exists(),
        may_open_college=can_open_curators_college(request.user, city),
        **extra,
    )


@require_GET
def curation_queue(request, slug: str):
    city = gov_selectors.city_get(slug)
    return render(
        request, "marketplace/data/catalogue/curation_queue.html", _queue_context(request, city)
    )


def _curate(request, city, *, ontology=None, mapping=None):
    """Record the signed-in curator's decision; answer the queue item (HTMX) or go back."""
    subject = ontology or mapping
    allowed = (
        can_curate_ontology(request.user, ontology)
        if ontology is not None
        else can_curate_mapping(request.user, mapping)
    )
    if not allowed:
        raise PermissionDenied(
            _("Only a curator of this city, who neither submitted nor publishes it, decides this.")
        )
    form = CurationForm(request.POST)
    status = 400
    curation = None
    if form.is_valid():
        try:
            curation = services.curation_record(
                by=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                ontology=ontology,
                mapping=mapping,
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            status = 200
            subject.refresh_from_db(fields=["status", "decided_at"])
    if not request.htmx:
        if curation is not None:
            messages.success(request, _("Your decision is recorded and signed."))
        else:
            for error in form.errors.values():
                messages.error(request, " ".join(error))
        back = request.POST.get("next") or ""
        if back.startswith(f"/c/{city.slug}/data/"):
            return redirect(back)
        return redirect(_url("curation_queue", city.slug))
    context = _city_context(
        request,
        city,
        item=subject,
        is_mapping=mapping is not None,
        curation=curation,
        reward=Money(curation.reward_cents) if curation and curation.reward_cents else None,
        form=form,
        curator=True,
    )
    return render(request, "marketplace/data/catalogue/_curation_item.html", context, status=status)


@login_required
@require_POST
def ontology_curate(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    return _curate(request, city, ontology=_ontology_in(city, public_id))


@login_required
@require_POST
def mapping_curate(request, slug: str, public_id: str):
    city = gov_selectors.city_get(slug)
    return _curate(request, city, mapping=_mapping_in(city, public_id))


@login_required
@require_GET
def curator_rewards(request, slug: str):
    """The signed-in curator's decisions in this city and the rewards they earned."""
    city = gov_selectors.city_get(slug)
    curations = _my_curations(request.user, city)
    for curation in curations:
        curation.reward = Money(curation.reward_cents)
    context = _city_context(
        request,
        city,
        curations=curations,
        curator=curator_membership(request.user, city),
        total=Money(sum(c.reward_cents for c in curations)),
        paid=Money(
            sum(c.reward_cents for c in curations if c.task and c.task.status == TaskStatus.PAID)
        ),
    )
    return render(request, "marketplace/data/catalogue/rewards.html", context)


@login_required
@require_POST
def curators_open(request, slug: str):
    """The municipality staff open the city's curators college."""
    city = gov_selectors.city_get(slug)
    if not can_open_curators_college(request.user, city):
        raise PermissionDenied(_("Only this city's municipality staff open its curators college."))
    try:
        services.curators_college_open(by=request.user, city=city)
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The curators college is open: members ask to join it, and you approve them."),
        )
    return redirect(_url("curation_queue", city.slug))

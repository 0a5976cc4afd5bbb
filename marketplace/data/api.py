"""REST API of the data marketplace, part 1 (`/api/v1/marketplace/data/`): the catalogue,
chunked uploads of hosted files, the DCAT-AP 3 export, the ontology registry and curation.

Errors leave as `{"error": {"code", "message"}}` (`smartb.api`): 400 bad input, 401
anonymous, 403 not allowed, 404 missing or hidden, 409 a state conflict, 413 too large.

Uploading a large file (a progress bar needs chunks):

    POST   versions/{id}/uploads            {format, media_type, byte_size, sha256?}
    PUT    uploads/{id}/chunks/{n}          raw bytes (application/octet-stream), n = 0, 1…
    GET    uploads/{id}                     progress: received_bytes / expected_bytes
    POST   uploads/{id}/complete            → the distribution
    DELETE uploads/{id}                     abort

A chunk already received answers 409 with the chunk expected next in `next_chunk` of
`GET uploads/{id}`, so a client resumes after a lost connection.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors as city_selectors
from governance.api import ErrorOutput, Pagination, answers
from governance.models import College
from smartb.api import BoundedJSONParser, parsed

from ..models import Provider
from . import dcat, selectors, services
from .errors import InvalidInput, UploadTooLarge
from .models import (
    CurationDecision,
    Dataset,
    DistributionKind,
    Frequency,
    OntologyFormat,
    PricingModel,
    PublisherKind,
    ReviewStatus,
    TermKind,
    Theme,
    UploadStatus,
)
from .permissions import can_see_access_url
from .services.ontologies import MAX_ONTOLOGY_BYTES
from .services.uploads import max_chunk_bytes

TAG = "data marketplace"
PUBLIC_ID = OpenApiParameter("public_id", str, OpenApiParameter.PATH)
CITY_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="the city")
CHUNK_INDEX = OpenApiParameter(
    "index", int, OpenApiParameter.PATH, description="the chunk's number: 0, 1, 2…"
)


def _entry(entry) -> dict | None:
    if entry is None:
        return None
    return {"chain": entry.chain.slug, "index": entry.index, "tx_hash": entry.tx_hash}


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "chain": {"type": "string"},
            "index": {"type": "integer"},
            "tx_hash": {"type": "string"},
        },
    }
)
class EntryField(serializers.Field):
    """The ledger transaction that recorded it: {chain, index, tx_hash}."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, entry):
        return _entry(entry)


class CodeField(serializers.CharField):
    """One of a fixed set of codes, shown in the schema as a string listing them (so the
    schema's enum names never collide with other apps' fields of the same name)."""

    def __init__(self, *, choices, **kwargs):
        self.codes = [str(value) for value, _label in choices]
        kwargs.setdefault("help_text", "one of: " + ", ".join(self.codes))
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in self.codes:
            raise serializers.ValidationError(
                _("“%(value)s” is not one of: %(codes)s.")
                % {"value": value[:64], "codes": ", ".join(self.codes)}
            )
        return value


def ontology_source(data: dict) -> str | bytes:
    """The submitted ontology: the uploaded file's bytes (read up to the limit) or its text."""
    uploaded = data.get("file")
    if uploaded is not None:
        return uploaded.read(MAX_ONTOLOGY_BYTES + 1)
    if data.get("source"):
        return data["source"]
    raise InvalidInput(_("Send the ontology as a file or as its text (source)."))


# --- output serializers ----------------------------------------------------------------------


class DataPublisherOutput(serializers.Serializer):
    kind = CodeField(choices=PublisherKind.choices, source="publisher_kind")
    did = serializers.CharField(source="publisher_identity.did")
    name = serializers.SerializerMethodField()
    provider = serializers.CharField(
        source="publisher_provider.public_id", allow_null=True, default=None
    )

    def get_name(self, dataset: Dataset) -> str:
        if dataset.publisher_kind == PublisherKind.PROVIDER:
            return dataset.publisher_provider.name
        if dataset.publisher_kind == PublisherKind.MUNICIPALITY:
            return dataset.city.name
        return dataset.publisher_identity.did


class DataOfferRefOutput(serializers.Serializer):
    public_id = serializers.CharField()
    pricing_model = CodeField(choices=PricingModel.choices)
    unit_price_cents = serializers.IntegerField()


class DataMappingOutput(serializers.Serializer):
    public_id = serializers.CharField()
    field_name = serializers.CharField()
    term = serializers.CharField(source="term.iri")
    term_kind = CodeField(choices=TermKind.choices, source="term.kind")
    ontology = serializers.CharField(source="term.ontology.public_id")
    status = CodeField(choices=ReviewStatus.choices)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class DataDatasetOutput(serializers.Serializer):
    public_id = serializers.CharField()
    city = serializers.CharField(source="city.slug")
    title = serializers.CharField()
    description = serializers.CharField()
    publisher = DataPublisherOutput(source="*")
    themes = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()
    licence = serializers.CharField()
    landing_page = serializers.CharField()
    temporal_start = serializers.DateField(allow_null=True)
    temporal_end = serializers.DateField(allow_null=True)
    spatial_uri = serializers.CharField()
    spatial_geometry = serializers.CharField()
    frequency = CodeField(choices=Frequency.choices)
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    is_personal = serializers.BooleanField()
    subject_college = serializers.CharField(
        source="subject_college.slug", allow_null=True, default=None
    )
    status = serializers.CharField()
    offers = DataOfferRefOutput(many=True, source="active_offers")
    mappings = DataMappingOutput(
        many=True, source="accepted_mappings", help_text="accepted links to ontology terms"
    )
    created_at = serializers.DateTimeField()
    modified_at = serializers.DateTimeField()

    def get_themes(self, dataset) -> list[str]:
        return [theme.code for theme in dataset.themes.all()]

    def get_keywords(self, dataset) -> list[str]:
        return [keyword.keyword for keyword in dataset.keywords.all()]


class DataDistributionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    kind = CodeField(choices=DistributionKind.choices)
    title = serializers.CharField()
    format = serializers.CharField(help_text="EU file-type code")
    media_type = serializers.CharField()
    byte_size = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    record_count = serializers.IntegerField(allow_null=True)
    access_url = serializers.SerializerMethodField(
        help_text="the producer's URL: shown to the publisher only"
    )
    created_at = serializers.DateTimeField()
    entry = EntryField()

    def get_access_url(self, distribution) -> str | None:
        if distribution.kind != DistributionKind.ACCESS_URL:
            return None
        return distribution.access_url if self.context.get("manager") else None


class DataVersionOutput(serializers.Serializer):
    public_id = serializers.CharField()
    dataset = serializers.CharField(source="dataset.public_id")
    number = serializers.IntegerField()
    label = serializers.CharField()
    notes = serializers.CharField()
    distributions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    entry = EntryField()

    def get_distributions(self, version) -> list[dict]:
        return DataDistributionOutput(
            version.distributions.all(), many=True, context=self.context
        ).data


class DataDatasetDetailOutput(DataDatasetOutput):
    versions = serializers.SerializerMethodField()
    entry = EntryField()

    def get_versions(self, dataset) -> list[dict]:
        return DataVersionOutput(dataset.versions.all(), many=True, context=self.context).data


class DataUploadOutput(serializers.Serializer):
    public_id = serializers.CharField()
    version = serializers.CharField(source="version.public_id")
    status = CodeField(choices=UploadStatus.choices)
    format = serializers.CharField()
    media_type = serializers.CharField()
    expected_bytes = serializers.IntegerField()
    received_bytes = serializers.IntegerField()
    next_chunk = serializers.IntegerField(help_text="the chunk to send next")
    max_chunk_bytes = serializers.SerializerMethodField()
    distribution = serializers.CharField(
        source="distribution.public_id", allow_null=True, default=None
    )
    created_at = serializers.DateTimeField()

    def get_max_chunk_bytes(self, upload) -> int:
        return max_chunk_bytes()


class DataTermOutput(serializers.Serializer):
    kind = CodeField(choices=TermKind.choices)
    iri = serializers.CharField()
    label = serializers.CharField()


class DataCurationOutput(serializers.Serializer):
    public_id = serializers.CharField()
    curator = serializers.CharField(source="curator.identity.did")
    decision = CodeField(choices=CurationDecision.choices)
    reason = serializers.CharField()
    reward_cents = serializers.IntegerField()
    task = serializers.CharField(source="task.public_id", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    entry = EntryField()


class DataOntologyOutput(serializers.Serializer):
    public_id = serializers.CharField()
    city = serializers.CharField(source="city.slug")
    name = serializers.CharField()
    namespace = serializers.CharField()
    version = serializers.CharField()
    format = CodeField(choices=OntologyFormat.choices)
    sha256 = serializers.CharField()
    status = CodeField(choices=ReviewStatus.choices)
    reason = serializers.CharField()
    submitter = serializers.CharField(source="submitter_identity.did")
    term_count = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def get_term_count(self, ontology) -> int:
        count = getattr(ontology, "term_count", None)
        return len(ontology.terms.all()) if count is None else count


class DataOntologyDetailOutput(DataOntologyOutput):
    terms = DataTermOutput(many=True, source="terms.all")
    curations = DataCurationOutput(many=True, source="curations.all")
    entry = EntryField()


class DataMappingDetailOutput(DataMappingOutput):
    dataset = serializers.CharField(source="dataset.public_id")
    curations = DataCurationOutput(many=True, source="curations.all")
    entry = EntryField()


class DataCurationQueueOutput(serializers.Serializer):
    ontologies = DataOntologyOutput(many=True)
    mappings = DataMappingDetailOutput(many=True)


class DataCollegeOutput(serializers.Serializer):
    city = serializers.CharField(source="city.slug")
    slug = serializers.CharField()
    kind = serializers.CharField()


# --- input serializers -----------------------------------------------------------------------


def _optional_text(max_length: int):
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default=""
    )


class DataSearchInput(serializers.Serializer):
    city = serializers.SlugField(required=False)
    theme = CodeField(choices=Theme.choices, required=False)
    keyword = serializers.CharField(max_length=100, required=False)
    ontology_class = serializers.CharField(
        max_length=500, required=False, help_text="the IRI of an ontology term"
    )
    publisher = serializers.CharField(max_length=200, required=False, help_text="a DID")
    max_price_cents = serializers.IntegerField(min_value=0, required=False)
    pricing = CodeField(choices=PricingModel.choices, required=False)
    personal = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(max_length=100, required=False, help_text="search text")


class DataDatasetInput(serializers.Serializer):
    city = serializers.SlugField()
    publisher_kind = CodeField(choices=PublisherKind.choices)
    provider = serializers.CharField(
        max_length=32, required=False, help_text="the provider's public id (kind provider)"
    )
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=20000)
    licence = serializers.CharField(max_length=500, help_text="the licence's URI")
    contact_name = serializers.CharField(max_length=200)
    contact_email = serializers.CharField(max_length=254)
    themes = serializers.ListField(
        child=CodeField(choices=Theme.choices), min_length=1, max_length=13
    )
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=30
    )
    frequency = CodeField(choices=Frequency.choices, required=False, default=Frequency.UNKNOWN)
    temporal_start = serializers.DateField(required=False, allow_null=True, default=None)
    temporal_end = serializers.DateField(required=False, allow_null=True, default=None)
    spatial_uri = _optional_text(500)
    spatial_geometry = _optional_text(20000)
    landing_page = _optional_text(500)
    is_personal = serializers.BooleanField(required=False, default=False)
    subject_college = serializers.SlugField(required=False, help_text="a college of the city")
    subject_dids = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )


class DataLinkInput(serializers.Serializer):
    access_url = serializers.CharField(max_length=500)
    format = serializers.CharField(max_length=32, help_text="EU file-type code, e.g. CSV")
    media_type = serializers.CharField(max_length=100)
    title = _optional_text(300)
    byte_size = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    sha256 = _optional_text(64)


class DataVersionInput(serializers.Serializer):
    label = _optional_text(32)
    notes = _optional_text(5000)
    links = DataLinkInput(many=True, required=False, default=list)


class DataUploadInput(serializers.Serializer):
    format = serializers.CharField(max_length=32, help_text="EU file-type code, e.g. CSV")
    media_type = serializers.CharField(max_length=100)
    byte_size = serializers.IntegerField(min_value=0)
    sha256 = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="the file's SHA-256: checked when the upload completes",
    )
    title = _optional_text(300)


class DataMappingInput(serializers.Serializer):
    field_name = serializers.CharField(max_length=200)
    ontology = serializers.CharField(max_length=32, help_text="an accepted ontology's id")
    term = serializers.CharField(max_length=500, help_text="the term's IRI")


class DataOntologyInput(serializers.Serializer):
    city = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    namespace = serializers.CharField(max_length=500)
    version = serializers.CharField(max_length=32)
    format = CodeField(choices=OntologyFormat.choices)
    file = serializers.FileField(required=False, help_text="the file (multipart)")
    source = serializers.CharField(
        required=False, trim_whitespace=False, help_text="or the file's text (JSON)"
    )


class DataOntologyFilterInput(serializers.Serializer):
    city = serializers.SlugField(required=False)
    status = CodeField(choices=ReviewStatus.choices, required=False)


class DataCurationInput(serializers.Serializer):
    decision = CodeField(choices=CurationDecision.choices)
    reason = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="required for a refusal",
    )


class DataCatalogueInput(serializers.Serializer):
    city = serializers.SlugField(required=False, help_text="one city's catalogue")


# --- catalogue -------------------------------------------------------------------------------


def _context(request, dataset: Dataset) -> dict:
    return {"manager": can_see_access_url(request.user, dataset)}


class DatasetCollectionApi(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = Pagination

    @extend_schema(
        parameters=[DataSearchInput],
        responses=answers(200, DataDatasetOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="data_datasets",
        description="Search the catalogue: by city, theme, keyword, ontology class, "
        "publisher's DID, price (an active offer at most max_price_cents per unit, or a "
        "pricing model), personal or not, and text.",
    )
    def get(self, request):
        filters = parsed(DataSearchInput, request.query_params)
        slug = filters.pop("city", None)
        city = city_selectors.city_get(slug) if slug else None
        datasets = selectors.dataset_search(city=city, **filters)
        page = self.paginate_queryset(datasets)
        return self.get_paginated_response(DataDatasetOutput(page, many=True).data)

    @extend_schema(
        request=DataDatasetInput,
        responses=answers(201, DataDatasetDetailOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_dataset_create",
        description="Publish a dataset's DCAT-AP 3 description, as a provider (its owner), "
        "the municipality (its staff) or a member; signed on the city's chain.",
    )
    def post(self, request):
        data = parsed(DataDatasetInput, request.data)
        city = city_selectors.city_get(data.pop("city"))
        provider = None
        if data.get("provider"):
            provider = Provider.objects.filter(public_id=data.pop("provider")).first()
            if provider is None:
                raise InvalidInput(_("No such provider."))
        data.pop("provider", None)
        college = None
        if data.get("subject_college"):
            college = College.objects.filter(city=city, slug=data.pop("subject_college")).first()
            if college is None:
                raise InvalidInput(_("No such college in this city."))
        data.pop("subject_college", None)
        dataset = services.dataset_create(
            by=request.user,
            city=city,
            publisher_kind=data.pop("publisher_kind"),
            provider=provider,
            is_personal=data.pop("is_personal"),
            subject_college=college,
            subject_dids=data.pop("subject_dids"),
            metadata=services.DatasetMetadata(**data),
        )
        dataset = selectors.dataset_get(public_id=dataset.public_id, user=request.user)
        return Response(
            DataDatasetDetailOutput(dataset, context=_context(request, dataset)).data,
            status=status.HTTP_201_CREATED,
        )


class DatasetDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[PUBLIC_ID],
        responses=answers(200, DataDatasetDetailOutput, 404),
        tags=[TAG],
        operation_id="data_dataset",
        description="A dataset with its versions and distributions (checksums, sizes). Data "
        "itself is reached only under an agreement.",
    )
    def get(self, request, public_id: str):
        dataset = selectors.dataset_get(public_id=public_id, user=request.user)
        return Response(DataDatasetDetailOutput(dataset, context=_context(request, dataset)).data)


class VersionCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataVersionInput,
        responses=answers(201, DataVersionOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_version_create",
        description="Add a version (with a fresh data key) and, optionally, distributions "
        "that stay on your infrastructure (access URLs). Hosted files come by upload.",
    )
    def post(self, request, public_id: str):
        dataset = selectors.dataset_managed(public_id=public_id, user=request.user)
        data = parsed(DataVersionInput, request.data)
        version = services.dataset_version_add(
            by=request.user,
            dataset=dataset,
            label=data["label"],
            notes=data["notes"],
            links=[services.LinkedFile(**link) for link in data["links"]],
        )
        return Response(
            DataVersionOutput(version, context={"manager": True}).data,
            status=status.HTTP_201_CREATED,
        )


class DistributionLinkApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataLinkInput,
        responses=answers(201, DataDistributionOutput, 400, 401, 403, 404),
        tags=[TAG],
        operation_id="data_distribution_link",
        description="Add a distribution kept on your infrastructure: only its URL is stored; "
        "consumers fetch it through the platform, under an agreement.",
    )
    def post(self, request, public_id: str):
        version = selectors.version_managed(public_id=public_id, user=request.user)
        data = parsed(DataLinkInput, request.data)
        distribution = services.distribution_add(
            by=request.user, version=version, file=services.LinkedFile(**data)
        )
        return Response(
            DataDistributionOutput(distribution, context={"manager": True}).data,
            status=status.HTTP_201_CREATED,
        )


class UploadStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataUploadInput,
        responses=answers(201, DataUploadOutput, 400, 401, 403, 404, 413),
        tags=[TAG],
        operation_id="data_upload_start",
        description="Start uploading a hosted file of this version in chunks: declare its "
        "size (and, best, its SHA-256). Then PUT uploads/{id}/chunks/0, 1, 2… and POST "
        "uploads/{id}/complete.",
    )
    def post(self, request, public_id: str):
        version = selectors.version_managed(public_id=public_id, user=request.user)
        data = parsed(DataUploadInput, request.data)
        upload = services.upload_start(by=request.user, version=version, **data)
        return Response(DataUploadOutput(upload).data, status=status.HTTP_201_CREATED)


class UploadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        responses=answers(200, DataUploadOutput, 401, 404),
        tags=[TAG],
        operation_id="data_upload",
        description="An upload's progress: bytes received of bytes expected, next chunk.",
    )
    def get(self, request, public_id: str):
        return Response(
            DataUploadOutput(selectors.upload_get(public_id=public_id, user=request.user)).data
        )

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=None,
        responses=answers(200, DataUploadOutput, 401, 404, 409),
        tags=[TAG],
        operation_id="data_upload_abort",
        description="Abort an open upload: what arrived is deleted.",
    )
    def delete(self, request, public_id: str):
        upload = selectors.upload_get(public_id=public_id, user=request.user)
        return Response(
            DataUploadOutput(services.upload_abort(by=request.user, upload=upload)).data
        )


class OctetStreamParser(BaseParser):
    """A chunk's raw bytes, read up to the chunk limit (never past it)."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = max_chunk_bytes()
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise UploadTooLarge(_("A chunk is at most %(n)s bytes.") % {"n": limit})
        return data


class UploadChunkApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [OctetStreamParser]

    @extend_schema(
        parameters=[PUBLIC_ID, CHUNK_INDEX],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses=answers(200, DataUploadOutput, 400, 401, 404, 409, 413),
        tags=[TAG],
        operation_id="data_upload_chunk",
        description="Send chunk `index` (in order, from 0) as the raw request body; it is "
        "encrypted as it arrives. A chunk already received answers 409.",
    )
    def put(self, request, public_id: str, index: int):
        upload = selectors.upload_get(public_id=public_id, user=request.user)
        data = request.data if isinstance(request.data, bytes) else b""
        upload = services.upload_chunk(by=request.user, upload=upload, index=index, data=data)
        return Response(DataUploadOutput(upload).data)


class UploadCompleteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=None,
        responses=answers(201, DataDistributionOutput, 400, 401, 404, 409),
        tags=[TAG],
        operation_id="data_upload_complete",
        description="Finish an upload: every chunk is authenticated, the size and the "
        "declared SHA-256 are checked (400 wrong_checksum), personal records' subjects are "
        "counted, and the file becomes a distribution, signed on the city's chain.",
    )
    def post(self, request, public_id: str):
        upload = selectors.upload_get(public_id=public_id, user=request.user)
        distribution = services.upload_complete(by=request.user, upload=upload)
        return Response(
            DataDistributionOutput(distribution, context={"manager": True}).data,
            status=status.HTTP_201_CREATED,
        )


class DatasetMappingsApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        parameters=[PUBLIC_ID],
        responses=answers(200, DataMappingOutput(many=True), 404),
        tags=[TAG],
        operation_id="data_dataset_mappings",
        description="Every link of the dataset's fields to ontology terms, with its status.",
    )
    def get(self, request, public_id: str):
        dataset = selectors.dataset_get(public_id=public_id, user=request.user)
        return Response(
            DataMappingOutput(selectors.dataset_mappings(dataset=dataset), many=True).data
        )

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataMappingInput,
        responses=answers(201, DataMappingDetailOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_mapping_propose",
        description="Link one of the dataset's fields to a term of an accepted ontology; the "
        "link waits for the city's curators.",
    )
    def post(self, request, public_id: str):
        dataset = selectors.dataset_managed(public_id=public_id, user=request.user)
        data = parsed(DataMappingInput, request.data)
        ontology = selectors.ontology_get(public_id=data["ontology"])
        term = selectors.term_get(ontology=ontology, iri=data["term"])
        mapping = services.field_mapping_propose(
            by=request.user, dataset=dataset, field_name=data["field_name"], term=term
        )
        mapping = selectors.mapping_get(public_id=mapping.public_id)
        return Response(DataMappingDetailOutput(mapping).data, status=status.HTTP_201_CREATED)


class FirstRendererNegotiation(BaseContentNegotiation):
    """The catalogue files have a fixed type: errors answer JSON whatever `Accept` says."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CatalogueApi(APIView):
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation
    media_type = "text/turtle"

    def render(self, datasets, city) -> str:
        return dcat.catalogue_turtle(datasets, city=city)

    @extend_schema(
        parameters=[DataCatalogueInput],
        responses={
            (200, "text/turtle"): OpenApiResponse(OpenApiTypes.STR, description="DCAT-AP 3"),
            **{(code, "application/json"): ErrorOutput for code in (400, 404)},
        },
        tags=[TAG],
        operation_id="data_catalogue_turtle",
        description="The catalogue (the network's, or one city's) as DCAT-AP 3 in Turtle.",
    )
    def get(self, request):
        filters = parsed(DataCatalogueInput, request.query_params)
        city = city_selectors.city_get(filters["city"]) if filters.get("city") else None
        datasets = selectors.catalogue_datasets(city=city)
        return HttpResponse(
            self.render(datasets, city), content_type=f"{self.media_type}; charset=utf-8"
        )


class CatalogueJsonLdApi(CatalogueApi):
    media_type = "application/ld+json"

    def render(self, datasets, city) -> str:
        return dcat.catalogue_jsonld(datasets, city=city)

    @extend_schema(
        parameters=[DataCatalogueInput],
        responses={
            (200, "application/ld+json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="DCAT-AP 3"
            ),
            **{(code, "application/json"): ErrorOutput for code in (400, 404)},
        },
        tags=[TAG],
        operation_id="data_catalogue_jsonld",
        description="The catalogue (the network's, or one city's) as DCAT-AP 3 in JSON-LD.",
    )
    def get(self, request):
        return super().get(request)


# --- ontologies and curation -----------------------------------------------------------------


class OntologyCollectionApi(GenericAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = Pagination
    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(
        parameters=[DataOntologyFilterInput],
        responses=answers(200, DataOntologyOutput(many=True), 400, 404),
        tags=[TAG],
        operation_id="data_ontologies",
        description="The ontology registry (public): pending, accepted and refused ontologies.",
    )
    def get(self, request):
        filters = parsed(DataOntologyFilterInput, request.query_params)
        city = city_selectors.city_get(filters["city"]) if filters.get("city") else None
        ontologies = selectors.ontology_list(city=city, status=filters.get("status"))
        page = self.paginate_queryset(ontologies)
        return self.get_paginated_response(DataOntologyOutput(page, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": DataOntologyInput,
            "application/json": DataOntologyInput,
        },
        responses=answers(201, DataOntologyDetailOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_ontology_submit",
        description="Submit an ontology (Turtle, OWL or JSON Schema; a file or its text) to a "
        "city's registry: its classes and properties are listed, and it waits for the "
        "curators.",
    )
    def post(self, request):
        data = parsed(DataOntologyInput, request.data)
        city = city_selectors.city_get(data["city"])
        ontology = services.ontology_submit(
            by=request.user,
            city=city,
            name=data["name"],
            namespace=data["namespace"],
            version=data["version"],
            format=data["format"],
            source=ontology_source(data),
        )
        ontology = selectors.ontology_get(public_id=ontology.public_id)
        return Response(DataOntologyDetailOutput(ontology).data, status=status.HTTP_201_CREATED)


class OntologyDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[PUBLIC_ID],
        responses=answers(200, DataOntologyDetailOutput, 404),
        tags=[TAG],
        operation_id="data_ontology",
        description="An ontology with its classes and properties and its curators' decisions.",
    )
    def get(self, request, public_id: str):
        return Response(DataOntologyDetailOutput(selectors.ontology_get(public_id=public_id)).data)


class OntologyCurationApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataCurationInput,
        responses=answers(201, DataCurationOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_ontology_curate",
        description="A curator of the city accepts or refuses (saying why) a pending ontology.",
    )
    def post(self, request, public_id: str):
        ontology = selectors.ontology_get(public_id=public_id)
        data = parsed(DataCurationInput, request.data)
        curation = services.curation_record(by=request.user, ontology=ontology, **data)
        return Response(DataCurationOutput(curation).data, status=status.HTTP_201_CREATED)


class MappingDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[PUBLIC_ID],
        responses=answers(200, DataMappingDetailOutput, 404),
        tags=[TAG],
        operation_id="data_mapping",
    )
    def get(self, request, public_id: str):
        return Response(DataMappingDetailOutput(selectors.mapping_get(public_id=public_id)).data)


class MappingCurationApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PUBLIC_ID],
        request=DataCurationInput,
        responses=answers(201, DataCurationOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_mapping_curate",
        description="A curator of the city accepts or refuses (saying why) a pending link of "
        "a dataset's field to an ontology term.",
    )
    def post(self, request, public_id: str):
        mapping = selectors.mapping_get(public_id=public_id)
        data = parsed(DataCurationInput, request.data)
        curation = services.curation_record(by=request.user, mapping=mapping, **data)
        return Response(DataCurationOutput(curation).data, status=status.HTTP_201_CREATED)


class CurationQueueApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[CITY_SLUG],
        responses=answers(200, DataCurationQueueOutput, 404),
        tags=[TAG],
        operation_id="data_curation_queue",
        description="What waits for the city's curators: pending ontologies and field links.",
    )
    def get(self, request, slug: str):
        city = city_selectors.city_get(slug)
        return Response(DataCurationQueueOutput(selectors.curation_queue(city=city)).data)


class CuratorsCollegeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[CITY_SLUG],
        request=None,
        responses=answers(201, DataCollegeOutput, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="data_curators_college_open",
        description="The municipality staff open the city's curators college (kind other, "
        "slug curators); members join it like any college.",
    )
    def post(self, request, slug: str):
        city = city_selectors.city_get(slug)
        college = services.curators_college_open(by=request.user, city=city)
        return Response(DataCollegeOutput(college).data, status=status.HTTP_201_CREATED)


# --- routes ----------------------------------------------------------------------------------


def _routes(route: str, view, name: str) -> list:
    """`route` as the schema shows it, and the same route with or without its trailing
    slash, hidden from the schema."""
    alias = route[:-1] if route.endswith("/") else f"{route}/"
    hidden = extend_schema(exclude=True)(type(f"{view.__name__}Alias", (view,), {}))
    return [path(route, view.as_view(), name=name), path(alias, hidden.as_view())]


DATASET = "datasets/<str:public_id>"
UPLOAD = "uploads/<str:public_id>"

urlpatterns = [
    path("catalogue.ttl", CatalogueApi.as_view(), name="catalogue_turtle"),
    path("catalogue.jsonld", CatalogueJsonLdApi.as_view(), name="catalogue_jsonld"),
    *_routes("datasets/", DatasetCollectionApi, "datasets"),
    *_routes(f"{DATASET}/", DatasetDetailApi, "dataset"),
    *_routes(f"{DATASET}/versions", VersionCreateApi, "version_create"),
    *_routes(f"{DATASET}/mappings", DatasetMappingsApi, "dataset_mappings"),
    *_routes("versions/<str:public_id>/distributions", DistributionLinkApi, "distribution_link"),
    *_routes("versions/<str:public_id>/uploads", UploadStartApi, "upload_start"),
    *_routes(f"{UPLOAD}/", UploadApi, "upload"),
    *_routes(f"{UPLOAD}/chunks/<int:index>", UploadChunkApi, "upload_chunk"),
    *_routes(f"{UPLOAD}/complete", UploadCompleteApi, "upload_complete"),
    *_routes("ontologies/", OntologyCollectionApi, "ontologies"),
    *_routes("ontologies/<str:public_id>/", OntologyDetailApi, "ontology"),
    *_routes("ontologies/<str:public_id>/curations", OntologyCurationApi, "ontology_curate"),
    *_routes("mappings/<str:public_id>/", MappingDetailApi, "mapping"),
    *_routes("mappings/<str:public_id>/curations", MappingCurationApi, "mapping_curate"),
    *_routes("cities/<slug:slug>/curation-queue", CurationQueueApi, "curation_queue"),
    *_routes("cities/<slug:slug>/curators-college", CuratorsCollegeApi, "curators_college"),
]

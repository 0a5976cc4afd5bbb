"""The data marketplace's tables (issue 5), for the whole issue.

Catalogue
    `Dataset` carries the DCAT-AP 3 metadata (themes and keywords in `DatasetTheme` /
    `DatasetKeyword`, so search filters are plain joins on SQLite and PostgreSQL alike), its
    owner city and its publisher: a `Provider`, the city's municipality, or a member.
    `DatasetVersion` holds the per-version data key (AES-256-GCM, 32 random bytes) wrapped by the
    data key-encryption key from the environment (`SMARTB_DATA_KEK`, separate from identity's).
    `Distribution` is one file of a version: either an `access_url` on the producer's own
    infrastructure (fetched through the platform only under an agreement) or a hosted file
    stored encrypted at `storage_path` under the data root, in the chunk layout of
    `marketplace.data.crypto` (one GCM nonce and tag per chunk, the distribution and chunk index
    bound as associated data). `DataUpload` is a chunked upload in progress.

Personal data
    A personal dataset (`is_personal`) names its data subjects: residents by DID in
    `DataSubject` (declared by the producer, or found in the records), and/or a college
    (`subject_college`) whose members it concerns. Hosted personal files are CSV or JSON Lines
    whose every record carries the subject's DID in a `subject` column/field
    (`Distribution.subject_field`); on upload the platform counts each subject's records into
    `DistributionSubject`, and deliveries drop the records of refused or revoked subjects by
    that column. The files themselves hold the DIDs only encrypted.

Ontologies and curators
    `Ontology` (a Turtle, OWL or JSON Schema file, stored in the database with its SHA-256),
    its `OntologyTerm`s (classes and properties), `FieldMapping` (a dataset field linked to a
    term) and `Curation` (one curator's decision on an ontology or a mapping; the accepted
    ones earn a reward through an app-store bounty `marketplace.Task`).

Contracts (part 2)
    `Offer` (an ODRL 2.2 policy and a pricing model in integer cents), `Quote` (inputs and
    total, kept with the agreement), `Agreement` (both parties' signed ledger entries, status,
    period, limits and usage counters), `Delivery` (a delivery receipt: range, bytes, records,
    SHA-256 of what was sent, the consumer's acknowledgement), `Provenance` (a derived dataset
    fed by agreements).

Consent (part 2)
    `Consent` is the consent request and its answer in one row (agreement × data subject:
    requested → given / refused, given → revoked), with the Kantara / ISO/IEC 27560 receipt
    JSON, its digest and the resident's signed ledger entry. `PurgeRequest` asks a consumer
    holding a copy to delete it, retried until acknowledged.

Billing (part 2)
    `UsageRecord` (metered usage per agreement), `Invoice` with `InvoiceLine`s and its
    `RevenueShare`s (producer, data owners, treasury, operator), `PrepaidBalance` (never
    negative: a database constraint) with its `BalanceMovement`s, and `Payment` (prepaid or
    SEPA credit transfer: the pain.001 file's digest; the IBAN stays in this table, never on
    the ledger). `CreditorAccount`: the city's own account its data invoices are paid into
    (set by its staff; the ledger gets its salted digest and the IBAN's last 4 characters).

The ledger holds public ids, DIDs, integers and SHA-256 digests; every text (titles,
descriptions, reasons, URLs, contacts, IBANs) stays here. Money is integer cents.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id

__all__ = [
    "Agreement",
    "AgreementStatus",
    "BalanceMovement",
    "Consent",
    "ConsentStatus",
    "Curation",
    "CurationDecision",
    "DataSubject",
    "DataUpload",
    "Dataset",
    "DatasetKeyword",
    "DatasetStatus",
    "DatasetTheme",
    "DatasetVersion",
    "Delivery",
    "DeliveryFigures",
    "Distribution",
    "DistributionKind",
    "DistributionSubject",
    "FieldMapping",
    "Frequency",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Offer",
    "OfferStatus",
    "Ontology",
    "OntologyFormat",
    "OntologyTerm",
    "PaymentKind",
    "Payment",
    "PaymentStatus",
    "PrepaidBalance",
    "PricingModel",
    "Provenance",
    "PublisherKind",
    "PurgeRequest",
    "PurgeStatus",
    "Quote",
    "RevenueShare",
    "RevenueShareKind",
    "ReviewStatus",
    "SubjectSource",
    "TermKind",
    "Theme",
    "UploadStatus",
    "UsageKind",
    "UsageRecord",
]

SHA256_LENGTH = 64
URI_LENGTH = 500

# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------


class Theme(models.TextChoices):
    """The EU data themes vocabulary (http://publications.europa.eu/resource/authority/data-theme)."""

    AGRI = "AGRI", _("agriculture, fisheries, forestry and food")
    ECON = "ECON", _("economy and finance")
    EDUC = "EDUC", _("education, culture and sport")
    ENER = "ENER", _("energy")
    ENVI = "ENVI", _("environment")
    GOVE = "GOVE", _("government and public sector")
    HEAL = "HEAL", _("health")
    INTR = "INTR", _("international issues")
    JUST = "JUST", _("justice, legal system and public safety")
    REGI = "REGI", _("regions and cities")
    SOCI = "SOCI", _("population and society")
    TECH = "TECH", _("science and technology")
    TRAN = "TRAN", _("transport")


class Frequency(models.TextChoices):
    """The EU frequency vocabulary (http://publications.europa.eu/resource/authority/frequency)."""

    CONT = "CONT", _("continuous")
    UPDATE_CONT = "UPDATE_CONT", _("continuously updated")
    HOURLY = "HOURLY", _("hourly")
    DAILY = "DAILY", _("daily")
    WEEKLY = "WEEKLY", _("weekly")
    BIWEEKLY = "BIWEEKLY", _("every two weeks")
    MONTHLY = "MONTHLY", _("monthly")
    QUARTERLY = "QUARTERLY", _("quarterly")
    ANNUAL_2 = "ANNUAL_2", _("semiannual")
    ANNUAL = "ANNUAL", _("annual")
    IRREG = "IRREG", _("irregular")
    NEVER = "NEVER", _("never")
    UNKNOWN = "UNKNOWN", _("unknown")


class PublisherKind(models.TextChoices):
    PROVIDER = "provider", _("a provider")
    MUNICIPALITY = "municipality", _("the municipality")
    MEMBER = "member", _("a member")


class DatasetStatus(models.TextChoices):
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Dataset(models.Model):
    """A dataset of a city's catalogue, described with DCAT-AP 3 (dcat:Dataset).

    Publisher: `publisher_provider` for a provider, `publisher_membership` for a member, neither
    for the city's municipality (a constraint keeps `publisher_kind` consistent). The signer of
    its transactions is `publisher_identity` (the provider's, the member's or the city's DID).
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="datasets")
    publisher_kind = models.CharField(max_length=16, choices=PublisherKind.choices)
    publisher_provider = models.ForeignKey(
        "marketplace.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
    )
    publisher_membership = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
    )
    publisher_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="datasets"
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), max_length=20000)
    licence = models.URLField(_("licence (URI)"), max_length=URI_LENGTH)
    landing_page = models.URLField(_("landing page"), max_length=URI_LENGTH, blank=True)
    temporal_start = models.DateField(_("temporal coverage: start"), null=True, blank=True)
    temporal_end = models.DateField(_("temporal coverage: end"), null=True, blank=True)
    # Spatial coverage: a URI (e.g. an INSEE commune or a GeoNames feature) and/or a geometry
    # (WKT); neither means the city itself.
    spatial_uri = models.URLField(_("spatial coverage (URI)"), max_length=URI_LENGTH, blank=True)
    spatial_geometry = models.TextField(_("spatial coverage (WKT)"), max_length=20000, blank=True)
    frequency = models.CharField(
        _("update frequency"), max_length=16, choices=Frequency.choices, default=Frequency.UNKNOWN
    )
    contact_name = models.CharField(_("contact point: name"), max_length=200)
    contact_email = models.EmailField(_("contact point: e-mail"), max_length=254)
    is_personal = models.BooleanField(_("personal data"), default=False)
    subject_college = models.ForeignKey(
        "governance.College",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The college whose members the personal data concerns."),
    )
    status = models.CharField(
        max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.PUBLISHED
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        publisher_kind="provider",
                        publisher_provider__isnull=False,
                        publisher_membership__isnull=True,
                    )
                    | Q(
                        publisher_kind="member",
                        publisher_provider__isnull=True,
                        publisher_membership__isnull=False,
                    )
                    | Q(
                        publisher_kind="municipality",
                        publisher_provider__isnull=True,
                        publisher_membership__isnull=True,
                    )
                ),
                name="dataset_publisher_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(temporal_start__isnull=True)
                | Q(temporal_end__isnull=True)
                | Q(temporal_end__gte=F("temporal_start")),
                name="dataset_temporal_ordered",
            ),
            models.CheckConstraint(
                condition=Q(is_personal=True) | Q(subject_college__isnull=True),
                name="dataset_subject_college_if_personal",
            ),
        ]
        indexes = [
            models.Index(fields=["city", "status", "-created_at"]),
            models.Index(fields=["status", "is_personal"]),
        ]

    def __str__(self) -> str:
        return self.title


class DatasetTheme(models.Model):
    """One EU data theme of a dataset (dcat:theme)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="themes")
    code = models.CharField(max_length=8, choices=Theme.choices)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "code"], name="dataset_theme_once"),
        ]
        indexes = [models.Index(fields=["code", "dataset"])]

    def __str__(self) -> str:
        return self.code


class DatasetKeyword(models.Model):
    """One keyword of a dataset (dcat:keyword), stored as typed and in lower case for search."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="keywords")
    keyword = models.CharField(max_length=100)
    normalized = models.CharField(max_length=100)

    class Meta:
        ordering = ["keyword"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "normalized"], name="dataset_keyword_once"),
        ]
        indexes = [models.Index(fields=["normalized", "dataset"])]

    def __str__(self) -> str:
        return self.keyword


class SubjectSource(models.TextChoices):
    DECLARED = "declared", _("declared by the producer")
    RECORDS = "records", _("found in the records")


class DataSubject(models.Model):
    """A resident whose personal data a dataset holds, by DID (and their membership when the
    producer named one). The platform's answer to "which datasets hold my data"."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="subjects")
    identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="data_subject_of"
    )
    membership = models.ForeignKey(
        "governance.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, choices=SubjectSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "identity"], name="data_subject_once"),
        ]
        indexes = [models.Index(fields=["identity", "dataset"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.identity_id}"


class DatasetVersion(models.Model):
    """A version of a dataset, with its own data key.

    `wrapped_key` is the version's 32-byte AES-256-GCM data key sealed by the data
    key-encryption key (see `marketplace.data.crypto.key_wrap`); `kek_id` names which KEK
    (the first 16 hex digits of its SHA-256) so a rotation can re-wrap.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    label = models.CharField(_("version"), max_length=32)
    notes = models.TextField(_("what changed"), max_length=5000, blank=True)
    wrapped_key = models.BinaryField(editable=False)
    kek_id = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "number"], name="dataset_version_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.label}"


class DistributionKind(models.TextChoices):
    HOSTED = "hosted", _("hosted on the platform, encrypted")
    ACCESS_URL = "access_url", _("on the producer's infrastructure")


class Distribution(models.Model):
    """One file of a dataset version (dcat:Distribution).

    Hosted: `storage_path` (relative to the data root) holds the ciphertext in the chunk layout
    `chunk_layout` (see `marketplace.data.crypto`), `chunk_count` chunks of plaintext at most
    `chunk_size` bytes each; `byte_size` and `sha256` describe the plaintext. Access URL: only
    the URL is stored (and the size and checksum the producer declared, if any).
    For a personal dataset, hosted records carry their subject's DID in `subject_field`.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="distributions"
    )
    kind = models.CharField(max_length=16, choices=DistributionKind.choices)
    title = models.CharField(_("title"), max_length=300, blank=True)
    format = models.CharField(_("format"), max_length=32)  # EU file-type code, e.g. CSV
    media_type = models.CharField(_("media type"), max_length=100)
    byte_size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=SHA256_LENGTH, blank=True)
    access_url = models.URLField(_("access URL"), max_length=URI_LENGTH, blank=True)
    storage_path = models.CharField(max_length=300, blank=True)
    chunk_layout = models.CharField(max_length=16, blank=True)
    chunk_size = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(null=True, blank=True)
    stored_bytes = models.BigIntegerField(null=True, blank=True)
    subject_field = models.CharField(max_length=64, blank=True)
    record_count = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="hosted",
                        access_url="",
                        byte_size__isnull=False,
                        chunk_count__isnull=False,
                    )
                    & ~Q(storage_path="")
                    & ~Q(sha256="")
                    & ~Q(chunk_layout="")
                )
                | (Q(kind="access_url", storage_path="") & ~Q(access_url="")),
                name="distribution_hosted_xor_access_url",
            ),
            models.CheckConstraint(
                condition=Q(byte_size__isnull=True) | Q(byte_size__gte=0),
                name="distribution_size_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_id}:{self.format}"


class DistributionSubject(models.Model):
    """How many records of a hosted personal distribution belong to one subject (by DID)."""

    distribution = models.ForeignKey(
        Distribution, on_delete=models.CASCADE, related_name="subjects"
    )
    did = models.CharField(max_length=200)
    records = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["distribution", "did"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "did"], name="distribution_subject_once"
            ),
        ]
        indexes = [models.Index(fields=["did"])]

    def __str__(self) -> str:
        return f"{self.distribution_id}:{self.did}"


class UploadStatus(models.TextChoices):
    OPEN = "open", _("receiving chunks")
    COMPLETE = "complete", _("complete")
    ABORTED = "aborted", _("aborted")


class DataUpload(models.Model):
    """A hosted file arriving in numbered chunks (0, 1, 2…), each encrypted as it arrives
    into `storage_path`; completing it checks the size and the checksum and makes the
    `distribution`."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=300, blank=True)
    format = models.CharField(max_length=32)
    media_type = models.CharField(max_length=100)
    expected_bytes = models.BigIntegerField()
    expected_sha256 = models.CharField(max_length=SHA256_LENGTH, blank=True)
    received_bytes = models.BigIntegerField(default=0)
    next_chunk = models.PositiveIntegerField(default=0)
    storage_path = models.CharField(max_length=300)
    status = models.CharField(
        max_length=16, choices=UploadStatus.choices, default=UploadStatus.OPEN
    )
    distribution = models.OneToOneField(
        Distribution, null=True, blank=True, on_delete=models.PROTECT, related_name="upload"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_bytes__gte=0)
                & Q(received_bytes__gte=0)
                & Q(received_bytes__lte=F("expected_bytes")),
                name="upload_received_within_expected",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


# ---------------------------------------------------------------------------------------------
# Ontologies and curators
# ---------------------------------------------------------------------------------------------


class OntologyFormat(models.TextChoices):
    TURTLE = "turtle", _("Turtle")
    OWL = "owl", _("OWL (RDF/XML)")
    JSON_SCHEMA = "json-schema", _("JSON Schema")


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("waiting for curators")
    ACCEPTED = "accepted", _("accepted")
    REFUSED = "refused", _("refused")


class Ontology(models.Model):
    """A vocabulary submitted to a city's registry; curators of the city accept or refuse it.
    Accepted ontologies are visible to the whole network."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="ontologies")
    name = models.CharField(_("name"), max_length=200)
    namespace = models.URLField(_("namespace IRI"), max_length=URI_LENGTH)
    version = models.CharField(_("version"), max_length=32)
    format = models.CharField(_("format"), max_length=16, choices=OntologyFormat.choices)
    source = models.TextField(editable=False)  # the uploaded file, as text
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reason = models.TextField(_("reason for the refusal"), max_length=5000, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitter_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    decision_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name_plural = "ontologies"
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "version"],
                condition=Q(status__in=["pending", "accepted"]),
                name="ontology_live_namespace_version_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused", reason=""), name="ontology_refusal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["status", "city"])]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class TermKind(models.TextChoices):
    CLASS = "class", _("class")
    PROPERTY = "property", _("property")
    OBJECT_PROPERTY = "object_property", _("object property")
    DATATYPE_PROPERTY = "datatype_property", _("datatype property")


class OntologyTerm(models.Model):
    """A class or a property listed from an ontology's file."""

    ontology = models.ForeignKey(Ontology, on_delete=models.CASCADE, related_name="terms")
    kind = models.CharField(max_length=24, choices=TermKind.choices)
    iri = models.CharField(max_length=URI_LENGTH)
    label = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ontology", "kind", "iri"]
        constraints = [
            models.UniqueConstraint(fields=["ontology", "iri"], name="ontology_term_once"),
        ]
        indexes = [models.Index(fields=["iri"])]

    def __str__(self) -> str:
        return self.iri


class FieldMapping(models.Model):
    """A producer's link of one field of a dataset to an ontology term, curated like an
    ontology."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="field_mappings")
    field_name = models.CharField(_("field"), max_length=200)
    term = models.ForeignKey(OntologyTerm, on_delete=models.PROTECT, related_name="mappings")
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reason = models.TextField(_("reason for the refusal"), max_length=5000, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    decision_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "field_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "field_name", "term"],
                condition=Q(status__in=["pending", "accepted"]),
                name="field_mapping_live_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused", reason=""), name="field_mapping_refusal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["term", "status"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}.{self.field_name} -> {self.term_id}"


class CurationDecision(models.TextChoices):
    ACCEPT = "accept", _("accept")
    REFUSE = "refuse", _("refuse")


class Curation(models.Model):
    """One curator's decision on an ontology or on a field mapping (exactly one of them).

    Once the object is decided, each curator who decided like the outcome earns
    `reward_cents` through a bounty (`task`, a marketplace.Task paid by the city: completed,
    then owed or paid by the city's staff)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    curator = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="curations"
    )
    ontology = models.ForeignKey(
        Ontology, null=True, blank=True, on_delete=models.PROTECT, related_name="curations"
    )
    mapping = models.ForeignKey(
        FieldMapping, null=True, blank=True, on_delete=models.PROTECT, related_name="curations"
    )
    decision = models.CharField(max_length=8, choices=CurationDecision.choices)
    reason = models.TextField(_("reason"), max_length=5000, blank=True)
    reward_cents = models.BigIntegerField(default=0)
    task = models.OneToOneField(
        "marketplace.Task", null=True, blank=True, on_delete=models.PROTECT, related_name="curation"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ontology__isnull=False, mapping__isnull=True)
                | Q(ontology__isnull=True, mapping__isnull=False),
                name="curation_one_object",
            ),
            models.CheckConstraint(
                condition=~Q(decision="refuse", reason=""), name="curation_refusal_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(reward_cents__gte=0), name="curation_reward_nonnegative"
            ),
            models.UniqueConstraint(
                fields=["curator", "ontology"],
                condition=Q(ontology__isnull=False),
                name="curation_once_per_ontology",
            ),
            models.UniqueConstraint(
                fields=["curator", "mapping"],
                condition=Q(mapping__isnull=False),
                name="curation_once_per_mapping",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.curator_id}:{self.decision}"


# ---------------------------------------------------------------------------------------------
# Usage contracts (part 2)
# ---------------------------------------------------------------------------------------------


class PricingModel(models.TextChoices):
    FREE = "free", _("free")
    PER_REQUEST = "per_request", _("per request")
    PER_RECORD = "per_record", _("per record")
    PER_MB = "per_mb", _("per MB")
    SUBSCRIPTION = "subscription", _("subscription")


class OfferStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Offer(models.Model):
    """A producer's offer on a dataset: an ODRL 2.2 policy (odrl:Offer, JSON-LD) and its price.

    `unit_price_cents` is the price per request, per record, per MB (10^6 bytes) or per
    subscription period (`subscription_days`); free offers cost 0. `transformation` names the
    app-store service version that transforms the data in the chain, if any, whose fee the
    quote adds. Limits left empty are unlimited."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="offers")
    producer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_offers"
    )
    producer_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    policy = models.JSONField(_("ODRL policy"))
    policy_digest = models.CharField(max_length=SHA256_LENGTH)
    pricing_model = models.CharField(max_length=16, choices=PricingModel.choices)
    unit_price_cents = models.BigIntegerField(default=0)
    subscription_days = models.PositiveIntegerField(null=True, blank=True)
    transformation = models.ForeignKey(
        "marketplace.ServiceVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_offers",
    )
    transformation_fee_cents = models.BigIntegerField(default=0)
    duration_days = models.PositiveIntegerField(null=True, blank=True)
    max_requests = models.PositiveBigIntegerField(null=True, blank=True)
    max_records = models.PositiveBigIntegerField(null=True, blank=True)
    max_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    purposes = models.JSONField(_("purposes"), default=list)  # ODRL purpose constraint values
    status = models.CharField(
        max_length=16, choices=OfferStatus.choices, default=OfferStatus.ACTIVE
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price_cents__gte=0, transformation_fee_cents__gte=0),
                name="offer_prices_nonnegative",
            ),
            models.CheckConstraint(
                condition=~Q(pricing_model="free") | Q(unit_price_cents=0),
                name="offer_free_costs_nothing",
            ),
            models.CheckConstraint(
                condition=~Q(pricing_model="subscription") | Q(subscription_days__gte=1),
                name="offer_subscription_has_period",
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "status"]),
            models.Index(fields=["status", "unit_price_cents"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.pricing_model}"


class Quote(models.Model):
    """A price computed before signing: its inputs (volume, source, transformation chain),
    lines and total in cents; kept with the agreement it led to."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="quotes")
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_quotes"
    )
    inputs = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    total_cents = models.BigIntegerField()
    digest = models.CharField(max_length=SHA256_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total_cents__gte=0), name="quote_total_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.total_cents}"


class AgreementStatus(models.TextChoices):
    PENDING_CONSENT = "pending_consent", _("waiting for consents")
    ACTIVE = "active", _("active")
    EXPIRED = "expired", _("expired")
    REVOKED = "revoked", _("revoked")


class Agreement(models.Model):
    """An accepted offer (odrl:Agreement), signed by the consumer and the producer (their
    ledger entries), with its period, limits and usage counters. Access is checked against
    this row on every request."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="agreements")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="agreements")
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_agreements"
    )
    consumer_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    consumer_provider = models.ForeignKey(
        "marketplace.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    producer_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    quote = models.OneToOneField(
        Quote, null=True, blank=True, on_delete=models.PROTECT, related_name="agreement"
    )
    policy = models.JSONField(_("ODRL agreement"))
    policy_digest = models.CharField(max_length=SHA256_LENGTH)
    purposes = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.PENDING_CONSENT
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    max_requests = models.PositiveBigIntegerField(null=True, blank=True)
    max_records = models.PositiveBigIntegerField(null=True, blank=True)
    max_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    requests_used = models.PositiveBigIntegerField(default=0)
    records_used = models.PositiveBigIntegerField(default=0)
    bytes_used = models.PositiveBigIntegerField(default=0)
    last_access_at = models.DateTimeField(null=True, blank=True)
    consumer_entry = models.ForeignKey(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+"
    )
    producer_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="agreement_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_requests__isnull=True) | Q(requests_used__lte=F("max_requests")),
                name="agreement_requests_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(max_records__isnull=True) | Q(records_used__lte=F("max_records")),
                name="agreement_records_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(max_bytes__isnull=True) | Q(bytes_used__lte=F("max_bytes")),
                name="agreement_bytes_within_limit",
            ),
        ]
        indexes = [
            models.Index(fields=["consumer", "status"]),
            models.Index(fields=["dataset", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


class Delivery(models.Model):
    """A delivery receipt: what one data request sent under an agreement (the range of
    records, bytes and records, SHA-256 of the bytes sent), on the ledger; the consumer may
    acknowledge it with a signature (its own ledger entry)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="deliveries")
    distribution = models.ForeignKey(
        Distribution, on_delete=models.PROTECT, related_name="deliveries"
    )
    range_start = models.PositiveBigIntegerField(default=0)
    range_end = models.PositiveBigIntegerField(null=True, blank=True)
    bytes_sent = models.PositiveBigIntegerField(default=0)
    records_sent = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_signature = models.CharField(max_length=200, blank=True)
    ack_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(range_end__isnull=True) | Q(range_end__gte=F("range_start")),
                name="delivery_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["agreement", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.agreement_id}:{self.sha256[:12]}"


class DeliveryFigures(models.Model):
    """What one selection of a hosted file delivers (bytes, records, SHA-256 of exactly those
    bytes), measured once and kept, so a delivery's receipt is written before any byte leaves
    with the file read only once, to stream it.

    `variant` is the SHA-256 of what the delivered bytes depend on: the file's plaintext
    digest and storage path (a rewrite, e.g. an erasure, makes a new variant), the set of
    subjects whose records are kept (None: every record) and the range of records. A file
    sent whole, unchanged, needs no row: its figures are the distribution's own.
    """

    distribution = models.ForeignKey(
        Distribution, on_delete=models.CASCADE, related_name="delivery_figures"
    )
    variant = models.CharField(max_length=SHA256_LENGTH)
    bytes = models.PositiveBigIntegerField()
    records = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["distribution", "pk"]
        verbose_name_plural = "delivery figures"
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "variant"], name="delivery_figures_once_per_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.distribution_id}:{self.variant[:12]}"


class Provenance(models.Model):
    """A derived dataset (cleaned, aggregated…) and one agreement that fed it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="provenance")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="derived")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "agreement"], name="provenance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}<-{self.agreement_id}"


# ---------------------------------------------------------------------------------------------
# Consent (part 2)
# ---------------------------------------------------------------------------------------------


class ConsentStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    GIVEN = "given", _("given")
    REFUSED = "refused", _("refused")
    REVOKED = "revoked", _("revoked")


class Consent(models.Model):
    """A consent request to one data subject of an agreement on personal data, and their
    answer: requested → given or refused; given → revoked. `receipt` holds the Kantara
    Consent Receipt / ISO/IEC 27560 fields; `receipt_digest` (SHA-256 of its canonical JSON)
    is what the resident's DID signs on the ledger."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="consents")
    subject = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="data_consents"
    )
    status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.REQUESTED
    )
    receipt = models.JSONField(default=dict)
    receipt_digest = models.CharField(max_length=SHA256_LENGTH, blank=True)
    request_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "subject"], name="consent_once"),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_at__isnull=False),
                name="consent_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False),
                name="consent_revoked_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "status"]),
            models.Index(fields=["agreement", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id}:{self.subject_id} {self.status}"


class PurgeStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent, waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")


class PurgeRequest(models.Model):
    """A request to a consumer holding a copy to delete a revoked subject's records (or all
    of an agreement's data), retried until the consumer acknowledges it with a signature."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="purges")
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="purges"
    )
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purge_requests"
    )
    status = models.CharField(
        max_length=16, choices=PurgeStatus.choices, default=PurgeStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_signature = models.CharField(max_length=200, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    ack_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="acknowledged") | Q(acknowledged_at__isnull=False),
                name="purge_acknowledged_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "last_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


# ---------------------------------------------------------------------------------------------
# Billing (part 2)
# ---------------------------------------------------------------------------------------------


class UsageKind(models.TextChoices):
    REQUEST = "request", _("request")
    RECORDS = "records", _("records")
    BYTES = "bytes", _("bytes")
    SUBSCRIPTION = "subscription", _("subscription period")
    TRANSFORMATION = "transformation", _("transformation service")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    ISSUED = "issued", _("issued")
    PAID = "paid", _("paid")
    VOID = "void", _("void")


class Invoice(models.Model):
    """Billed usage of one agreement over a period (or up to a threshold), in cents."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="invoices")
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_invoices"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    threshold_cents = models.BigIntegerField(null=True, blank=True)
    total_cents = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cents__gte=0), name="invoice_total_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(threshold_cents__isnull=True) | Q(threshold_cents__gt=0),
                name="invoice_threshold_positive",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="invoice_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["agreement", "status"])]

    def __str__(self) -> str:
        return f"{self.public_id} {self.total_cents}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    quantity = models.PositiveBigIntegerField()
    unit_price_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price_cents__gte=0, amount_cents__gte=0),
                name="invoice_line_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}:{self.kind} {self.amount_cents}"


class UsageRecord(models.Model):
    """Metered usage of an agreement (one per delivery, subscription period…), billed once:
    `invoice` is set when an invoice takes it."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="usage")
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.PROTECT, related_name="usage"
    )
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    quantity = models.PositiveBigIntegerField()
    amount_cents = models.BigIntegerField()
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="usage"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="usage_amount_nonnegative"
            ),
        ]
        indexes = [models.Index(fields=["agreement", "invoice"])]

    def __str__(self) -> str:
        return f"{self.agreement_id}:{self.kind} {self.quantity}"


class RevenueShareKind(models.TextChoices):
    PRODUCER = "producer", _("producer")
    DATA_OWNERS = "data_owners", _("data owners")
    TREASURY = "treasury", _("city treasury")
    OPERATOR = "operator", _("operator")


class RevenueShare(models.Model):
    """One beneficiary's part of a paid invoice, split by the city's rules; the shares of an
    invoice sum to its total (the billing service checks it, nothing lost to rounding)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="shares")
    kind = models.CharField(max_length=16, choices=RevenueShareKind.choices)
    beneficiary_did = models.CharField(max_length=200, blank=True)
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ["invoice", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="revenue_share_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}:{self.kind} {self.amount_cents}"


class PrepaidBalance(models.Model):
    """A consumer's prepaid tokens in a city, in cents; debited atomically, never negative."""

    city = models.ForeignKey(
        "governance.City", on_delete=models.PROTECT, related_name="prepaid_balances"
    )
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prepaid_balances"
    )
    cents = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city", "consumer"]
        constraints = [
            models.UniqueConstraint(fields=["city", "consumer"], name="prepaid_balance_once"),
            models.CheckConstraint(condition=Q(cents__gte=0), name="prepaid_balance_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer_id}@{self.city_id}: {self.cents}"


class PaymentKind(models.TextChoices):
    PREPAID = "prepaid", _("prepaid tokens")
    SEPA = "sepa", _("SEPA credit transfer")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SETTLED = "settled", _("settled")
    FAILED = "failed", _("failed")


class Payment(models.Model):
    """The settlement of an invoice: prepaid (debiting the balance) or a SEPA credit transfer
    (an ISO 20022 pain.001.001.09 file: its digest on the ledger, the IBAN only here)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=16, choices=PaymentKind.choices)
    amount_cents = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    pain001 = models.TextField(blank=True)
    pain001_digest = models.CharField(max_length=SHA256_LENGTH, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="prepaid", iban="") | (Q(kind="sepa") & ~Q(iban="")),
                name="payment_sepa_has_iban",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.amount_cents}"


class BalanceMovement(models.Model):
    """A top-up (positive) or a debit (negative) of a prepaid balance, in cents."""

    balance = models.ForeignKey(PrepaidBalance, on_delete=models.PROTECT, related_name="movements")
    amount_cents = models.BigIntegerField()
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="movement"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="balance_movement_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.balance_id}: {self.amount_cents}"


class CreditorAccount(models.Model):
    """The bank account a city's data invoices are paid into by SEPA credit transfer (the
    creditor of every pain.001 file of the city), set by its municipality staff. One per city;
    a change replaces it, each change signed on the city's ledger with `digest` (SHA-256 of
    the canonical account and its random `salt`, so a low-entropy IBAN cannot be guessed back
    from the ledger) and the IBAN's last 4 characters: the holder, IBAN and BIC stay here."""

    city = models.OneToOneField(
        "governance.City", on_delete=models.PROTECT, related_name="data_creditor_account"
    )
    holder_name = models.CharField(max_length=70)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=SHA256_LENGTH)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(iban="") & ~Q(bic="") & ~Q(holder_name=""),
                name="creditor_account_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city_id}: …{self.iban[-4:]}"

    @property
    def iban_display(self) -> str:
        """The IBAN in groups of four, as printed on a bank statement."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))

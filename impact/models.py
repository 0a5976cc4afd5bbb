"""Impact: the SDG catalogue, methodologies (with CCCEV-shaped evidence requirements), claims
and their verification by curators, token classes, issued batches with serial ranges,
portfolios and holdings, transfers, retirements, redemptions, offers, forward orders,
merchant offers, projects and participation calls.

Quantities are integers in the smallest unit of their token class (e.g. kg for a class in
t CO2e with precision 3); money is integer cents. Free text and personal data (titles,
beneficiary names, evidence files) stay in these tables; the ledger holds public ids, DIDs,
integers and SHA-256 digests.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id

# --- SDG catalogue -----------------------------------------------------------------------


class Bilingual(models.Model):
    """A row with an English and a French title, shown in the active language."""

    title_en = models.CharField(_("title (English)"), max_length=400)
    title_fr = models.CharField(_("title (French)"), max_length=400)

    class Meta:
        abstract = True

    @property
    def title(self) -> str:
        language = (translation.get_language() or "fr")[:2]
        return self.title_en if language == "en" else self.title_fr


class Goal(Bilingual):
    """One of the 17 UN Sustainable Development Goals."""

    number = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=17), name="goal_number_1_17"
            ),
        ]

    def __str__(self) -> str:
        return f"SDG {self.number}"


class Target(Bilingual):
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="targets")
    code = models.CharField(max_length=16, unique=True)  # "11.6"

    class Meta:
        ordering = ["goal", "code"]

    def __str__(self) -> str:
        return self.code


class Indicator(Bilingual):
    """A global indicator the platform supports (e.g. 11.6.1), with the unit it is measured
    in on this platform."""

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="indicators")
    code = models.CharField(max_length=16, unique=True)  # "11.6.1"
    unit = models.CharField(_("unit"), max_length=64)
    unit_code = models.SlugField(max_length=64)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def goal_number(self) -> int:
        return int(self.code.split(".")[0])


# --- token classes -----------------------------------------------------------------------


class TokenClass(models.Model):
    """A kind of impact token, per unit (e.g. `t CO2e avoided`). Quantities are integers in
    the smallest unit: 10^-precision of the unit (precision 3 on tonnes: kilograms)."""

    code = models.SlugField(max_length=64, unique=True)
    name_en = models.CharField(max_length=200)
    name_fr = models.CharField(max_length=200)
    unit = models.CharField(_("unit"), max_length=64)  # "t CO2e"
    precision = models.PositiveSmallIntegerField(_("decimal places"))
    smallest_unit = models.CharField(_("smallest unit"), max_length=64)  # "kg CO2e"
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.PROTECT, related_name="token_classes"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(precision__lte=9), name="token_class_precision_le_9"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        language = (translation.get_language() or "fr")[:2]
        return self.name_en if language == "en" else self.name_fr


# --- methodologies -----------------------------------------------------------------------


class MethodologyStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    RETIRED = "retired", _("retired")


class Methodology(models.Model):
    """How an indicator is measured, versioned: parameters, a formula over them and over
    emission factors, and the evidence a claim must carry. A version never changes once
    claims use it: a change is a new version (its definition's digest is on the ledger)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    code = models.SlugField(max_length=64)
    version = models.PositiveIntegerField()
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="methodologies")
    token_class = models.ForeignKey(
        TokenClass, on_delete=models.PROTECT, related_name="methodologies"
    )
    title_en = models.CharField(max_length=200)
    title_fr = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Arithmetic over parameter and factor names (+ - * / and parentheses), in the token
    # class's unit. Evaluated with decimal.Decimal by impact.formulas, never by eval.
    formula = models.CharField(max_length=500)
    status = models.CharField(
        max_length=16, choices=MethodologyStatus.choices, default=MethodologyStatus.ACTIVE
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="methodology_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def title(self) -> str:
        language = (translation.get_language() or "fr")[:2]
        return self.title_en if language == "en" else self.title_fr


class ParameterKind(models.TextChoices):
    INTEGER = "integer", _("whole number")
    DECIMAL = "decimal", _("decimal number")


class Parameter(models.Model):
    """A measured input of a methodology; values travel as strings and become Decimal."""

    methodology = models.ForeignKey(
        Methodology, on_delete=models.CASCADE, related_name="parameters"
    )
    name = models.CharField(max_length=64)  # an identifier used in the formula
    label_en = models.CharField(max_length=200)
    label_fr = models.CharField(max_length=200)
    unit = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=ParameterKind.choices)
    min_value = models.DecimalField(max_digits=30, decimal_places=9, null=True, blank=True)
    max_value = models.DecimalField(max_digits=30, decimal_places=9, null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["methodology", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["methodology", "name"], name="parameter_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class EmissionFactor(models.Model):
    """A constant of a methodology version, with its source (e.g. ADEME Base Carbone)."""

    methodology = models.ForeignKey(Methodology, on_delete=models.CASCADE, related_name="factors")
    name = models.CharField(max_length=64)  # an identifier used in the formula
    value = models.DecimalField(max_digits=30, decimal_places=9)
    unit = models.CharField(max_length=64)
    source = models.CharField(_("source"), max_length=300)
    source_url = models.URLField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["methodology", "name"]
        constraints = [
            models.UniqueConstraint(fields=["methodology", "name"], name="factor_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value} {self.unit}"


# --- evidence requirements (after the EU Core Criterion and Core Evidence Vocabulary) -----


class Requirement(models.Model):
    """cccev:Requirement: something a claim must prove. Met when the claim carries evidence
    of one of its evidence types and a value for each of its information concepts."""

    methodology = models.ForeignKey(
        Methodology, on_delete=models.CASCADE, related_name="requirements"
    )
    code = models.SlugField(max_length=64)
    title_en = models.CharField(max_length=200)
    title_fr = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["methodology", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["methodology", "code"], name="requirement_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class EvidenceKind(models.TextChoices):
    FILE = "file", _("uploaded file")
    DATASET = "dataset", _("dataset of the marketplace")


class EvidenceType(models.Model):
    """cccev:EvidenceType: a kind of document or dataset that proves a requirement."""

    requirement = models.ForeignKey(
        Requirement, on_delete=models.CASCADE, related_name="evidence_types"
    )
    code = models.SlugField(max_length=64)
    title_en = models.CharField(max_length=200)
    title_fr = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)

    class Meta:
        ordering = ["requirement", "code"]
        constraints = [
            models.UniqueConstraint(fields=["requirement", "code"], name="evidence_type_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class InformationConcept(models.Model):
    """cccev:InformationConcept: a piece of information a requirement needs, with its unit;
    bound to the methodology parameter that carries its value in a claim."""

    requirement = models.ForeignKey(
        Requirement, on_delete=models.CASCADE, related_name="information_concepts"
    )
    code = models.SlugField(max_length=64)
    title_en = models.CharField(max_length=200)
    title_fr = models.CharField(max_length=200)
    unit = models.CharField(max_length=64)
    parameter = models.ForeignKey(
        Parameter, null=True, blank=True, on_delete=models.CASCADE, related_name="concepts"
    )

    class Meta:
        ordering = ["requirement", "code"]
        constraints = [
            models.UniqueConstraint(fields=["requirement", "code"], name="concept_unique"),
        ]

    def __str__(self) -> str:
        return self.code


# --- curators ----------------------------------------------------------------------------


class Curator(models.Model):
    """The curator role in a city, granted to an approved member by municipality staff (and
    revocable). A curator verifies impact claims, never their own."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="curators")
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="curator_roles"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["city", "-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_curator_role",
            ),
        ]

    def __str__(self) -> str:
        return f"curator {self.membership_id}@{self.city_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- claims ------------------------------------------------------------------------------


class ClaimState(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    DISPUTED = "disputed", _("disputed")


class RejectReason(models.TextChoices):
    QUANTITY_MISMATCH = "quantity_mismatch", _("the quantity does not follow the methodology")
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", _("the evidence does not prove the claim")
    OUT_OF_SCOPE = "out_of_scope", _("outside the methodology's scope")
    DUPLICATE = "duplicate", _("already claimed")
    PERIOD_INVALID = "period_invalid", _("the period is not valid")
    OTHER = "other", _("other")


class ClaimBatch(models.Model):
    """Claims a deployed service submitted at once on behalf of its users, signed by the
    service provider's DID (one ledger transaction naming every claim)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    # The deployed service (marketplace Deployment public id) and its provider's DID: no
    # foreign key into the app store (impact uses it only through impact.marketplace).
    service_ref = models.CharField(max_length=32)
    provider_did = models.CharField(max_length=200)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(max_length=64)  # the service's idempotency key
    digest = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "service_ref", "reference"], name="claim_batch_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class Claim(models.Model):
    """A measured effect submitted for verification: draft → submitted → approved /
    rejected (with a reason code) / disputed (and from disputed, approved or rejected)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="claims")
    claimant = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="impact_claims"
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="claims")
    methodology = models.ForeignKey(Methodology, on_delete=models.PROTECT, related_name="claims")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="claims")
    # Measured values as decimal strings, by parameter name.
    parameters = models.JSONField(default=dict)
    parameters_digest = models.CharField(max_length=64)
    # In the token class's smallest unit (e.g. kg CO2e), computed by the methodology.
    quantity = models.BigIntegerField()
    unit = models.CharField(max_length=64)
    period_start = models.DateField()
    period_end = models.DateField()
    district_code = models.CharField(_("district"), max_length=32, blank=True)
    service_ref = models.CharField(max_length=32, blank=True)  # marketplace Deployment id
    batch = models.ForeignKey(
        ClaimBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    state = models.CharField(max_length=16, choices=ClaimState.choices, default=ClaimState.DRAFT)
    reason_code = models.CharField(max_length=32, blank=True)
    # A bounty for verifying it: a marketplace "verify_claim" task, or (without the app
    # store) an amount owed to the curator who decides.
    bounty_cents = models.BigIntegerField(default=0)
    bounty_task_ref = models.CharField(max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="claim_quantity_ge_0"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="claim_period_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="rejected", reason_code=""),
                name="claim_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["city", "state", "period_end"]),
            models.Index(fields=["claimant", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.state}"


def _no_upload_path(instance, filename):  # pragma: no cover - files are kept in the database
    return filename


class Evidence(models.Model):
    """What proves a claim: an uploaded file (kept in the database, with its SHA-256
    computed on upload) or a dataset of the marketplace by reference and digest."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="evidence")
    evidence_type = models.ForeignKey(EvidenceType, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    filename = models.CharField(max_length=200, blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveIntegerField(default=0)
    dataset_ref = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="file", content__isnull=False, dataset_ref="")
                    | models.Q(kind="dataset", content__isnull=True) & ~models.Q(dataset_ref="")
                ),
                name="evidence_file_xor_dataset",
            ),
            models.UniqueConstraint(fields=["claim", "sha256"], name="evidence_once_per_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}:{self.sha256[:12]}"


class Decision(models.TextChoices):
    APPROVE = "approve", _("approve")
    REJECT = "reject", _("reject")
    DISPUTE = "dispute", _("dispute")


class Verification(models.Model):
    """A curator's decision on a claim, with the quantity they recomputed. An approval holds
    the credential (W3C VC 2.0, eddsa-jcs-2022) signed by the curator's DID."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="verifications")
    curator = models.ForeignKey(Curator, on_delete=models.PROTECT, related_name="verifications")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason_code = models.CharField(max_length=32, blank=True)
    recomputed_quantity = models.BigIntegerField()
    credential = models.OneToOneField(
        "identity.Credential", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The bounty: a marketplace task (its public id) or, without one, the reward owed.
    bounty_task_ref = models.CharField(max_length=32, blank=True)
    reward_owed_cents = models.BigIntegerField(default=0)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=models.Q(decision="approve"), name="one_approval"
            ),
            models.CheckConstraint(
                condition=models.Q(reward_owed_cents__gte=0), name="verification_reward_ge_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.decision}"


# --- portfolios, batches, holdings -------------------------------------------------------


class Portfolio(models.Model):
    """A member's tokens in one city (the city itself holds one too, for its calls)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="portfolios")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="impact_portfolios"
    )
    identity = models.ForeignKey("identity.Identity", on_delete=models.PROTECT, related_name="+")
    # The holder agrees that new batches issued to it fill open forward orders of the city
    # at their fixed price (it is then owed the price).
    accepts_forward_orders = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["city", "user"], name="one_portfolio_per_city"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id}@{self.city_id}"


class SerialCounter(models.Model):
    """The next serial and batch number of (city, class, vintage): locked while a batch is
    issued, so serial ranges follow each other without gap or overlap."""

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    vintage = models.PositiveSmallIntegerField()
    next_serial = models.BigIntegerField(default=1)
    next_batch = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["city", "token_class", "vintage"], name="serial_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city_id}/{self.token_class_id}/{self.vintage}: {self.next_serial}"


class Batch(models.Model):
    """Tokens issued at once for one approved claim: serials first..last (inclusive) of
    (city, class, vintage), one unit of the smallest unit each. No unit is issued twice:
    one batch per claim, unique batch numbers and range ends, ranges handed out by the locked
    `SerialCounter` (and, on PostgreSQL, an exclusion constraint against any overlap)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="batches")
    vintage = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    first_serial = models.BigIntegerField()
    last_serial = models.BigIntegerField()
    quantity = models.BigIntegerField()
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="batch_issued")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="+")
    credential = models.ForeignKey(
        "identity.Credential", on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "token_class", "vintage", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "token_class", "vintage", "number"], name="batch_unique_number"
            ),
            models.UniqueConstraint(
                fields=["city", "token_class", "vintage", "first_serial"],
                name="batch_unique_first_serial",
            ),
            models.UniqueConstraint(
                fields=["city", "token_class", "vintage", "last_serial"],
                name="batch_unique_last_serial",
            ),
            models.CheckConstraint(
                condition=models.Q(first_serial__gte=1, quantity__gte=1)
                & models.Q(last_serial=models.F("first_serial") + models.F("quantity") - 1),
                name="batch_range_matches_quantity",
            ),
        ]
        indexes = [models.Index(fields=["city", "token_class", "issued_at"])]

    def __str__(self) -> str:
        return self.serial_label

    @property
    def serial_prefix(self) -> str:
        city, code = self.city.slug.upper(), self.token_class.code.upper()
        return f"{city}-{code}-{self.vintage}-{self.number:05d}"

    @property
    def serial_label(self) -> str:
        return f"{self.serial_prefix}-{self.first_serial}..{self.last_serial}"


class HoldingState(models.TextChoices):
    AVAILABLE = "available", _("available")
    ESCROW = "escrow", _("held in escrow for an offer")
    RETIRED = "retired", _("retired")
    REDEEMED = "redeemed", _("redeemed for money")


class Holding(models.Model):
    """A serial range of one batch held by one portfolio. Transfers split ranges: the
    holdings of a batch partition its serials at any time."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="holdings")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="holdings")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    first_serial = models.BigIntegerField()
    last_serial = models.BigIntegerField()
    quantity = models.BigIntegerField()
    state = models.CharField(
        max_length=16, choices=HoldingState.choices, default=HoldingState.AVAILABLE
    )
    offer = models.ForeignKey(
        "SellOffer", null=True, blank=True, on_delete=models.PROTECT, related_name="escrow"
    )
    retirement = models.ForeignKey(
        "Retirement", null=True, blank=True, on_delete=models.PROTECT, related_name="holdings"
    )
    redemption = models.ForeignKey(
        "Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="holdings"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["batch", "first_serial"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "first_serial"], name="holding_unique_first"),
            models.UniqueConstraint(fields=["batch", "last_serial"], name="holding_unique_last"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1)
                & models.Q(last_serial=models.F("first_serial") + models.F("quantity") - 1),
                name="holding_range_matches_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(state="escrow", offer__isnull=False)
                | (~models.Q(state="escrow") & models.Q(offer__isnull=True)),
                name="holding_escrow_iff_offer",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="retired", retirement__isnull=True),
                name="holding_retired_has_retirement",
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "token_class", "state"])]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.first_serial}..{self.last_serial} {self.state}"


class Transfer(models.Model):
    """Tokens moved from one portfolio to another (signed by the sender, on the ledger).
    `serials` lists the moved ranges: [[batch public id, first, last], ...]."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    sender = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="sent")
    recipient = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="received")
    quantity = models.BigIntegerField()
    serials = models.JSONField(default=list)
    purpose = models.CharField(max_length=32, default="transfer")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="transfer_positive"),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("recipient")), name="transfer_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class RetireReason(models.TextChoices):
    OFFSET = "offset", _("offsetting own emissions")
    ON_BEHALF = "on_behalf", _("on behalf of a beneficiary")
    DONATION = "donation", _("donation to the city")
    MERCHANT = "merchant", _("spent at a merchant")
    OTHER = "other", _("other")


class Retirement(models.Model):
    """Tokens used up for good, for a beneficiary (a DID, or a name kept off the ledger: its
    digest is there) and a reason code. Irreversible."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="retirements")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    beneficiary_did = models.CharField(max_length=200, blank=True)
    beneficiary_name = models.CharField(_("beneficiary"), max_length=200, blank=True)
    reason_code = models.CharField(max_length=32, choices=RetireReason.choices)
    serials = models.JSONField(default=list)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="retirement_positive"),
        ]

    def __str__(self) -> str:
        return self.public_id


# --- money -------------------------------------------------------------------------------


class PayableStatus(models.TextChoices):
    OWED = "owed", _("owed")
    PAID = "paid", _("paid")


class PayableKind(models.TextChoices):
    SALE = "sale", _("proceeds of a sale")
    FORWARD = "forward", _("proceeds of a forward order")
    REDEMPTION = "redemption", _("redemption of tokens")
    BOUNTY = "bounty", _("verification reward")
    REFUND = "refund", _("refund of an unfilled order")
    PROJECT = "project", _("money collected by a project")


class Payable(models.Model):
    """Money the city owes a member (integer cents). It leaves the bank only through an
    executed fund_project proposal paying exactly this amount to this DID
    (`payable_settle`), as governance requires of every outflow."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=PayableKind.choices)
    payee = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="payables")
    payee_did = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=PayableStatus.choices, default="owed")
    proposal = models.OneToOneField(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    paid_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payable_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount_cents}"


class RedemptionRate(models.Model):
    """What the city pays (cents per whole unit of the class) when a provider redeems."""

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    cents_per_unit = models.BigIntegerField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "token_class"], name="one_rate_per_class"),
            models.CheckConstraint(condition=models.Q(cents_per_unit__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.token_class_id}@{self.city_id}: {self.cents_per_unit}"


class Redemption(models.Model):
    """A provider-college member's tokens exchanged for money: the tokens are used up and
    the city owes the amount (a Payable, paid through an executed proposal)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="redemptions")
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="+"
    )
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    serials = models.JSONField(default=list)
    payable = models.OneToOneField(Payable, on_delete=models.PROTECT, related_name="redemption")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, amount_cents__gt=0), name="redemption_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


# --- market ------------------------------------------------------------------------------


class OfferStatus(models.TextChoices):
    OPEN = "open", _("open")
    SOLD = "sold", _("sold")
    WITHDRAWN = "withdrawn", _("withdrawn")


class SellOffer(models.Model):
    """Tokens for sale at a price per smallest unit (integer cents); held in escrow (their
    holdings locked to the offer) until sold or withdrawn."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="sell_offers")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    remaining = models.BigIntegerField()
    unit_price_cents = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default="open")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["unit_price_cents", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, remaining__gte=0, unit_price_cents__gte=1)
                & models.Q(remaining__lte=models.F("quantity")),
                name="sell_offer_amounts",
            ),
        ]
        indexes = [models.Index(fields=["city", "token_class", "status"])]

    def __str__(self) -> str:
        return self.public_id


class Purchase(models.Model):
    """Tokens bought from a sell offer: the buyer paid into the treasury (impact-funds), the
    seller is owed the price (a Payable)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    offer = models.ForeignKey(SellOffer, on_delete=models.PROTECT, related_name="purchases")
    buyer = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="purchases")
    quantity = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    movement = models.OneToOneField(
        "governance.Movement", on_delete=models.PROTECT, related_name="+"
    )
    payable = models.OneToOneField(Payable, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.public_id


class ForwardStatus(models.TextChoices):
    OPEN = "open", _("open")
    FILLED = "filled", _("filled")
    CANCELLED = "cancelled", _("cancelled")


class ForwardOrder(models.Model):
    """An investor pre-buys future issuance of a class in a city at a fixed price per
    smallest unit, paid in at once; filled as batches are issued (oldest order first)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    investor = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="forward_orders")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    filled = models.BigIntegerField(default=0)
    unit_price_cents = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=ForwardStatus.choices, default="open")
    movement = models.OneToOneField(
        "governance.Movement", on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, filled__gte=0, unit_price_cents__gte=1)
                & models.Q(filled__lte=models.F("quantity")),
                name="forward_order_amounts",
            ),
        ]
        indexes = [models.Index(fields=["city", "token_class", "status"])]

    def __str__(self) -> str:
        return self.public_id


class ForwardFill(models.Model):
    """Part of a new batch delivered to a forward order; the claimant is owed the price."""

    order = models.ForeignKey(ForwardOrder, on_delete=models.PROTECT, related_name="fills")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="forward_fills")
    quantity = models.BigIntegerField()
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    payable = models.OneToOneField(Payable, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.order_id}<-{self.batch_id} {self.quantity}"


class MerchantSettlement(models.TextChoices):
    TRANSFER = "transfer", _("tokens go to the merchant")
    RETIRE = "retire", _("tokens are retired")


class MerchantOffer(models.Model):
    """Goods or services a merchant (any approved member) gives for tokens."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(
        Portfolio, on_delete=models.PROTECT, related_name="merchant_offers"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    price_quantity = models.BigIntegerField()  # smallest units per item
    settlement = models.CharField(max_length=16, choices=MerchantSettlement.choices)
    stock = models.PositiveIntegerField(null=True, blank=True)  # None: unlimited
    active = models.BooleanField(default=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_quantity__gte=1), name="merchant_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class MerchantRedemption(models.Model):
    """A member spent tokens on a merchant offer (transferred or retired)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    offer = models.ForeignKey(MerchantOffer, on_delete=models.PROTECT, related_name="redemptions")
    buyer = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="+")
    items = models.PositiveIntegerField()
    quantity = models.BigIntegerField()
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retirement = models.OneToOneField(
        Retirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.public_id


class ProjectStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Project(models.Model):
    """A project (e.g. an association's) that collects tokens of a class, money, or both."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    token_class = models.ForeignKey(
        TokenClass, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    goal_quantity = models.BigIntegerField(default=0)
    goal_cents = models.BigIntegerField(default=0)
    collected_quantity = models.BigIntegerField(default=0)
    collected_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=ProjectStatus.choices, default="open")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    goal_quantity__gte=0,
                    goal_cents__gte=0,
                    collected_quantity__gte=0,
                    collected_cents__gte=0,
                ),
                name="project_amounts_ge_0",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class Contribution(models.Model):
    """Tokens (a transfer to the project's owner) or money (paid into the treasury, owed
    to the project's owner) given to a project."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="contributions")
    contributor = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    movement = models.OneToOneField(
        "governance.Movement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payable = models.OneToOneField(
        Payable, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.public_id


class ParticipationCall(models.Model):
    """The municipality calls for residents' participation in public works, rewarded in
    tokens from the city's portfolio."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    reward_quantity = models.BigIntegerField()
    places = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=ProjectStatus.choices, default="open")
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reward_quantity__gte=1, places__gte=1),
                name="participation_call_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class ParticipationStatus(models.TextChoices):
    REGISTERED = "registered", _("registered")
    REWARDED = "rewarded", _("rewarded")


class Participation(models.Model):
    call = models.ForeignKey(
        ParticipationCall, on_delete=models.PROTECT, related_name="participations"
    )
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ParticipationStatus.choices, default="registered"
    )
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "membership"], name="participate_once"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}:{self.membership_id} {self.status}"


# --- the dashboard's roll-up ---------------------------------------------------------------
# Written only by impact.services.rollup, in the transaction of the service that changes the
# figures (after its ledger append, under the chain head's lock); rebuilt from the claims,
# batches and holdings by `manage.py impact_rollup_rebuild` (and migration 0005).


class ImpactMonth(models.Model):
    """Approved impact of a city per month (the first day of the month the measured period
    ends in), indicator, token class, unit, district and producing service: the sum of the
    claims' quantities and their number. The dashboard reads its figures here, not from the
    claims."""

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=64)
    district_code = models.CharField(max_length=32, blank=True)
    service_ref = models.CharField(max_length=32, blank=True)
    quantity = models.BigIntegerField(default=0)
    claims = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "city",
                    "month",
                    "indicator",
                    "token_class",
                    "unit",
                    "district_code",
                    "service_ref",
                ],
                name="impact_month_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0, claims__gte=1), name="impact_month_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city_id} {self.month:%Y-%m} {self.indicator_id}: {self.quantity}"


class TokenTotal(models.Model):
    """A city's units of a token class: issued, and how they split between available, in
    escrow, retired and redeemed (the holdings partition the batches, and so do these)."""

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    token_class = models.ForeignKey(TokenClass, on_delete=models.PROTECT, related_name="+")
    issued = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    escrow = models.BigIntegerField(default=0)
    retired = models.BigIntegerField(default=0)
    redeemed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "token_class"], name="token_total_unique"),
            models.CheckConstraint(
                condition=models.Q(available__gte=0, escrow__gte=0, retired__gte=0, redeemed__gte=0)
                & models.Q(
                    issued=models.F("available")
                    + models.F("escrow")
                    + models.F("retired")
                    + models.F("redeemed")
                ),
                name="token_total_partition",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city_id}/{self.token_class_id}: {self.issued}"


class ClaimCount(models.Model):
    """How many claims of a city are in each state."""

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=ClaimState.choices)
    claims = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "state"], name="claim_count_unique"),
            models.CheckConstraint(condition=models.Q(claims__gte=0), name="claim_count_ge_0"),
        ]

    def __str__(self) -> str:
        return f"{self.city_id} {self.state}: {self.claims}"


from .simulation.models import *  # noqa: E402,F401,F403

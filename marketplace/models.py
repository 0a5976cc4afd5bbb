"""The app store: providers, services and their versions, audits, deployments by vote, fees
and incentive tasks (bounties).

Personal data and free text (names, descriptions, the GDPR Article 30 declaration, audit
findings) stay in these tables; the ledger holds public ids, DIDs, integers and the SHA-256
digest of each text it commits to. Money is integer cents.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id


class Provider(models.Model):
    """An organisation that offers services, owned by a user whose DID signs for it.

    Registered with the network by the operator, or by its owner when the owner is an
    approved member of a providers college of some city (`membership`).
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, unique=True)
    website = models.URLField(_("website"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="providers"
    )
    identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="providers"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    membership = models.ForeignKey(
        "governance.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.TextChoices):
    MOBILITY = "mobility", _("mobility")
    ENERGY = "energy", _("energy")
    ENVIRONMENT = "environment", _("environment")
    WASTE = "waste", _("waste")
    WATER = "water", _("water")
    HEALTH = "health", _("health")
    EDUCATION = "education", _("education")
    CULTURE = "culture", _("culture")
    PARTICIPATION = "participation", _("citizen participation")
    PUBLIC_SERVICES = "public_services", _("public services")
    SAFETY = "safety", _("safety")
    TOURISM = "tourism", _("tourism")
    OTHER = "other", _("other")


class Service(models.Model):
    """A listing of the app store. What it does and costs lives in its versions."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=10000)
    logo_url = models.URLField(_("logo"), blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    website = models.URLField(_("website"), blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["category", "name"])]

    def __str__(self) -> str:
        return self.name


class LegalBasis(models.TextChoices):
    """GDPR Article 6(1)."""

    CONSENT = "consent", _("consent (art. 6-1-a)")
    CONTRACT = "contract", _("performance of a contract (art. 6-1-b)")
    LEGAL_OBLIGATION = "legal_obligation", _("legal obligation (art. 6-1-c)")
    VITAL_INTERESTS = "vital_interests", _("vital interests (art. 6-1-d)")
    PUBLIC_TASK = "public_task", _("public interest or official authority (art. 6-1-e)")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("legitimate interests (art. 6-1-f)")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    IN_AUDIT = "in_audit", _("awaiting audit")
    AUDITED = "audited", _("audited")
    REJECTED = "rejected", _("rejected")
    SUSPENDED = "suspended", _("suspended")


class ServiceVersion(models.Model):
    """One version of a service: its GDPR Article 30 record of processing, the impact
    indicators it claims and its pricing. Immutable once created (its declaration's digest is
    on the ledger); offerable to cities only when both audits passed (`AUDITED`)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    label = models.CharField(_("version"), max_length=32)
    changelog = models.TextField(_("what changed"), blank=True, max_length=5000)
    # GDPR Article 30(1): the record of processing.
    personal_data = models.JSONField(_("categories of personal data"), default=list)
    data_subjects = models.JSONField(_("categories of data subjects"), default=list)
    purposes = models.TextField(_("purposes of the processing"), max_length=5000)
    legal_basis = models.CharField(_("legal basis"), max_length=32, choices=LegalBasis.choices)
    retention = models.CharField(_("retention period"), max_length=300)
    recipients = models.JSONField(_("recipients"), default=list)
    transfers_outside_eu = models.TextField(
        _("transfers outside the EU and their safeguards"), blank=True, max_length=2000
    )
    # Impact indicators it claims (e.g. the SDG indicator "11.6.1") until the impact catalogue.
    impact_indicators = models.JSONField(_("impact indicators"), default=list)
    deployment_fee_cents = models.BigIntegerField(_("deployment fee (cents)"))
    execution_fee_cents = models.BigIntegerField(_("fee per execution (cents)"))
    declaration_digest = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    status_reason = models.CharField(max_length=300, blank=True)
    audited_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="version_unique_number"),
            models.CheckConstraint(
                condition=models.Q(deployment_fee_cents__gte=0, execution_fee_cents__gte=0),
                name="version_fees_nonnegative",
            ),
        ]
        indexes = [models.Index(fields=["status", "service"])]

    def __str__(self) -> str:
        return f"{self.service} {self.label}"

    @property
    def is_offerable(self) -> bool:
        return self.status == VersionStatus.AUDITED


class AuditKind(models.TextChoices):
    TECHNICAL = "technical", _("technical review")
    LEGAL = "legal", _("legal review (DPO)")


class Verdict(models.TextChoices):
    PASS = "pass", _("pass")
    FAIL = "fail", _("fail")


class Audit(models.Model):
    """The operator's review of one version, signed by the auditor's DID on the network chain.
    One per kind and version: a new version needs new audits."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    version = models.ForeignKey(ServiceVersion, on_delete=models.PROTECT, related_name="audits")
    kind = models.CharField(max_length=16, choices=AuditKind.choices)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    auditor_identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="+"
    )
    findings = models.TextField(_("findings"), max_length=20000)
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    reason = models.TextField(_("reason for the rejection"), blank=True, max_length=5000)
    task = models.OneToOneField(
        "Task", null=True, blank=True, on_delete=models.PROTECT, related_name="audit"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="audit_once_per_kind"),
            models.CheckConstraint(
                condition=~models.Q(verdict="fail", reason=""), name="audit_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.kind}={self.verdict}"


class DeployAction(models.TextChoices):
    DEPLOY = "deploy", _("deploy")
    UNDEPLOY = "undeploy", _("undeploy")
    UPGRADE = "upgrade", _("upgrade")


class Deployment(models.Model):
    """A service running in a city after a vote: one row per city and service, whose
    version, `active` flag and deciding proposal follow each executed deploy_service."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey(
        "governance.City", on_delete=models.PROTECT, related_name="deployments"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="deployments")
    version = models.ForeignKey(
        ServiceVersion, on_delete=models.PROTECT, related_name="deployments"
    )
    active = models.BooleanField(default=True)
    proposal = models.ForeignKey(
        "governance.Proposal", on_delete=models.PROTECT, related_name="deployments"
    )
    deployed_at = models.DateTimeField()
    undeployed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["city", "service"]
        constraints = [
            models.UniqueConstraint(fields=["city", "service"], name="deployment_once_per_city"),
        ]
        indexes = [models.Index(fields=["city", "active"])]

    def __str__(self) -> str:
        return f"{self.city_id}:{self.service_id}@{self.version_id}"


class FeeKind(models.TextChoices):
    DEPLOYMENT = "deployment", _("deployment fee")
    EXECUTION = "execution", _("execution fee")


class Fee(models.Model):
    """A fee the provider paid into a city's treasury, and how the city's rules split it.

    operator_cents + data_owners_cents + local_projects_cents == amount_cents (a constraint).
    """

    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="fees")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=16, choices=FeeKind.choices)
    amount_cents = models.BigIntegerField()
    operator_cents = models.BigIntegerField()
    data_owners_cents = models.BigIntegerField()
    local_projects_cents = models.BigIntegerField()
    movement = models.OneToOneField(
        "governance.Movement", on_delete=models.PROTECT, related_name="fee"
    )
    proposal = models.ForeignKey(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    amount_cents__gt=0,
                    operator_cents__gte=0,
                    data_owners_cents__gte=0,
                    local_projects_cents__gte=0,
                ),
                name="fee_positive_shares_nonnegative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount_cents=models.F("operator_cents")
                    + models.F("data_owners_cents")
                    + models.F("local_projects_cents")
                ),
                name="fee_shares_sum_to_amount",
            ),
        ]
        indexes = [models.Index(fields=["deployment", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents}"


class ContractExecution(models.Model):
    """One execution of a deployed service's contract, signed by the provider's DID (or the
    platform's) on the city chain. `reference` is the caller's idempotency key: recording the
    same reference twice charges once."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="executions")
    version = models.ForeignKey(ServiceVersion, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fee = models.OneToOneField(
        Fee, null=True, blank=True, on_delete=models.PROTECT, related_name="execution"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "reference"], name="execution_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id}:{self.reference}"


class TaskKind(models.TextChoices):
    AUDIT_TECHNICAL = "audit_technical", _("technical audit")
    AUDIT_LEGAL = "audit_legal", _("legal audit")
    CURATE_DATASET = "curate_dataset", _("curate a dataset link")
    VERIFY_CLAIM = "verify_claim", _("verify an impact claim")


class TaskPayer(models.TextChoices):
    OPERATOR = "operator", _("the operator")
    CITY = "city", _("a city treasury")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLAIMED = "claimed", _("claimed")
    COMPLETED = "completed", _("completed")
    OWED = "owed", _("completed, payment owed")
    PAID = "paid", _("paid")
    CANCELLED = "cancelled", _("cancelled")


class Task(models.Model):
    """An incentive task (bounty): work that keeps the network alive, with a reward in cents.

    open → claimed (by a qualified member) → completed → paid. A city pays only through an
    executed fund_project decision (`funding_proposal`); until then the amount is owed.
    The work is any object (`work`: content type and id), e.g. the ServiceVersion audited.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=32, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    reward_cents = models.BigIntegerField(_("reward (cents)"))
    payer = models.CharField(max_length=16, choices=TaskPayer.choices)
    city = models.ForeignKey(
        "governance.City", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    work_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    work_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claimed_tasks",
    )
    claimant_identity = models.ForeignKey(
        "identity.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    funding_proposal = models.OneToOneField(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reward_cents__gte=0), name="task_reward_nonnegative"
            ),
            models.CheckConstraint(
                condition=models.Q(payer="operator") | models.Q(city__isnull=False),
                name="task_city_payer_names_city",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["work_type", "work_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.status}"


from .data.models import *  # noqa: E402,F401,F403  (the data marketplace's tables)

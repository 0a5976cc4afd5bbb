"""Cities, colleges, memberships, versioned rules, proposals, ballots, comments, treasury.

Personal data (postal addresses, SIRET, proposal texts) stays in these tables; the ledger
holds DIDs, public ids and SHA-256 digests of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id


class CityManager(models.Manager):
    """Cities only: the operator's own governance body (`is_network_body`) is left out of
    every city list, page, API and export."""

    def get_queryset(self):
        return super().get_queryset().filter(is_network_body=False)


class AllBodiesManager(models.Manager):
    """Every row, the operator's cooperative included (`City.all_bodies`)."""


class City(models.Model):
    """A sub-network: its own chain, colleges, rules, treasury and pages under /c/<slug>/.

    One row may instead be the operator's own cooperative governance (`is_network_body`,
    bound to the network chain, see the `cooperative` app): it reuses colleges, rules,
    proposals, ballots and tallies, and `City.objects` never returns it
    (`City.all_bodies` does)."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    chain = models.OneToOneField("ledger.Chain", on_delete=models.PROTECT, related_name="city")
    # The municipality's DID: it signs membership credentials. Held by a service account.
    identity = models.OneToOneField(
        "identity.Identity", on_delete=models.PROTECT, related_name="city"
    )
    postal_codes = models.JSONField(_("postal codes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    independent_at = models.DateTimeField(null=True, blank=True)
    is_network_body = models.BooleanField(default=False, editable=False)

    objects = CityManager()
    all_bodies = AllBodiesManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class CollegeKind(models.TextChoices):
    RESIDENTS = "residents", _("residents")
    PROVIDERS = "providers", _("providers")
    MUNICIPALITY = "municipality", _("municipality")
    OTHER = "other", _("other")
    # The colleges of the operator's cooperative (`cooperative` app).
    DATA_PROVIDERS = "data_providers", _("providers of data and services")
    CLIENTS = "clients", _("clients")
    OPERATORS = "operators", _("service operators")
    INVESTORS = "investors", _("investors")


class College(models.Model):
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="colleges")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CollegeKind.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["city", "position", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="college_unique_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.city.slug}/{self.slug}"


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")
    REVOKED = "revoked", _("revoked")


ACTIVE_STATUSES = [MembershipStatus.PENDING, MembershipStatus.APPROVED]


class Membership(models.Model):
    """A person's place in one college of a city (one live membership per city)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="memberships")
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    identity = models.ForeignKey(
        "identity.Identity", on_delete=models.PROTECT, related_name="memberships"
    )
    status = models.CharField(
        max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    # Evidence checked by municipality staff; never written to the ledger.
    postal_address = models.CharField(_("postal address"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    credential = models.OneToOneField(
        "identity.Credential", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["city", "college", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "user"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="one_live_membership_per_city",
            ),
        ]
        indexes = [models.Index(fields=["city", "status", "college"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.college}"

    @property
    def is_approved(self) -> bool:
        return self.status == MembershipStatus.APPROVED


class RulesVersion(models.Model):
    """The governance rules of a city, versioned. Changed only by an accepted amend_rules."""

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="rules_versions")
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    digest = models.CharField(max_length=64)
    adopted_by = models.ForeignKey(
        "Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["city", "version"], name="rules_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.city.slug} rules v{self.version}"


class ProposalKind(models.TextChoices):
    DEPLOY_SERVICE = "deploy_service", _("deploy a service")
    FUND_PROJECT = "fund_project", _("fund a project")
    AMEND_RULES = "amend_rules", _("amend the rules")
    BECOME_INDEPENDENT = "become_independent", _("become independent")
    MAINTENANCE_AUTONOMY = "maintenance_autonomy", _("maintenance autonomy")
    GENERAL = "general", _("general")


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    EXECUTED = "executed", _("executed")
    FAILED = "failed", _("failed")


class Proposal(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=32, choices=ProposalKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    # Kind-specific parameters: amount_cents and recipient, new rules, budget, service...
    parameters = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="proposals")
    status = models.CharField(
        max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT
    )
    rules = models.ForeignKey(
        RulesVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    electorate_digest = models.CharField(max_length=64, blank=True)
    electorate_sizes = models.JSONField(default=dict, blank=True)
    tally = models.JSONField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["city", "status", "kind"]),
            models.Index(fields=["status", "closes_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.title[:40]}"


class ElectorateEntry(models.Model):
    """Who may vote on a proposal: the approved members at the moment its vote opened."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="electorate")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="+")
    did = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "membership"], name="electorate_once"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.did}"


class Choice(models.TextChoices):
    YES = "yes", _("yes")
    NO = "no", _("no")
    ABSTAIN = "abstain", _("abstain")


class Ballot(models.Model):
    """One member's vote on one proposal: the database holds at most one."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="ballots")
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    # Participatory budget: the projects this voter picks (public ids), within the budget.
    selection = models.JSONField(default=list, blank=True)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    cast_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "membership"], name="one_ballot_per_member"
            ),
        ]
        indexes = [models.Index(fields=["proposal", "college", "choice"])]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.membership_id}={self.choice}"


class Comment(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="comments")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"), max_length=5000)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.public_id


class AccountKind(models.TextChoices):
    ASSET = "asset", _("asset")
    LIABILITY = "liability", _("liability")
    REVENUE = "revenue", _("revenue")
    EXPENSE = "expense", _("expense")
    EQUITY = "equity", _("equity")


class Account(models.Model):
    """A treasury account of a city (double entry: every movement balances to zero)."""

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="accounts")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)

    class Meta:
        ordering = ["city", "code"]
        constraints = [models.UniqueConstraint(fields=["city", "code"], name="account_unique")]

    def __str__(self) -> str:
        return f"{self.city.slug}:{self.code}"


class Movement(models.Model):
    """One balanced journal entry of the treasury, on the ledger."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="movements")
    label = models.CharField(max_length=200)
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.label}"


class Posting(models.Model):
    movement = models.ForeignKey(Movement, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    # Debit positive, credit negative; the postings of a movement sum to zero.
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_cents=0), name="posting_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_cents}"


class BudgetProject(models.Model):
    """One project of a participatory budget call (a `fund_project` proposal with a
    `budget_cents` parameter). Added while the call is a draft, frozen when its vote opens;
    the ledger holds the digest of its title and description, never the text."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="budget_projects")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    cost_cents = models.BigIntegerField(_("cost (cents)"))
    recipient = models.CharField(_("recipient DID"), max_length=200)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_cents__gt=0), name="budget_project_cost_positive"
            ),
            models.UniqueConstraint(
                fields=["proposal", "position"], name="budget_project_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.title[:40]}"

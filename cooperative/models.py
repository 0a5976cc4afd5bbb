"""The operator's cooperative: its share register and the distributions of its results.

The cooperative's governance itself (colleges, rules, proposals, ballots, tallies) is a
`governance.City` row flagged `is_network_body`, bound to the network chain: see
`cooperative.services.cooperative_body`. This app adds what a city does not have: share
classes, holdings (never negative: a database constraint), share movements, the yearly
distribution of the result to investors and the network decisions in force.

The share register of a cooperative is public: holdings appear by DID with their share
counts, horizons and amounts in cents; names and e-mails never do.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id


class ShareClass(models.Model):
    """A class of shares (parts sociales) with its nominal value: shares are subscribed and
    redeemed at nominal (variable capital)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    nominal_cents = models.BigIntegerField(_("nominal value (cents)"))

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("share classes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nominal_cents__gt=0), name="share_class_nominal_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Holding(models.Model):
    """The shares one member holds in one class under one commitment horizon (in years)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="holdings"
    )
    share_class = models.ForeignKey(ShareClass, on_delete=models.PROTECT, related_name="holdings")
    horizon_years = models.PositiveSmallIntegerField(_("commitment horizon (years)"))
    shares = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["membership", "share_class", "-horizon_years"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shares__gte=0), name="holding_never_negative"
            ),
            models.UniqueConstraint(
                fields=["membership", "share_class", "horizon_years"], name="holding_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.shares}"


class MovementKind(models.TextChoices):
    SUBSCRIBE = "subscribe", _("share subscription")
    TRANSFER = "transfer", _("transfer")
    WITHDRAW = "withdraw", _("withdrawal")


class MovementStatus(models.TextChoices):
    PENDING = "pending", _("waiting for admission")
    DONE = "done", _("recorded")
    REFUSED = "refused", _("refused")


class ShareMovement(models.Model):
    """One signed movement of the register: a subscription (pending until the newcomer is
    admitted, by the board or by a vote as the rules say), a transfer between members, or a
    withdrawal redeemed at nominal."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    status = models.CharField(max_length=16, choices=MovementStatus.choices)
    share_class = models.ForeignKey(ShareClass, on_delete=models.PROTECT, related_name="+")
    shares = models.BigIntegerField()
    horizon_years = models.PositiveSmallIntegerField()
    amount_cents = models.BigIntegerField()
    # Who asked (a newcomer has no membership until admitted) and the college they ask for.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    college = models.ForeignKey(
        "governance.College", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_membership = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="share_movements_out",
    )
    to_membership = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="share_movements_in",
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    decision_entry = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposal = models.ForeignKey(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shares__gt=0), name="share_movement_shares_positive"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="one_pending_subscription_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.shares}"


class Distribution(models.Model):
    """The result of a year distributed to investors after the general assembly approved the
    accounts (an `approve_accounts` proposal). `computation` is the whole arithmetic; its
    SHA-256 (of the RFC 8785 canonical JSON) is `digest`, on the network chain."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    proposal = models.OneToOneField(
        "governance.Proposal", on_delete=models.PROTECT, related_name="distribution"
    )
    year = models.PositiveSmallIntegerField(unique=True)
    result_cents = models.BigIntegerField()
    accounts_digest = models.CharField(max_length=64)
    rate_basis_points = models.PositiveIntegerField()
    cap_cents = models.BigIntegerField()
    distributed_cents = models.BigIntegerField()
    computation = models.JSONField()
    digest = models.CharField(max_length=64)
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cap_cents__gte=0)
                & models.Q(distributed_cents__gte=0)
                & models.Q(distributed_cents__lte=models.F("cap_cents")),
                name="distribution_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.distributed_cents}"


class Allocation(models.Model):
    """One line of a distribution: a holding of an investor and the cents it receives."""

    distribution = models.ForeignKey(
        Distribution, on_delete=models.PROTECT, related_name="allocations"
    )
    holding = models.ForeignKey(Holding, on_delete=models.PROTECT, related_name="allocations")
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField()
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ["distribution", "position"]
        constraints = [
            models.UniqueConstraint(fields=["distribution", "holding"], name="allocation_once"),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gte=0), name="allocation_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.distribution_id}:{self.holding_id}={self.amount_cents}"


class NetworkDecision(models.Model):
    """What an accepted network decision (audit standards, fees schedule, a city admitted, a
    city's independence) put in force, with its ledger transaction on the network chain."""

    proposal = models.OneToOneField(
        "governance.Proposal", on_delete=models.PROTECT, related_name="network_decision"
    )
    kind = models.CharField(max_length=32)
    parameters = models.JSONField()
    effect = models.JSONField()
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.proposal_id}"

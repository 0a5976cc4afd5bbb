"""Witnesses: a city watching another log, what it last saw, its cosignatures, and the
evidence of a log that showed an inconsistent checkpoint.

Hashes are lowercase hex; checkpoint texts are kept exactly as fetched (C2SP signed notes).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id


class Source(models.TextChoices):
    LOCAL = "local", _("this deployment")
    REMOTE = "remote", _("another SMART B deployment")


class WitnessRelation(models.Model):
    """`witness` (a city) watches one log: where to fetch it, whose keys sign it, and the
    latest consistent checkpoint it saw (`last_*`, moved only by `witnesses.services`).

    A local log is a chain of this database; a remote one is fetched from `base_url`'s
    `/api/v1/ledger/chains/<log_slug>/checkpoint` and `/consistency`.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    witness = models.ForeignKey(
        "governance.City", on_delete=models.PROTECT, related_name="witness_relations"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    chain = models.ForeignKey(
        "ledger.Chain",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="witness_relations",
    )
    base_url = models.URLField(_("deployment address"), max_length=300, blank=True)
    log_slug = models.SlugField(_("chain"), max_length=64)
    origin = models.CharField(_("checkpoint origin"), max_length=255)
    # The log's validator DIDs (did:key, Ed25519) in force at the latest checkpoint seen: a
    # checkpoint needs `quorum` of them. They follow the log's own `ledger.validators.*`
    # changes once the log proved them (`witnesses.light_client`).
    log_keys = models.JSONField(default=list)
    quorum = models.PositiveSmallIntegerField(default=1)
    # Proved changes not in force yet at the latest checkpoint seen (`ledger.quorum.Change`
    # fields, as JSON), and the tree size from which the log's changes are followed when no
    # checkpoint was seen yet (None: from the first checkpoint seen).
    pending_changes = models.JSONField(default=list, blank=True)
    follow_from = models.BigIntegerField(null=True, blank=True)
    last_height = models.BigIntegerField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_size = models.BigIntegerField(null=True, blank=True)
    last_root = models.CharField(max_length=64, blank=True)
    last_checkpoint = models.TextField(blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["witness", "origin"]
        constraints = [
            models.UniqueConstraint(
                fields=["witness", "origin"],
                condition=models.Q(removed_at__isnull=True),
                name="witness_once_per_log",
            ),
            models.CheckConstraint(
                condition=models.Q(source="local", chain__isnull=False)
                | models.Q(source="remote", chain__isnull=True),
                name="witness_local_iff_chain",
            ),
            models.CheckConstraint(condition=models.Q(quorum__gte=1), name="witness_quorum_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.witness_id} watches {self.origin}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Cosignature(models.Model):
    """One cosignature a witness made: C2SP cosignature/v1 over the checkpoint it saw."""

    relation = models.ForeignKey(
        WitnessRelation, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness_did = models.CharField(max_length=200)
    key_name = models.CharField(max_length=255)
    origin = models.CharField(max_length=255)
    tree_size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    timestamp = models.BigIntegerField(help_text="POSIX seconds, as signed")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature, hex")
    line = models.TextField(help_text="the note signature line, as appended to the checkpoint")
    checkpoint = models.TextField(help_text="the checkpoint as fetched, log signatures included")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tree_size", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["relation", "tree_size"], name="cosign_once_per_size"),
        ]
        indexes = [models.Index(fields=["origin", "tree_size"])]

    def __str__(self) -> str:
        return f"{self.key_name} on {self.origin}@{self.tree_size}"


class Reason(models.TextChoices):
    ROLLBACK = "rollback", _("the log showed a smaller tree than one it had signed")
    FORK = "fork", _("the log signed two different roots for the same size")
    BAD_PROOF = "bad_proof", _("the log's consistency proof does not hold")
    BAD_VALIDATOR_CHANGE = (
        "bad_validators",
        _("the log changed its validators without proving it"),
    )


class Inconsistency(models.Model):
    """Evidence that a log showed a checkpoint inconsistent with one it signed before: both
    signed checkpoint texts, and the proof when one was given. Kept once (`digest`)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    relation = models.ForeignKey(
        WitnessRelation, on_delete=models.PROTECT, related_name="inconsistencies"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    old_checkpoint = models.TextField()
    new_checkpoint = models.TextField()
    proof = models.JSONField(null=True, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    entry = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["-detected_at", "-pk"]
        verbose_name_plural = "inconsistencies"

    def __str__(self) -> str:
        return f"{self.reason} on {self.relation_id}"

"""The signed, hash-chained ledger: chains, actors, transactions, Merkle tiles and blocks.

Hashes and signatures are stored as lowercase hex, as they appear on the wire.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .timefmt import format_timestamp

NETWORK_CHAIN_SLUG = "network"


class Chain(models.Model):
    """One append-only log: a city's, or the operator's network chain.

    The row is also the chain head: appends lock it (`SELECT ... FOR UPDATE`) while they take
    the next index, so concurrent writers form one gap-free log.
    """

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    size = models.BigIntegerField(_("number of transactions"), default=0)
    sealed_size = models.BigIntegerField(_("transactions sealed in blocks"), default=0)
    block_count = models.BigIntegerField(_("number of blocks"), default=0)
    head_block_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sealed_size__lte=models.F("size")), name="chain_sealed_le_size"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def pending_count(self) -> int:
        return self.size - self.sealed_size


class Actor(models.Model):
    """A DID the ledger accepts signatures from. Registered by `identity`; never deleted."""

    did = models.CharField(max_length=200, unique=True)
    public_key = models.CharField(max_length=64, help_text="Ed25519 public key, hex")
    active = models.BooleanField(default=True)
    registered_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.did


class Transaction(models.Model):
    """One signed action. Signed bytes: JCS of {chain, kind, actor, payload, created_at}."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="entries")
    index = models.BigIntegerField()
    kind = models.CharField(max_length=100)
    actor = models.CharField(max_length=200)
    payload = models.JSONField()
    created_at = models.DateTimeField()
    signature = models.CharField(max_length=128)
    tx_hash = models.CharField(max_length=64, unique=True)
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["chain", "index"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "index"], name="tx_unique_index"),
            models.CheckConstraint(condition=models.Q(index__gte=0), name="tx_index_nonneg"),
        ]
        indexes = [models.Index(fields=["actor", "chain"])]

    def __str__(self) -> str:
        return f"{self.chain_id}#{self.index} {self.kind}"

    @property
    def created_at_text(self) -> str:
        return format_timestamp(self.created_at)

    def signed_fields(self, chain_slug: str | None = None) -> dict:
        return {
            "chain": chain_slug or self.chain.slug,
            "kind": self.kind,
            "actor": self.actor,
            "payload": self.payload,
            "created_at": self.created_at_text,
        }


class MerkleNode(models.Model):
    """Hash of a complete, aligned subtree: level k, index i covers leaves i*2^k..(i+1)*2^k-1.

    Level 0 is the transaction's own leaf hash and is not repeated here. Written once, when
    the subtree's last leaf arrives; any proof then needs O(log n) indexed reads.
    """

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="nodes")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "level", "index"], name="node_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}/{self.level}/{self.index}"


class Block(models.Model):
    """A sealed prefix of the log. Its hash is SHA-256 of the JCS of its header."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="blocks")
    height = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    tree_size = models.BigIntegerField()
    root = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    block_hash = models.CharField(max_length=64, unique=True)
    # When a quorum of the validators in force at this height had signed it; null while it
    # awaits signatures (see ledger.quorum).
    final_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["chain", "-height"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "height"], name="block_unique_height"),
            models.UniqueConstraint(fields=["chain", "tree_size"], name="block_unique_size"),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}@{self.height}"

    def header(self, chain_slug: str | None = None) -> dict:
        return {
            "chain": chain_slug or self.chain.slug,
            "height": self.height,
            "prev_hash": self.prev_hash,
            "tree_size": self.tree_size,
            "root": self.root,
            "sealed_at": format_timestamp(self.sealed_at),
        }


class BlockSignature(models.Model):
    """A validator's two signatures for a block: over the JCS header, and over the C2SP
    checkpoint note of the same tree head."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="signatures")
    validator = models.CharField(max_length=200)
    key_name = models.CharField(max_length=200)
    header_signature = models.CharField(max_length=128)
    note_signature = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["block", "validator"], name="blocksig_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.block_id} by {self.validator}"


class ValidatorChange(models.Model):
    """A recorded change of a chain's validator set, in force from `effective_height`.

    Indexes the chain's own `ledger.validators.set` / `ledger.validators.rotate`
    transactions (`entry`), which stay the source of truth the verifiers rebuild it from.
    """

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="validator_changes")
    effective_height = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    members = models.JSONField(default=list, blank=True)
    quorum = models.PositiveSmallIntegerField(default=0)
    validator = models.CharField(max_length=200, blank=True, default="")
    successor = models.CharField(max_length=200, blank=True, default="")
    # A rotation's proof that the new key accepted it: the successor's Ed25519 signature
    # (hex) of `quorum.successor_statement`, rebuilt from `entry`. Kept beside the
    # transaction, not in it; empty for set changes and rotations recorded before it was kept.
    successor_signature = models.CharField(max_length=128, blank=True, default="")
    entry = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["chain", "effective_height", "entry_id"]
        indexes = [models.Index(fields=["chain", "effective_height"])]

    def __str__(self) -> str:
        return f"{self.chain_id} {self.kind} from {self.effective_height}"


class Equivocation(models.Model):
    """Evidence that a validator signed two different headers for one height of a chain.

    Both signed headers are kept whole, so anyone can check the evidence again; the ledger
    transaction (`entry`) records their digests only.
    """

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="equivocations")
    height = models.BigIntegerField()
    validator = models.CharField(max_length=200)
    header_a = models.JSONField()
    signature_a = models.CharField(max_length=128)
    digest_a = models.CharField(max_length=64)
    header_b = models.JSONField()
    signature_b = models.CharField(max_length=128)
    digest_b = models.CharField(max_length=64)
    entry = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chain", "-height"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "validator", "height", "digest_a", "digest_b"],
                name="equivocation_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(digest_a__lt=models.F("digest_b")),
                name="equivocation_digests_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}@{self.height} by {self.validator}"

"""Reads of the ledger: stored subtree hashes, proofs, checkpoints, receipts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from . import merkle
from .checkpoint import checkpoint_text, note_body
from .errors import ProofUnavailable
from .models import Block, Chain, Equivocation, MerkleNode, Transaction, ValidatorChange
from .quorum import ROTATE_KIND, Change, Schedule, ValidatorSet
from .signing import checkpoint_origin, platform_validator


def db_fetch(chain: Chain, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Stored hashes of complete subtrees: leaves from transactions, the rest from tiles.

    One round trip whatever the number of keys (O(log n) keys for any proof): a UNION ALL of
    exact lookups, each on a unique index, so the plan never depends on table statistics
    (an OR of pairs made SQLite scan every node of the chain on a fresh database).
    """
    if not keys:
        return {}
    quote = connection.ops.quote_name
    tx_table, node_table = quote(Transaction._meta.db_table), quote(MerkleNode._meta.db_table)
    index = quote("index")
    parts, params = [], []
    leaves = sorted(i for level, i in keys if level == 0)
    if leaves:
        marks = ", ".join(["%s"] * len(leaves))
        # Table and column names come from the models; every value is a query parameter.
        parts.append(
            f"SELECT 0 AS lvl, {index} AS idx, leaf_hash AS h FROM {tx_table} "  # noqa: S608
            f"WHERE chain_id = %s AND {index} IN ({marks})"
        )
        params += [chain.pk, *leaves]
    for level, position in sorted(k for k in keys if k[0] > 0):
        parts.append(
            f"SELECT level, {index}, hash FROM {node_table} "  # noqa: S608
            f"WHERE chain_id = %s AND level = %s AND {index} = %s"
        )
        params += [chain.pk, level, position]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {(level, position): bytes.fromhex(h) for level, position, h in cursor.fetchall()}


def chain_get(*, slug: str) -> Chain:
    chain = Chain.objects.filter(slug=slug).first()
    if chain is None:
        raise Http404("no such chain")
    return chain


def chain_list():
    return Chain.objects.order_by("slug")


def block_list(*, chain: Chain, limit: int = 20):
    return chain.blocks.prefetch_related("signatures").order_by("-height")[:limit]


def block_get(*, chain: Chain, height: int) -> Block:
    block = chain.blocks.prefetch_related("signatures").filter(height=height).first()
    if block is None:
        raise Http404("no such block")
    return block


def block_latest(*, chain: Chain) -> Block | None:
    return chain.blocks.prefetch_related("signatures").order_by("-height").first()


def block_latest_final(*, chain: Chain) -> Block | None:
    """The latest block a quorum of its validators signed: the one checkpoints publish."""
    return (
        chain.blocks.prefetch_related("signatures")
        .filter(final_at__isnull=False)
        .order_by("-height")
        .first()
    )


def genesis_set() -> ValidatorSet:
    """The set of a chain that recorded none: the platform validator alone, quorum 1."""
    return ValidatorSet((platform_validator().did,), 1)


def chain_schedule(*, chain: Chain) -> Schedule:
    """The chain's validator sets: genesis and every recorded change (one query)."""
    rows = (
        ValidatorChange.objects.filter(chain=chain)
        .order_by("effective_height", "entry__index")
        .values_list(
            "effective_height",
            "entry__index",
            "kind",
            "members",
            "quorum",
            "validator",
            "successor",
        )
    )
    return Schedule(
        genesis_set(),
        [
            Change(height, index, kind, tuple(members or ()), quorum, validator, successor)
            for height, index, kind, members, quorum, validator, successor in rows
        ],
    )


VALIDATOR_CHANGES_PAGE = 100


def validator_change_entries(
    *, chain: Chain, start: int, stop: int, limit: int = VALIDATOR_CHANGES_PAGE
) -> tuple[list[Transaction], int | None]:
    """The chain's validator-change transactions (`ledger.validators.set` / `.rotate`) with
    an index in [start, stop), in index order, at most `limit`; and the index to ask from
    next (None when this page ends the range).

    Read through the chain's validator index (`ValidatorChange`, one row per change, rebuilt
    after an import), so the cost of a page depends on how many changes the chain has, not on
    how many entries the range holds.
    """
    changes = (
        ValidatorChange.objects.filter(chain=chain, entry__index__gte=start, entry__index__lt=stop)
        .select_related("entry")
        .order_by("entry__index")
    )
    rows = [change.entry for change in changes[: limit + 1]]
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].index + 1
    return rows, None


def rotation_list(*, chain: Chain) -> list[ValidatorChange]:
    """Every key rotation recorded on `chain`, in log order, with its transaction and the
    successor's statement signature when one was kept (one query: rotations are few, each
    signed by a validator's key)."""
    return list(
        ValidatorChange.objects.filter(chain=chain, kind=ROTATE_KIND)
        .select_related("entry")
        .order_by("entry__index")
    )


def validator_set_at(*, chain: Chain, height: int) -> ValidatorSet:
    return chain_schedule(chain=chain).at(height)


@dataclass(frozen=True)
class BlockStatus:
    """A block with the set in force at its height and how many of them signed it."""

    block: Block
    validator_set: ValidatorSet
    signed: int

    @property
    def final(self) -> bool:
        return self.block.final_at is not None

    @property
    def missing(self) -> list[str]:
        signed = {sig.validator for sig in self.block.signatures.all()}
        return [did for did in self.validator_set.members if did not in signed]


def block_statuses(*, blocks, schedule: Schedule) -> list[BlockStatus]:
    """Each block's finality, from signatures already prefetched: no query per block."""
    statuses = []
    for block in blocks:
        validator_set = schedule.at(block.height)
        signed = sum(1 for sig in block.signatures.all() if sig.validator in validator_set)
        statuses.append(BlockStatus(block, validator_set, signed))
    return statuses


def blocks_awaiting(*, chain: Chain, validator: str | None = None, limit: int = 100) -> list:
    """Blocks not final yet (oldest first), optionally only those `validator` may still sign."""
    schedule = chain_schedule(chain=chain)
    blocks = list(
        chain.blocks.prefetch_related("signatures")
        .filter(final_at__isnull=True)
        .order_by("height")[:limit]
    )
    statuses = block_statuses(blocks=blocks, schedule=schedule)
    if validator is not None:
        statuses = [s for s in statuses if validator in s.missing]
    return statuses


def equivocation_list(*, chain: Chain, limit: int = 50):
    return Equivocation.objects.filter(chain=chain).order_by("-height", "-pk")[:limit]


def block_containing(*, chain: Chain, index: int) -> Block | None:
    """The first block whose tree includes transaction `index`."""
    return chain.blocks.filter(tree_size__gt=index).order_by("height").first()


def entry_get(*, chain: Chain, index: int) -> Transaction:
    entry = chain.entries.filter(index=index).first()
    if entry is None:
        raise Http404("no such transaction")
    return entry


def entry_by_hash(*, tx_hash: str) -> Transaction | None:
    return Transaction.objects.select_related("chain").filter(tx_hash=tx_hash).first()


def entry_list(*, chain: Chain, start: int = 0, stop: int | None = None):
    entries = chain.entries.order_by("index").filter(index__gte=start)
    if stop is not None:
        entries = entries.filter(index__lt=stop)
    return entries


def entries_of_actor(*, dids: list[str], limit: int = 50):
    return (
        Transaction.objects.select_related("chain")
        .filter(actor__in=dids)
        .order_by("-created_at")[:limit]
    )


def tree_root(*, chain: Chain, size: int) -> bytes:
    if not 0 <= size <= chain.size:
        raise ProofUnavailable(f"tree size {size} is beyond the chain's size {chain.size}")
    return merkle.root(size, lambda keys: db_fetch(chain, keys))


@dataclass(frozen=True)
class InclusionProof:
    chain: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root: str

    def as_dict(self) -> dict:
        return {
            "chain": self.chain,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash,
            "audit_path": self.audit_path,
            "root": self.root,
        }


def inclusion_proof(*, chain: Chain, index: int, tree_size: int) -> InclusionProof:
    """RFC 9162 inclusion proof of transaction `index` in the tree of size `tree_size`."""
    if not 0 <= index < tree_size <= chain.size:
        raise ProofUnavailable(
            f"transaction {index} is not in a tree of size {tree_size} "
            f"(the chain holds {chain.size})"
        )

    def fetch(keys):
        return db_fetch(chain, keys)

    # One round trip for the path and the root together.
    path_ranges = merkle.inclusion_ranges(index, tree_size)
    hashes = merkle.resolve([*path_ranges, (0, tree_size), (index, index + 1)], fetch)
    *path, root, leaf = hashes
    return InclusionProof(
        chain=chain.slug,
        leaf_index=index,
        tree_size=tree_size,
        leaf_hash=leaf.hex(),
        audit_path=[h.hex() for h in path],
        root=root.hex(),
    )


def consistency_proof(*, chain: Chain, first: int, second: int) -> dict:
    """RFC 9162 consistency proof between two tree sizes, in the design's wire format."""
    if not 0 < first <= second <= chain.size:
        raise ProofUnavailable(
            f"no consistency proof from {first} to {second} (the chain holds {chain.size})"
        )

    def fetch(keys):
        return db_fetch(chain, keys)

    ranges = merkle.consistency_ranges(first, second) if first != second else []
    hashes = merkle.resolve([*ranges, (0, first), (0, second)], fetch)
    *proof, first_root, second_root = hashes
    return {
        "chain": chain.slug,
        "first": first,
        "second": second,
        "first_root": first_root.hex(),
        "second_root": second_root.hex(),
        "proof": [h.hex() for h in proof],
    }


def block_checkpoint(*, block: Block, chain_slug: str | None = None) -> str:
    """The C2SP checkpoint note of a block, with every validator's signature."""
    slug = chain_slug or block.chain.slug
    body = note_body(checkpoint_origin(slug), block.tree_size, bytes.fromhex(block.root))
    lines = [f"\u2014 {sig.key_name} {sig.note_signature}\n" for sig in block.signatures.all()]
    return checkpoint_text(body, lines)


def receipt_for(*, entry: Transaction) -> dict | None:
    """What a voter or a consenting resident keeps: the proof up to the latest checkpoint.

    None while the transaction waits to be sealed into a block.
    """
    chain = entry.chain
    block = block_latest_final(chain=chain)
    if block is None or block.tree_size <= entry.index:
        # Not yet in a final block: the latest block that holds it, signed by fewer than a
        # quorum so far (the pages say it awaits signatures).
        block = block_latest(chain=chain)
    if block is None or block.tree_size <= entry.index:
        return None
    proof = inclusion_proof(chain=chain, index=entry.index, tree_size=block.tree_size)
    return {
        "chain": chain.slug,
        "tx_hash": entry.tx_hash,
        "leaf_index": entry.index,
        "leaf_hash": proof.leaf_hash,
        "tree_size": proof.tree_size,
        "audit_path": proof.audit_path,
        "checkpoint": block_checkpoint(block=block, chain_slug=chain.slug),
    }

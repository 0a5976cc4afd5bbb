"""Full check of a chain stored in the database (behind `manage.py ledger_verify`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import merkle
from .export import chain_actors, iter_blocks, iter_transactions
from .models import Chain, MerkleNode
from .quorum import ValidatorSet
from .signing import checkpoint_origin, trusted_validators
from .verification import (
    GENESIS_PREV_HASH,
    ChainVerifier,
    Failure,
    VerificationFailed,
    default_workers,
    verify_stream,
)


@dataclass
class Report:
    transactions: int
    blocks: int
    failure: Failure | None
    awaiting: list[int] = field(default_factory=list)  # heights short of quorum, not final


def verify_chain(
    chain: Chain,
    *,
    validators: dict[str, str] | None = None,
    workers: int | None = None,
    require_final: bool = False,
) -> Report:
    """Check everything stored for `chain`. Its first validator set is `validators` (default:
    the platform validator of these settings), quorum 1; later sets come from the chain's
    own `ledger.validators.*` transactions, and every block needs a quorum of the set in
    force at its height (blocks still awaiting signatures are listed in the report, or fail
    with `require_final`)."""
    validators = trusted_validators() if validators is None else validators
    verifier = ChainVerifier(
        slug=chain.slug,
        origin=checkpoint_origin(chain.slug),
        known_actors=chain_actors(chain),
        workers=default_workers(chain.size) if workers is None else workers,
        genesis=ValidatorSet(tuple(sorted(validators)), 1),
        require_final=require_final,
    )
    verifier.keep_nodes = True
    stored = _StoredNodes(chain)
    tx_iter = _checking_nodes(iter_transactions(chain), verifier, stored)
    try:
        verify_stream(verifier, tx_iter, iter_blocks(chain))
        stored.check_rest(verifier)
        if verifier.transactions != chain.size:
            raise VerificationFailed(
                Failure(
                    f"the head says {chain.size} transactions, the log holds "
                    f"{verifier.transactions}"
                )
            )
        if verifier.last_block_size != chain.sealed_size:
            raise VerificationFailed(
                Failure(
                    f"the head says {chain.sealed_size} sealed, the blocks cover "
                    f"{verifier.last_block_size}"
                )
            )
        if verifier.blocks != chain.block_count or verifier.prev_hash != (
            chain.head_block_hash or GENESIS_PREV_HASH
        ):
            raise VerificationFailed(
                Failure("the chain head's block count or hash differs from the blocks")
            )
    except VerificationFailed as error:
        return Report(verifier.transactions, verifier.blocks, error.failure, verifier.awaiting)
    return Report(verifier.transactions, verifier.blocks, None, verifier.awaiting)


class _StoredNodes:
    """Stored subtree hashes, compared with the ones recomputed from the leaves."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def check(self, verifier: ChainVerifier, closed: list[tuple[merkle.NodeKey, bytes]]) -> None:
        if not closed:
            return
        # One range query per level: the closed nodes of a level are contiguous.
        spans: dict[int, list[int]] = {}
        for (level, index), _ in closed:
            low_high = spans.setdefault(level, [index, index])
            low_high[0], low_high[1] = min(low_high[0], index), max(low_high[1], index)
        rows = {}
        for level, (low, high) in spans.items():
            rows.update(
                ((level, index), h)
                for index, h in MerkleNode.objects.filter(
                    chain=self.chain, level=level, index__gte=low, index__lte=high
                )
                .order_by()
                .values_list("index", "hash")
            )
        for (level, index), expected in closed:
            if rows.get((level, index)) != expected.hex():
                first = index << level
                raise VerificationFailed(
                    Failure(
                        f"stored subtree hash (level {level}) over transactions "
                        f"{first}..{first + (1 << level) - 1} does not match them",
                        index=first,
                    )
                )

    def check_rest(self, verifier: ChainVerifier) -> None:
        self.check(verifier, verifier.closed_nodes)
        verifier.closed_nodes = []
        expected = sum(verifier.transactions >> level for level in range(1, 64))
        count = MerkleNode.objects.filter(chain=self.chain).count()
        if count != expected:
            raise VerificationFailed(
                Failure(f"{count} stored subtree hashes where {expected} were expected")
            )


def _checking_nodes(transactions, verifier: ChainVerifier, stored: _StoredNodes):
    for position, tx in enumerate(transactions, start=1):
        yield tx
        if position % 512 == 0:
            stored.check(verifier, verifier.closed_nodes)
            verifier.closed_nodes = []

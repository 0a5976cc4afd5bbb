"""Rows of the ledger as the plain dicts of the bundle format (and of the verifier).

A key rotation's row also carries `successor_signature` (hex) when one was kept: the new
key's signature of its statement (`quorum.successor_statement`). It is not one of the
transaction's signed fields, so rows, hashes and proofs are the same with or without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from .models import Actor, Block, Chain, Transaction, ValidatorChange
from .selectors import genesis_set
from .signing import checkpoint_origin
from .timefmt import format_timestamp

BUNDLE_FORMAT = "smartb-ledger-bundle/1"
CHUNK = 2000


def transaction_dict(tx: Transaction) -> dict:
    return {
        "index": tx.index,
        "kind": tx.kind,
        "actor": tx.actor,
        "payload": tx.payload,
        "created_at": format_timestamp(tx.created_at),
        "signature": tx.signature,
        "tx_hash": tx.tx_hash,
        "leaf_hash": tx.leaf_hash,
    }


def block_dict(block: Block) -> dict:
    return {
        "height": block.height,
        "prev_hash": block.prev_hash,
        "tree_size": block.tree_size,
        "root": block.root,
        "sealed_at": format_timestamp(block.sealed_at),
        "block_hash": block.block_hash,
        "final": block.final_at is not None,
        "signatures": [
            {
                "validator": sig.validator,
                "key_name": sig.key_name,
                "header_signature": sig.header_signature,
                "note_signature": sig.note_signature,
            }
            for sig in block.signatures.all()
        ],
    }


TX_FIELDS = ("index", "kind", "actor", "payload", "created_at", "signature", "tx_hash", "leaf_hash")


def successor_signatures(chain: Chain) -> dict[int, str]:
    """Transaction index -> the successor's statement signature of each key rotation that
    has one (one query: rotations are few)."""
    return dict(
        ValidatorChange.objects.filter(chain=chain)
        .exclude(successor_signature="")
        .order_by()
        .values_list("entry__index", "successor_signature")
    )


def bundle_successor_signatures(transactions) -> dict[int, str]:
    """The same map, read from a bundle's transaction rows (for an import)."""
    return {
        tx["index"]: tx["successor_signature"]
        for tx in transactions
        if isinstance(tx, dict) and isinstance(tx.get("successor_signature"), str)
    }


def iter_transactions(chain: Chain) -> Iterator[dict]:
    """Every transaction in index order, read in keyset-paginated chunks (plain rows, no
    model instances: verification of millions of entries reads them all); a rotation's row
    with its successor's statement signature when one was kept."""
    proofs = successor_signatures(chain)
    start = 0
    while True:
        rows = list(
            Transaction.objects.filter(chain=chain, index__gte=start)
            .order_by("index")
            .values_list(*TX_FIELDS)[:CHUNK]
        )
        if not rows:
            return
        for row in rows:
            tx = dict(zip(TX_FIELDS, row, strict=True))
            tx["created_at"] = format_timestamp(tx["created_at"])
            if tx["index"] in proofs:
                tx["successor_signature"] = proofs[tx["index"]]
            yield tx
        start = rows[-1][0] + 1


def iter_blocks(chain: Chain) -> Iterator[dict]:
    start = 0
    while True:
        rows = list(
            Block.objects.filter(chain=chain, height__gte=start)
            .prefetch_related("signatures")
            .order_by("height")[:CHUNK]
        )
        if not rows:
            return
        for row in rows:
            yield block_dict(row)
        start = rows[-1].height + 1


def chain_actors(chain: Chain) -> dict[str, str]:
    dids = Transaction.objects.filter(chain=chain).values_list("actor", flat=True).distinct()
    return dict(Actor.objects.filter(did__in=dids).values_list("did", "public_key"))


def chain_validators(chain: Chain) -> dict[str, str]:
    from .models import BlockSignature

    dids = (
        BlockSignature.objects.filter(block__chain=chain)
        .values_list("validator", flat=True)
        .distinct()
    )
    from .didkey import public_key_from_did

    return {did: public_key_from_did(did).hex() for did in dids}


def write_bundle(chain: Chain, out: IO[str]) -> dict:
    """Stream a self-contained bundle of `chain` as JSON to `out`; returns counts."""
    header = {
        "format": BUNDLE_FORMAT,
        "chain": {"slug": chain.slug, "name": chain.name, "origin": checkpoint_origin(chain.slug)},
        "actors": [{"did": d, "public_key": k} for d, k in sorted(chain_actors(chain).items())],
        "validators": [
            {"did": d, "public_key": k} for d, k in sorted(chain_validators(chain).items())
        ],
        # The chain's first validator set; later ones are the chain's own transactions.
        "validator_genesis": genesis_set().as_dict(),
    }
    out.write(json.dumps(header, ensure_ascii=False)[:-1])
    counts = {"transactions": 0, "blocks": 0}
    for name, rows in (("transactions", iter_transactions(chain)), ("blocks", iter_blocks(chain))):
        out.write(f', "{name}": [')
        for position, row in enumerate(rows):
            out.write(("," if position else "") + "\n" + json.dumps(row, ensure_ascii=False))
            counts[name] += 1
        out.write("]")
    out.write("}\n")
    return counts

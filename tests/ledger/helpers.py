"""Small helpers the ledger tests share: filling a chain, reading it back, tampering."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import merkle
from ledger.models import Block, BlockSignature, Chain, MerkleNode, Transaction
from ledger.services import ledger_append

KIND = "test.thing.record"


def append_many(chain: Chain | str, signer, count: int, *, start: int = 0) -> list[Transaction]:
    return [
        ledger_append(chain=chain, actor=signer, kind=KIND, payload={"n": n, "ref": f"ref-{n}"})
        for n in range(start, start + count)
    ]


def leaf_hashes(chain: Chain) -> list[bytes]:
    rows = Transaction.objects.filter(chain=chain).order_by("index")
    return [bytes.fromhex(h) for h in rows.values_list("leaf_hash", flat=True)]


def memory_tree(chain: Chain) -> merkle.MemoryTree:
    return merkle.MemoryTree(leaf_hashes(chain))


def flip_hex(text: str, position: int = 0) -> str:
    """`text` with one hex digit changed: one byte of the value it encodes differs."""
    digit = text[position]
    replacement = "1" if digit == "0" else "0"
    return text[:position] + replacement + text[position + 1 :]


@dataclass(frozen=True)
class Counts:
    transactions: int
    nodes: int
    size: int
    blocks: int
    signatures: int


def counts(chain: Chain) -> Counts:
    """Everything an append or a seal writes, to check that a refusal wrote nothing."""
    chain = Chain.objects.get(pk=chain.pk)
    return Counts(
        transactions=Transaction.objects.filter(chain=chain).count(),
        nodes=MerkleNode.objects.filter(chain=chain).count(),
        size=chain.size,
        blocks=Block.objects.filter(chain=chain).count(),
        signatures=BlockSignature.objects.filter(block__chain=chain).count(),
    )

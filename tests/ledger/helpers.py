"""Small helpers the ledger tests share: filling a chain, reading it back, tampering."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import merkle
from ledger.models import (
    Actor,
    Block,
    BlockSignature,
    Chain,
    MerkleNode,
    Transaction,
    ValidatorChange,
)
from ledger.quorum import ROTATE_KIND
from ledger.services import ledger_append, transaction_prepare
from ledger.validators import rotation_successor_statement

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


def written(chain: Chain) -> tuple:
    """Everything a key rotation writes: ledger rows, validator index, registered actors."""
    return counts(chain), ValidatorChange.objects.count(), Actor.objects.count()


def hand_signed_rotation(chain: Chain, validator, successor, *, moment=None, height=3) -> dict:
    """A key rotation signed by both keys without asking the server to prepare it (the
    prepare would refuse it): what a client that builds the bytes itself sends."""
    payload = {"validator": validator.did, "successor": successor.did, "effective_height": height}
    prepared = transaction_prepare(
        chain=chain, actor_did=validator.did, kind=ROTATE_KIND, payload=payload, created_at=moment
    )
    statement = rotation_successor_statement(
        chain=chain.slug,
        validator=validator.did,
        successor=successor.did,
        effective_height=height,
        created_at=prepared.created_at,
    )
    return {
        "validator": validator.did,
        "successor": successor.did,
        "effective_height": height,
        "created_at": prepared.created_at,
        "signature": validator.sign(prepared.signing_bytes).hex(),
        "successor_signature": successor.sign(statement).hex(),
    }

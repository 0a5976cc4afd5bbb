"""Following a log's validator set as a light client does (no database, no network).

A witness trusts one validator set of the log (pinned when the relation was added, or given
by the staff). The log changes its set with `ledger.validators.set` and
`ledger.validators.rotate` transactions (`ledger.quorum`), each in force from a stated block
height. The witness accepts a change only as the log itself proves it:

- the transaction's signature verifies with its actor's key, its leaf hash is recomputed;
- the block that seals it is signed (its canonical header) by a quorum of the set in force
  at that block's height, as the witness knows it: the set before the change;
- the transaction is in that block's tree (RFC 9162 inclusion proof to the signed root),
  and that tree is a prefix of the checkpoint being witnessed (consistency proof): the
  change is in the checkpointed tree;
- the change is well formed and takes effect after the block that seals it.

Later checkpoints are then checked against the set in force at their own height, proved by
their block's header signed by a quorum of that set. A change that fails any of these checks
raises `ChangeNotProved` (evidence); data that is missing or malformed is `FetchFailed` (an
error, nothing proved).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils.translation import gettext as _

from ledger import merkle
from ledger.canonical import UnsafeJson, canonical_json
from ledger.checkpoint import Checkpoint
from ledger.didkey import InvalidDid, public_key_from_did
from ledger.quorum import (
    CHANGE_KINDS,
    Change,
    InvalidValidatorSet,
    Schedule,
    ValidatorSet,
    parse_change,
)

from .errors import FetchFailed

HEADER_FIELDS = ("height", "prev_hash", "tree_size", "root", "sealed_at")


class ChangeNotProved(Exception):
    """A validator change the log showed but did not prove: `reason` says which check failed."""

    def __init__(self, reason: str, *, transaction: dict, block: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transaction = transaction
        self.block = block


def change_to_dict(change: Change) -> dict:
    return {
        "effective_height": change.effective_height,
        "position": change.position,
        "kind": change.kind,
        "members": list(change.members),
        "quorum": change.quorum,
        "validator": change.validator,
        "successor": change.successor,
    }


def change_from_dict(data: dict) -> Change:
    return Change(
        effective_height=data["effective_height"],
        position=data["position"],
        kind=data["kind"],
        members=tuple(data.get("members") or ()),
        quorum=data.get("quorum") or 0,
        validator=data.get("validator") or "",
        successor=data.get("successor") or "",
    )


def relation_schedule(*, log_keys: list[str], quorum: int, pending: Iterable[dict]) -> Schedule:
    """The witness's view of the log's sets: the set it trusts now, then the proved changes
    not in force yet."""
    return Schedule(ValidatorSet(tuple(log_keys), quorum), [change_from_dict(c) for c in pending])


def block_header(block: dict, *, chain_slug: str) -> dict:
    """The canonical header of a block as the ledger API serves it (`ledger.export`)."""
    try:
        header = {"chain": chain_slug, **{name: block[name] for name in HEADER_FIELDS}}
    except (KeyError, TypeError) as error:
        raise FetchFailed(_("The block is not in the expected format.")) from error
    if not all(type(header[name]) is int for name in ("height", "tree_size")) or not all(
        isinstance(header[name], str) for name in ("prev_hash", "root", "sealed_at")
    ):
        raise FetchFailed(_("The block is not in the expected format."))
    if header["height"] < 0 or header["tree_size"] < 1 or len(header["root"]) != 64:
        raise FetchFailed(_("The block is not in the expected format."))
    try:
        bytes.fromhex(header["root"])
    except ValueError as error:
        raise FetchFailed(_("The block is not in the expected format.")) from error
    return header


def _verifies(did: str, signature_hex, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key_from_did(did))
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, InvalidDid, ValueError, TypeError):
        return False
    return True


def header_signed_by_quorum(block: dict, header: dict, validator_set: ValidatorSet) -> bool:
    """Do at least `quorum` members of `validator_set` sign the block's canonical header?"""
    message = canonical_json(header)
    signed: set[str] = set()
    for signature in block.get("signatures") or []:
        if not isinstance(signature, dict):
            continue
        did = signature.get("validator")
        if (
            did in validator_set
            and did not in signed
            and _verifies(did, signature.get("header_signature"), message)
        ):
            signed.add(did)
    return len(signed) >= validator_set.quorum


def transaction_leaf(tx: dict, *, chain_slug: str) -> bytes:
    """Check the transaction's signature by its actor and return its RFC 9162 leaf hash."""
    try:
        fields = {
            "chain": chain_slug,
            "kind": tx["kind"],
            "actor": tx["actor"],
            "payload": tx["payload"],
            "created_at": tx["created_at"],
        }
        body = canonical_json(fields)
    except (KeyError, TypeError, UnsafeJson) as error:
        raise ChangeNotProved("the transaction is malformed", transaction=tx) from error
    if not _verifies(tx["actor"], tx.get("signature"), body):
        raise ChangeNotProved("the transaction's signature does not verify", transaction=tx)
    return merkle.leaf_hash(body + bytes.fromhex(tx["signature"]))


def prove_change(
    *,
    tx: dict,
    block: dict,
    inclusion: list[bytes],
    consistency: list[bytes],
    checkpoint: Checkpoint,
    schedule: Schedule,
    chain_slug: str,
) -> Change:
    """The change `tx` records, once proved (see the module docstring); else ChangeNotProved.

    `block` seals `tx` (the ledger API's block: header fields and signatures), `inclusion`
    is the audit path of `tx` in that block's tree, `consistency` the proof from that tree
    to the checkpoint's.
    """
    index = tx.get("index")
    if type(index) is not int or tx.get("kind") not in CHANGE_KINDS:
        raise ChangeNotProved("not a validator change", transaction=tx)
    header = block_header(block, chain_slug=chain_slug)
    height, size, root = header["height"], header["tree_size"], bytes.fromhex(header["root"])
    if not index < size <= checkpoint.tree_size:
        raise ChangeNotProved("the block does not seal the change", transaction=tx, block=block)
    leaf = transaction_leaf(tx, chain_slug=chain_slug)
    before = schedule.at(height)
    if not header_signed_by_quorum(block, header, before):
        if block.get("final") is False:
            # The log says the block still awaits its validators (self-custody validators
            # sign later): nothing is proved either way yet; the next round looks again.
            raise FetchFailed(
                _("The block sealing a validator change still awaits its validators.")
            )
        raise ChangeNotProved(
            "the block sealing the change is not signed by a quorum of the validators in "
            "force before it",
            transaction=tx,
            block=block,
        )
    if not merkle.verify_inclusion(leaf, index, size, inclusion, root):
        raise ChangeNotProved(
            "the change is not in the tree of the block sealing it", transaction=tx, block=block
        )
    if size == checkpoint.tree_size:
        consistent = root == checkpoint.root
    else:
        consistent = merkle.verify_consistency(
            size, checkpoint.tree_size, root, checkpoint.root, consistency
        )
    if not consistent:
        raise ChangeNotProved(
            "the block sealing the change is not in the checkpointed tree",
            transaction=tx,
            block=block,
        )
    try:
        change = parse_change(
            kind=tx["kind"], actor=tx["actor"], payload=tx["payload"], position=index
        )
    except InvalidValidatorSet as error:
        raise ChangeNotProved(f"bad validator change: {error}", transaction=tx) from error
    if change.effective_height <= height:
        raise ChangeNotProved(
            "the change takes effect no later than the block sealing it",
            transaction=tx,
            block=block,
        )
    return change


def change_digest(tx: dict) -> str:
    """SHA-256 of the change as shown (its JCS form), for the evidence digest."""
    try:
        return hashlib.sha256(canonical_json(tx)).hexdigest()
    except (TypeError, UnsafeJson):
        return hashlib.sha256(repr(sorted(tx.items())).encode()).hexdigest()

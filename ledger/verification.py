"""Streaming verification of one chain (standard library and `cryptography` only).

Shared by `manage.py ledger_verify` (rows from the database) and `python -m
ledger.verify_bundle` (an exported file), so both check exactly the same things: every
transaction's signature, hash and leaf, the index sequence, every block's root, link, hash
and validator signatures, and its checkpoint note signature; and a key rotation's
`successor_signature` (the new key's signature of its statement), when the row carries one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import merkle
from .canonical import UnsafeJson, jcs_stdlib
from .checkpoint import key_id, note_body
from .didkey import InvalidDid, public_key_from_did
from .quorum import (
    CHANGE_KINDS,
    ROTATE_KIND,
    Change,
    InvalidValidatorSet,
    Schedule,
    ValidatorSet,
    parse_change,
    successor_statement,
)

GENESIS_PREV_HASH = "0" * 64


@dataclass(frozen=True)
class Failure:
    reason: str
    index: int | None = None  # transaction index
    height: int | None = None  # block height

    def __str__(self) -> str:
        where = []
        if self.height is not None:
            where.append(f"block height {self.height}")
        if self.index is not None:
            where.append(f"transaction index {self.index}")
        return f"{', '.join(where) or 'chain'}: {self.reason}"


class VerificationFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure
        super().__init__(str(failure))


def _verify(public_key: bytes, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class ChainVerifier:
    """Feed transactions in index order and blocks in height order; raises at the first fault.

    `known_actors` maps DID -> hex public key of actors the chain accepted; a DID's key is
    also inside the did:key itself, and both must agree.
    """

    def __init__(
        self,
        *,
        slug: str,
        origin: str,
        known_actors: dict[str, str] | None = None,
        workers: int = 0,
        genesis: ValidatorSet | None = None,
        require_final: bool = False,
    ):
        """`workers` > 0 checks signatures in that many processes beside this one (Ed25519
        verification holds the GIL, so threads would not help); 0 checks them inline.

        `genesis`: the chain's first validator set. With it, the set in force at every height
        is rebuilt from the chain's own `ledger.validators.*` transactions and every block
        needs a quorum of it, except blocks marked `"final": false` (awaiting signatures),
        which are listed in `awaiting` instead, unless `require_final`. Without it (old
        callers), one signature from `validators` is enough, as before quorums."""
        self.slug = slug
        self.schedule = Schedule(genesis) if genesis is not None else None
        self.require_final = require_final
        self.awaiting: list[int] = []
        self._unsealed_changes: list[Change] = []
        self.origin = origin
        self.known_actors = known_actors
        self._keys: dict[str, Ed25519PublicKey | None] = {}
        self._raw_keys: dict[str, bytes] = {}
        self._signatures = _ParallelSignatures(workers) if workers > 0 else None
        self.tree = merkle.Frontier()
        self.closed_nodes: list[tuple[merkle.NodeKey, bytes]] = []
        self.keep_nodes = False
        self.prev_hash = GENESIS_PREV_HASH
        self.next_height = 0
        self.last_block_size = 0
        self.transactions = 0
        self.blocks = 0

    def _fail(self, reason: str, *, index: int | None = None, height: int | None = None):
        if self._signatures is not None:
            # A bad signature further back in the log is the first fault: report it instead.
            earlier = self._signatures.first_failure(upto=index)
            if earlier is not None:
                raise VerificationFailed(Failure("signature does not verify", index=earlier))
        raise VerificationFailed(Failure(reason=reason, index=index, height=height))

    def _actor_key(self, did: str) -> Ed25519PublicKey | None:
        """The actor's key, loaded once per DID (most chains have few actors, many entries).

        None when the chain never registered the DID, or registered another key for it.
        """
        if did not in self._keys:
            public_key = public_key_from_did(did)
            registered = None if self.known_actors is None else self.known_actors.get(did)
            if self.known_actors is not None and registered != public_key.hex():
                self._keys[did] = None
            else:
                self._keys[did] = Ed25519PublicKey.from_public_bytes(public_key)
                self._raw_keys[did] = public_key
        return self._keys[did]

    def add_transaction(self, tx: dict) -> None:
        index = tx.get("index")
        if index != self.tree.size:
            self._fail(f"expected index {self.tree.size}, found {index}", index=index)
        fields = {
            "chain": self.slug,
            "kind": tx["kind"],
            "actor": tx["actor"],
            "payload": tx["payload"],
            "created_at": tx["created_at"],
        }
        try:
            body = jcs_stdlib(fields)
            verifier = self._actor_key(tx["actor"])
        except (UnsafeJson, InvalidDid) as error:
            self._fail(f"malformed transaction: {error}", index=index)
        if verifier is None:
            self._fail(
                "signed by an actor the chain never registered, or not with its key", index=index
            )
        try:
            signature = bytes.fromhex(tx["signature"])
            if self._signatures is not None:
                self._signatures.add(index, self._raw_keys[tx["actor"]], signature, body)
            else:
                verifier.verify(signature, body)
        except (InvalidSignature, ValueError, TypeError):
            self._fail("signature does not verify", index=index)
        raw = body + signature
        if hashlib.sha256(raw).hexdigest() != tx["tx_hash"]:
            self._fail("transaction hash does not match its content", index=index)
        leaf = merkle.leaf_hash(raw)
        if leaf.hex() != tx["leaf_hash"]:
            self._fail("leaf hash does not match its content", index=index)
        if tx.get("successor_signature") is not None:
            self._check_successor_signature(tx, index)
        if self.schedule is not None and tx["kind"] in CHANGE_KINDS:
            try:
                change = parse_change(
                    kind=tx["kind"], actor=tx["actor"], payload=tx["payload"], position=index
                )
            except InvalidValidatorSet as error:
                self._fail(f"bad validator change: {error}", index=index)
            self._unsealed_changes.append(change)
        closed = self.tree.append(leaf)
        if self.keep_nodes:
            self.closed_nodes.extend(closed)
        self.transactions += 1

    def _check_successor_signature(self, tx: dict, index: int) -> None:
        """A rotation's successor signed its statement, rebuilt from the transaction."""
        if tx["kind"] != ROTATE_KIND:
            self._fail(
                "a successor signature on a transaction that is not a key rotation", index=index
            )
        try:
            change = parse_change(
                kind=tx["kind"], actor=tx["actor"], payload=tx["payload"], position=index
            )
        except InvalidValidatorSet as error:
            self._fail(f"bad validator change: {error}", index=index)
        statement = successor_statement(
            chain=self.slug,
            validator=change.validator,
            successor=change.successor,
            effective_height=change.effective_height,
            created_at=tx["created_at"],
        )
        signature = tx["successor_signature"]
        if not isinstance(signature, str) or not _verify(
            public_key_from_did(change.successor), signature, statement
        ):
            self._fail(
                f"the successor's signature of the key rotation from height "
                f"{change.effective_height} does not verify",
                index=index,
            )

    def add_block(self, block: dict, *, validators: dict[str, str] | None = None) -> None:
        """Check a block once every transaction up to its tree size has been fed.

        `validators` maps validator DID -> hex public key of the keys allowed to seal; None
        accepts any did:key signature (each is still checked against its DID's key).
        """
        height = block.get("height")
        if height != self.next_height:
            self._fail(f"expected block height {self.next_height}", height=height)
        size = block["tree_size"]
        if size <= self.last_block_size:
            self._fail("tree size does not grow", height=height)
        if size != self.tree.size:
            self._fail(f"block covers {size} transactions, log has {self.tree.size}", height=height)
        if block["prev_hash"] != self.prev_hash:
            self._fail("previous block hash does not link", height=height)
        root = self.tree.root()
        if root.hex() != block["root"]:
            first = self.last_block_size
            self._fail(
                f"Merkle root does not match transactions {first}..{size - 1}", height=height
            )
        header = {
            "chain": self.slug,
            "height": height,
            "prev_hash": block["prev_hash"],
            "tree_size": size,
            "root": block["root"],
            "sealed_at": block["sealed_at"],
        }
        header_bytes = jcs_stdlib(header)
        if hashlib.sha256(header_bytes).hexdigest() != block["block_hash"]:
            self._fail("block hash does not match its header", height=height)
        signatures = block.get("signatures") or []
        awaiting = block.get("final") is False and not self.require_final
        if not signatures and (self.schedule is None or not awaiting):
            self._fail("block carries no validator signature", height=height)
        validator_set = self.schedule.at(height) if self.schedule is not None else None
        note = note_body(self.origin, size, root).encode()
        signed: set[str] = set()
        for signature in signatures:
            did = signature["validator"]
            try:
                public_key = public_key_from_did(did)
            except InvalidDid:
                self._fail(f"validator {did[:40]} is not a did:key", height=height)
            if validators is not None and validators.get(did) != public_key.hex():
                self._fail(f"{did} is not a validator of this chain", height=height)
            if validator_set is not None and did not in validator_set:
                self._fail(f"{did} is not a validator of this chain at this height", height=height)
            if not _verify(public_key, signature["header_signature"], header_bytes):
                self._fail(f"header signature of {did} does not verify", height=height)
            blob = _b64(signature["note_signature"])
            name = signature["key_name"]
            if blob is None or blob[:4] != key_id(name, public_key):
                self._fail("checkpoint signature names another key", height=height)
            if not _verify(public_key, blob[4:].hex(), note):
                self._fail(f"checkpoint signature of {did} does not verify", height=height)
            signed.add(did)
        if validator_set is not None and len(signed) < validator_set.quorum:
            if not awaiting:
                self._fail(
                    f"signed by {len(signed)} of the {validator_set.size} validators in force, "
                    f"short of the quorum of {validator_set.quorum}",
                    height=height,
                )
            self.awaiting.append(height)
        if self.schedule is not None:
            for change in self._unsealed_changes:
                if change.effective_height <= height:
                    self._fail(
                        f"a validator change taking effect at height {change.effective_height} "
                        f"is sealed in block {height}: the set in force must sign it first",
                        index=change.position,
                        height=height,
                    )
                self.schedule.add(change)
            self._unsealed_changes = []
        self.prev_hash = block["block_hash"]
        self.last_block_size = size
        self.next_height += 1
        self.blocks += 1

    def close(self) -> None:
        if self._signatures is not None:
            self._signatures.close()
            self._signatures = None

    def finish(self) -> None:
        """Wait for signatures checked in other processes; raise at the first bad one."""
        if self._signatures is not None:
            failed = self._signatures.first_failure(upto=None)
            self._signatures.close()
            self._signatures = None
            if failed is not None:
                raise VerificationFailed(Failure("signature does not verify", index=failed))


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def _verify_batch(batch: list[tuple[int, bytes, bytes, bytes]]) -> int | None:
    """In a worker process: the index of the first signature that does not verify."""
    keys: dict[bytes, Ed25519PublicKey] = {}
    for index, public_key, signature, body in batch:
        key = keys.get(public_key)
        if key is None:
            key = keys[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
        try:
            key.verify(signature, body)
        except InvalidSignature:
            return index
    return None


class _ParallelSignatures:
    """Signature checks shipped in batches to a pool of processes."""

    BATCH = 2048

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.batch: list[tuple[int, bytes, bytes, bytes]] = []
        self.futures: list = []

    def add(self, index: int, public_key: bytes, signature: bytes, body: bytes) -> None:
        self.batch.append((index, public_key, signature, body))
        if len(self.batch) >= self.BATCH:
            self._submit()

    def _submit(self) -> None:
        if self.batch:
            self.futures.append(self.pool.submit(_verify_batch, self.batch))
            self.batch = []

    def first_failure(self, *, upto: int | None) -> int | None:
        self._submit()
        failures = [f.result() for f in self.futures]
        # At the same index the signature is checked first, as the inline verifier does.
        bad = [i for i in failures if i is not None and (upto is None or i <= upto)]
        return min(bad) if bad else None

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def verify_stream(verifier: ChainVerifier, transactions, blocks, *, validators=None) -> None:
    """Feed `transactions` (index order) and `blocks` (height order) to `verifier`.

    Each block is checked as soon as the log reaches its tree size.
    """
    try:
        _feed(verifier, transactions, blocks, validators)
    finally:
        verifier.close()


def default_workers(size: int) -> int:
    """Processes for signature checks: every core for a large log, none for a small one
    (starting a pool costs more than checking a few thousand signatures)."""
    return (os.cpu_count() or 1) if size >= 20_000 else 0


def _feed(verifier: ChainVerifier, transactions, blocks, validators) -> None:
    blocks = iter(blocks)
    pending = next(blocks, None)
    for tx in transactions:
        while pending is not None and pending["tree_size"] <= verifier.tree.size:
            verifier.add_block(pending, validators=validators)
            pending = next(blocks, None)
        try:
            verifier.add_transaction(tx)
        except VerificationFailed as error:
            # Name the block that seals the bad transaction, when there is one.
            if pending is not None and error.failure.height is None:
                failure = error.failure
                raise VerificationFailed(
                    Failure(failure.reason, index=failure.index, height=pending.get("height"))
                ) from error
            raise
    while pending is not None:
        verifier.add_block(pending, validators=validators)
        pending = next(blocks, None)
    verifier.finish()

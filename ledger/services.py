"""The only code that writes to the ledger.

Domain services call `ledger_append` (custodial signer) or `ledger_append_signed`
(pre-signed by a self-custody client) inside their own `transaction.atomic()`, so the state
change and its ledger transaction commit together or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import merkle
from .canonical import UnsafeJson, canonical_json
from .checkpoint import note_body, signature_line
from .didkey import InvalidDid, public_key_from_did
from .errors import (
    BadKind,
    BadSignature,
    ReplayedTransaction,
    StaleTransaction,
    UnknownActor,
    UnknownChain,
    UnsafePayload,
)
from .models import NETWORK_CHAIN_SLUG, Actor, Block, BlockSignature, Chain, MerkleNode, Transaction
from .privacy import assert_no_personal_data
from .selectors import chain_schedule, db_fetch
from .signing import (
    KeySigner,
    Signer,
    checkpoint_origin,
    custodial_signers,
    platform_validator,
)
from .timefmt import format_timestamp, parse_timestamp

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,5}$")
GENESIS_PREV_HASH = "0" * 64


@dataclass(frozen=True)
class PreparedTransaction:
    """What a signer signs: the canonical bytes of the transaction's fields."""

    chain: str
    kind: str
    actor: str
    payload: dict
    created_at: str
    moment: datetime | None = field(default=None, compare=False, repr=False)

    @property
    def fields(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "kind": self.kind,
            "actor": self.actor,
            "payload": self.payload,
            "created_at": self.created_at,
        }

    @functools.cached_property
    def signing_bytes(self) -> bytes:
        return canonical_json(self.fields)


def _chain(chain: Chain | str) -> Chain:
    if isinstance(chain, Chain):
        return chain
    found = Chain.objects.filter(slug=chain).first()
    if found is None and chain == NETWORK_CHAIN_SLUG:
        # A migration creates it; this covers databases flushed since (transactional tests).
        found, _ = Chain.objects.get_or_create(
            slug=NETWORK_CHAIN_SLUG, defaults={"name": "SMART B network"}
        )
    if found is None:
        raise UnknownChain()
    return found


@transaction.atomic
def chain_create(*, slug: str, name: str, actor: Signer | None = None) -> Chain:
    """Create a chain, or return the existing one with this slug (idempotent).

    The network chain records the creation, signed by `actor` (default: the platform
    validator), so anyone can list every chain that ever existed.
    """
    chain, created = Chain.objects.get_or_create(slug=slug, defaults={"name": name})
    if created and slug != NETWORK_CHAIN_SLUG:
        actor = actor or platform_validator()
        actor_register(did=actor.did)
        ledger_append(
            chain=NETWORK_CHAIN_SLUG,
            actor=actor,
            kind="ledger.chain.create",
            payload={"chain": slug},
        )
    return chain


def actor_register(*, did: str) -> Actor:
    """Accept signatures from `did` (idempotent). The public key is the one inside the DID."""
    try:
        public_key = public_key_from_did(did)
    except InvalidDid as error:
        raise UnknownActor(str(error)) from error
    actor, _ = Actor.objects.get_or_create(did=did, defaults={"public_key": public_key.hex()})
    return actor


def actor_deactivate(*, did: str) -> None:
    """Refuse further signatures from `did`; its past transactions stay valid."""
    Actor.objects.filter(did=did, active=True).update(active=False, deactivated_at=timezone.now())


def transaction_prepare(
    *,
    chain: Chain | str,
    actor_did: str,
    kind: str,
    payload: dict,
    created_at: datetime | None = None,
) -> PreparedTransaction:
    """Validate a transaction's fields and give the canonical bytes its actor must sign."""
    chain = _chain(chain)
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise BadKind()
    if not isinstance(payload, dict):
        raise UnsafePayload("the payload is a JSON object")
    try:
        canonical_json(payload)
    except UnsafeJson as error:
        raise UnsafePayload(str(error)) from error
    assert_no_personal_data(payload)
    moment = created_at or timezone.now()
    return PreparedTransaction(
        chain=chain.slug,
        kind=kind,
        actor=actor_did,
        payload=payload,
        created_at=format_timestamp(moment),
        moment=moment,
    )


def ledger_append(*, chain: Chain | str, actor: Signer, kind: str, payload: dict) -> Transaction:
    """Sign with `actor` (custodial key or validator) and append. See `ledger_append_signed`."""
    return ledger_append_many(chain=chain, entries=[(actor, kind, payload)])[0]


def ledger_append_many(
    *, chain: Chain | str, entries: Sequence[tuple[Signer, str, dict]]
) -> list[Transaction]:
    """Append several transactions to one chain, in order, under one lock: all or none.

    For batch work (imports, a service's batch of claims): the chain head is locked once and
    rows are written in bulk, so the cost per transaction is mostly signing and hashing.
    """
    signed, signers = [], []
    for actor, kind, payload in entries:
        prepared = transaction_prepare(chain=chain, actor_did=actor.did, kind=kind, payload=payload)
        signed.append((prepared, actor.sign(prepared.signing_bytes)))
        signers.append(id(actor))
    return _sync_head(chain, _append(signed, check_freshness=False, signers=signers))


def ledger_append_signed(
    *,
    chain: Chain | str,
    actor_did: str,
    kind: str,
    payload: dict,
    created_at: str,
    signature: bytes,
) -> Transaction:
    """Append a transaction a self-custody client signed itself.

    Refuses (writing nothing) an unknown or inactive actor, a signature that does not
    verify over the canonical bytes, a payload that is not JSON-safe or holds free text, a
    `created_at` outside the freshness window, and a replay of a recorded transaction.
    """
    try:
        moment = parse_timestamp(created_at)
    except ValueError as error:
        raise StaleTransaction(str(error)) from error
    prepared = transaction_prepare(
        chain=chain, actor_did=actor_did, kind=kind, payload=payload, created_at=moment
    )
    return _sync_head(chain, _append([(prepared, signature)], check_freshness=True))[0]


def _sync_head(chain: Chain | str, entries: list[Transaction]) -> list[Transaction]:
    """Keep a caller's Chain instance in step with the head the append moved."""
    if isinstance(chain, Chain) and entries:
        chain.size = entries[-1].chain.size
    return entries


def _check_signatures(
    signed: list[tuple[PreparedTransaction, bytes]], *, signers: list[int] | None = None
) -> None:
    """Every actor must be registered and active, and its signatures must verify.

    `signers` identifies the Signer object behind each signature the platform has just made
    itself: one verification per signer proves its key is its DID's key, and the rest of its
    signatures come from that same key. Signatures from outside are all verified.
    """
    dids = {prepared.actor for prepared, _ in signed}
    keys = dict(Actor.objects.filter(did__in=dids, active=True).values_list("did", "public_key"))
    verifiers = {
        did: Ed25519PublicKey.from_public_bytes(bytes.fromhex(k)) for did, k in keys.items()
    }
    checked: set[int] = set()
    for position, (prepared, signature) in enumerate(signed):
        verifier = verifiers.get(prepared.actor)
        if verifier is None:
            raise UnknownActor()
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise BadSignature("an Ed25519 signature is 64 bytes")
        signer = signers[position] if signers is not None else None
        if signer is not None and signer in checked:
            continue
        try:
            verifier.verify(signature, prepared.signing_bytes)
        except InvalidSignature as error:
            raise BadSignature() from error
        if signer is not None:
            checked.add(signer)


def _check_freshness(prepared: PreparedTransaction) -> None:
    moment = parse_timestamp(prepared.created_at)
    window = timedelta(seconds=settings.SMARTB_SIGNATURE_MAX_AGE_SECONDS)
    now = timezone.now()
    if not now - window <= moment <= now + timedelta(seconds=30):
        raise StaleTransaction()


def _append(
    signed: list[tuple[PreparedTransaction, bytes]],
    *,
    check_freshness: bool,
    signers: list[int] | None = None,
) -> list[Transaction]:
    if not signed:
        return []
    slug = signed[0][0].chain
    if any(prepared.chain != slug for prepared, _ in signed):
        raise UnknownChain("one batch appends to one chain")
    # Verify before taking the lock: signature checks are the expensive part.
    _check_signatures(signed, signers=signers)
    if check_freshness:
        for prepared, _ in signed:
            _check_freshness(prepared)
    rows = []
    for prepared, signature in signed:
        raw = prepared.signing_bytes + signature
        rows.append((prepared, signature, hashlib.sha256(raw).hexdigest(), merkle.leaf_hash(raw)))
    with transaction.atomic():
        chain = Chain.objects.select_for_update().get(slug=slug)
        start = chain.size
        entries = [
            Transaction(
                chain=chain,
                index=start + offset,
                kind=prepared.kind,
                actor=prepared.actor,
                payload=prepared.payload,
                created_at=prepared.moment or parse_timestamp(prepared.created_at),
                signature=signature.hex(),
                tx_hash=tx_hash,
                leaf_hash=leaf.hex(),
            )
            for offset, (prepared, signature, tx_hash, leaf) in enumerate(rows)
        ]
        try:
            with transaction.atomic():
                Transaction.objects.bulk_create(entries)
        except IntegrityError as error:  # tx_hash is unique: these signed bytes exist already
            raise ReplayedTransaction() from error
        _store_new_nodes(chain, start, [leaf for *_, leaf in rows])
        chain.size = start + len(entries)
        chain.save(update_fields=["size"])
    if chain.pending_count >= settings.SMARTB_SEAL_BATCH_SIZE:
        from smartb.outbox import outbox_enqueue

        from .tasks import seal_chain

        outbox_enqueue(seal_chain, chain.pk)
    return entries


def _store_new_nodes(chain: Chain, start: int, leaves: list[bytes]) -> None:
    """Store every complete subtree the new leaves close, reading only the left siblings
    that predate the batch (at most one per level, in one query)."""
    plan = [
        (start + offset, merkle.new_nodes_for_leaf(start + offset)) for offset in range(len(leaves))
    ]
    produced = {(0, index) for index, _ in plan}
    older: set[merkle.NodeKey] = set()
    for _, closes in plan:
        for parent, left, _right in closes:
            if left not in produced:
                older.add(left)
            produced.add(parent)
    known = db_fetch(chain, older) if older else {}
    rows = []
    for (index, closes), leaf in zip(plan, leaves, strict=True):
        known[(0, index)] = leaf
        for parent, left, right in closes:
            known[parent] = merkle.node_hash(known[left], known[right])
            rows.append(
                MerkleNode(chain=chain, level=parent[0], index=parent[1], hash=known[parent].hex())
            )
    if rows:
        MerkleNode.objects.bulk_create(rows)


def chain_seal(*, chain: Chain | str, validator: KeySigner | None = None) -> Block | None:
    """Seal the pending transactions into a block, signed by every validator the platform
    can sign for: the platform validator when it belongs to the set in force at the block's
    height, and the custodial validators (`signing.custodial_signers`). Self-custody
    validators sign later through the API (`ledger.validators.block_signature_submit`).

    The block is final at once when those signatures reach the quorum; otherwise it awaits
    the others. `validator` replaces the platform validator as the platform's own signer
    (tests, benchmarks). Idempotent: with nothing pending it returns None and writes nothing;
    a seal that fails halfway rolls back whole, so running it again gives the same chain.
    """
    with transaction.atomic():
        chain = Chain.objects.select_for_update().get(pk=_chain(chain).pk)
        if chain.size == chain.sealed_size:
            return None
        size = chain.size
        block = Block(
            chain=chain,
            height=chain.block_count,
            prev_hash=chain.head_block_hash or GENESIS_PREV_HASH,
            tree_size=size,
            root=merkle.root(size, lambda keys: db_fetch(chain, keys)).hex(),
            sealed_at=timezone.now(),
        )
        header_bytes = canonical_json(block.header(chain.slug))
        block.block_hash = hashlib.sha256(header_bytes).hexdigest()
        validator_set = chain_schedule(chain=chain).at(block.height)
        signers = _platform_signers(validator_set, validator)
        signed = sum(1 for signer in signers if signer.did in validator_set)
        if signed >= validator_set.quorum:
            block.final_at = block.sealed_at
        block.save()
        origin = checkpoint_origin(chain.slug)
        note = note_body(origin, size, bytes.fromhex(block.root)).encode()
        for signer in signers:
            BlockSignature.objects.create(
                **block_signature_fields(signer, header_bytes, note, origin), block=block
            )
        chain.sealed_size = size
        chain.block_count += 1
        chain.head_block_hash = block.block_hash
        chain.save(update_fields=["sealed_size", "block_count", "head_block_hash"])
    return block


def _platform_signers(validator_set, validator: KeySigner | None) -> list[Signer]:
    """The platform's own validator (or the one given), then the custodial members."""
    own = validator or platform_validator()
    signers: list[Signer] = [own] if validator is not None or own.did in validator_set else []
    others = [did for did in validator_set.members if did != own.did]
    if others:
        custodial = custodial_signers(others)
        signers += [custodial[did] for did in others if did in custodial]
    return signers


def block_signature_fields(signer: Signer, header_bytes: bytes, note: bytes, origin: str) -> dict:
    """`signer`'s two signatures of a block: over its JCS header and its checkpoint note."""
    public_key = public_key_from_did(signer.did)
    line = signature_line(origin, public_key, signer.sign(note))
    return {
        "validator": signer.did,
        "key_name": origin,
        "header_signature": signer.sign(header_bytes).hex(),
        "note_signature": line.rstrip("\n").rsplit(" ", 1)[1],
    }

"""Validator sets, block signatures from outside, finality and equivocation evidence.

The only writers of `ValidatorChange`, `BlockSignature` (besides `chain_seal`) and
`Equivocation`. Governance decides a city's set (an accepted `amend_rules`) and calls
`validator_set_schedule`; the ledger never imports governance.

A block signature is not a ledger transaction: it is part of the block it signs (a
transaction per signature would need a block of its own, and signatures for that block...).
`ledger_verify` and `ledger.verify_bundle` check every one of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from .canonical import UnsafeJson, canonical_json
from .checkpoint import key_id, note_body
from .didkey import InvalidDid, public_key_from_did
from .errors import (
    BadSignature,
    InvalidEvidence,
    InvalidValidatorChange,
    NotAValidator,
    RotationPending,
    StaleTransaction,
    UnknownChain,
)
from .models import Block, BlockSignature, Chain, Equivocation, ValidatorChange
from .quorum import (
    CHANGE_KINDS,
    EQUIVOCATION_KIND,
    ROTATE_KIND,
    SET_KIND,
    InvalidValidatorSet,
    ValidatorSet,
    check_set,
    parse_change,
    successor_statement,
)
from .selectors import chain_schedule
from .services import (
    PreparedTransaction,
    actor_register,
    ledger_append,
    ledger_append_signed,
    transaction_prepare,
)
from .signing import Signer, checkpoint_origin, custodial_signers, platform_validator
from .timefmt import parse_timestamp

HEADER_FIELDS = ("chain", "height", "prev_hash", "tree_size", "root", "sealed_at")


def _locked_chain(chain: Chain | str) -> Chain:
    slug = chain.slug if isinstance(chain, Chain) else chain
    return Chain.objects.select_for_update().get(slug=slug)


def _effective_height(chain: Chain, effective_height: int | None) -> int:
    """The change is sealed in the next block (height `block_count`), signed by the set in
    force; it can take effect from the block after that, never earlier."""
    first_allowed = chain.block_count + 1
    if effective_height is None:
        return first_allowed
    if type(effective_height) is not int or effective_height < first_allowed:
        raise InvalidValidatorChange(
            f"the change is sealed in block {chain.block_count}: it takes effect from "
            f"height {first_allowed} or later"
        )
    return effective_height


@transaction.atomic
def validator_set_schedule(
    *,
    chain: Chain | str,
    members: list[str],
    quorum: int,
    actor: Signer,
    effective_height: int | None = None,
) -> ValidatorChange:
    """Record that `members` validate `chain`, `quorum` of them finalising a block, from
    `effective_height` (default: the first height after the block that seals this change).

    `actor` signs the `ledger.validators.set` transaction (the city's DID after an accepted
    vote; the operator's on the network chain): deciding who may change the set is the
    caller's business. Refuses, writing nothing: a DID that is not a did:key, a duplicate,
    a quorum outside 1..n or not above n/2, a height not above the next block's.
    """
    chain = _locked_chain(chain)
    height = _effective_height(chain, effective_height)
    try:
        validator_set = check_set(members, quorum, majority=True)
    except InvalidValidatorSet as error:
        raise InvalidValidatorChange(str(error)) from error
    payload = {
        "members": list(validator_set.members),
        "quorum": validator_set.quorum,
        "effective_height": height,
    }
    entry = ledger_append(chain=chain, actor=actor, kind=SET_KIND, payload=payload)
    return ValidatorChange.objects.create(
        chain=chain,
        effective_height=height,
        kind=SET_KIND,
        members=payload["members"],
        quorum=validator_set.quorum,
        entry=entry,
    )


def _rotation_check(chain: Chain, *, validator: str, successor: str, height: int) -> None:
    """Refuse a rotation of `validator` to `successor` from `height`, for the reason the
    caller can act on: a DID that is not a did:key or a successor already validating (400),
    a rotation of this key or to this successor already scheduled (409), a validator not in
    the set in force at that height (403)."""
    for did, what in ((validator, "the validator"), (successor, "the successor")):
        try:
            public_key_from_did(did)
        except (InvalidDid, TypeError) as error:
            raise InvalidValidatorChange(f"{what} is not a did:key") from error
    schedule = chain_schedule(chain=chain)
    for change in schedule.upcoming(chain.block_count - 1):
        if change.kind == ROTATE_KIND and validator == change.validator:
            raise RotationPending(
                f"this validator's key is already rotated from block {change.effective_height}"
            )
        if change.kind == ROTATE_KIND and successor == change.successor:
            raise RotationPending(
                f"a rotation to this successor is already scheduled from block "
                f"{change.effective_height}"
            )
    in_force = schedule.at(height)
    if successor in in_force:
        raise InvalidValidatorChange("the successor is a validator already")
    if validator not in in_force:
        raise NotAValidator()


def _rotation_payload(*, validator: str, successor: str, height: int) -> dict:
    return {"validator": validator, "successor": successor, "effective_height": height}


def _successor_signer(successor: Signer | str) -> Signer:
    if not isinstance(successor, str):
        return successor
    signer = custodial_signers([successor]).get(successor)
    if signer is None:
        raise InvalidValidatorChange(
            "the platform does not hold the successor's key, so it cannot sign the successor's "
            "statement: rotate through the API, the successor signing it"
        )
    return signer


@transaction.atomic
def validator_key_rotate(
    *,
    chain: Chain | str,
    validator: Signer,
    successor: Signer | str,
    effective_height: int | None = None,
) -> ValidatorChange:
    """Replace `validator`'s DID by `successor` in the chain's sets from `effective_height`,
    when the platform holds both keys.

    Signed by the old key itself (`ledger.validators.rotate`), which names the new DID:
    blocks below the height verify with the old key, blocks from it with the new one. The
    new key signs its statement (`rotation_successor_statement`) over the recorded
    transaction, kept as `successor_signature` as for a self-custody rotation. `successor`
    is the new key's Signer, or a DID whose key the platform holds (custodial). Refuses,
    writing nothing: a successor key the platform does not hold (400), and see
    `_rotation_check` (one rotation of a key at a time).
    """
    chain = _locked_chain(chain)
    height = _effective_height(chain, effective_height)
    successor_did = successor if isinstance(successor, str) else successor.did
    _rotation_check(chain, validator=validator.did, successor=successor_did, height=height)
    new_key = _successor_signer(successor)
    actor_register(did=validator.did)
    payload = _rotation_payload(validator=validator.did, successor=successor_did, height=height)
    entry = ledger_append(chain=chain, actor=validator, kind=ROTATE_KIND, payload=payload)
    statement = rotation_successor_statement(
        chain=chain.slug,
        validator=validator.did,
        successor=successor_did,
        effective_height=height,
        created_at=entry.created_at_text,
    )
    proof = new_key.sign(statement)
    if not _verifies(successor_did, proof, statement):
        raise BadSignature("the successor's key does not match its DID")
    return ValidatorChange.objects.create(
        chain=chain,
        effective_height=height,
        kind=ROTATE_KIND,
        validator=validator.did,
        successor=successor_did,
        successor_signature=proof.hex(),
        entry=entry,
    )


def rotation_successor_statement(
    *, chain: str, validator: str, successor: str, effective_height: int, created_at: str
) -> bytes:
    """The bytes a successor key signs to show it is held by whoever asks for the rotation.

    The RFC 8785 canonical JSON of the rotation and its time, under its own `purpose`, so
    this signature can never be taken for the signature of a transaction or a block (see
    `quorum.successor_statement`, which the offline verifier uses too). The signature is
    kept (`ValidatorChange.successor_signature`), so `ledger_verify` and the bundle
    verifier check it again from the transaction."""
    try:
        return successor_statement(
            chain=chain,
            validator=validator,
            successor=successor,
            effective_height=effective_height,
            created_at=created_at,
        )
    except UnsafeJson as error:
        raise InvalidValidatorChange(
            f"the rotation is not JSON the ledger can sign: {error}"
        ) from error


@dataclass(frozen=True)
class PreparedRotation:
    """What a self-custody validator signs to rotate its key: the transaction, with the old
    key, and the successor's statement, with the new one."""

    transaction: PreparedTransaction
    successor_statement: bytes

    @property
    def effective_height(self) -> int:
        return self.transaction.payload["effective_height"]


def _chain_row(chain: Chain | str, *, lock: bool) -> Chain:
    slug = chain.slug if isinstance(chain, Chain) else chain
    rows = Chain.objects.select_for_update() if lock else Chain.objects
    found = rows.filter(slug=slug).first()
    if found is None:
        raise UnknownChain()
    return found


def validator_key_rotate_prepare(
    *,
    chain: Chain | str,
    validator: str,
    successor: str,
    effective_height: int | None = None,
) -> PreparedRotation:
    """The bytes a self-custody validator and its successor sign to rotate the validator's
    key (see `validator_key_rotate_signed`), after the same checks; writes nothing."""
    chain = _chain_row(chain, lock=False)
    height = _effective_height(chain, effective_height)
    _rotation_check(chain, validator=validator, successor=successor, height=height)
    prepared = transaction_prepare(
        chain=chain,
        actor_did=validator,
        kind=ROTATE_KIND,
        payload=_rotation_payload(validator=validator, successor=successor, height=height),
    )
    statement = rotation_successor_statement(
        chain=chain.slug,
        validator=validator,
        successor=successor,
        effective_height=height,
        created_at=prepared.created_at,
    )
    return PreparedRotation(prepared, statement)


@transaction.atomic
def validator_key_rotate_signed(
    *,
    chain: Chain | str,
    validator: str,
    successor: str,
    effective_height: int,
    created_at: str,
    signature,
    successor_signature,
) -> ValidatorChange:
    """Rotate a self-custody validator's key with signatures made outside the platform.

    `signature` is the old key's over the prepared `ledger.validators.rotate` transaction
    (it becomes the transaction's signature), `successor_signature` the new key's over
    `rotation_successor_statement`, so nobody rotates to a key they cannot sign with (kept
    as `successor_signature`, checked again by every verifier). Both raw Ed25519, hex or
    base64. Refuses, writing nothing: a signature that does not verify
    or a `created_at` outside the freshness window (400), an `effective_height` the chain
    has sealed past since the prepare (400), what `_rotation_check` refuses (400/403/409),
    a replay of the recorded transaction (409).
    """
    old_raw, new_raw = decode_signature(signature), decode_signature(successor_signature)
    payload = _rotation_payload(validator=validator, successor=successor, height=effective_height)
    if type(effective_height) is not int:
        raise InvalidValidatorChange("effective_height is the whole number of the prepare")
    if not _verifies(
        validator, old_raw, _rotation_signing_bytes(chain, validator, payload, created_at)
    ):
        raise BadSignature("the validator's signature does not verify over the prepared rotation")
    statement = rotation_successor_statement(
        chain=chain.slug if isinstance(chain, Chain) else chain,
        validator=validator,
        successor=successor,
        effective_height=effective_height,
        created_at=created_at,
    )
    if not _verifies(successor, new_raw, statement):
        raise BadSignature("the successor's signature does not verify over its statement")
    chain = _chain_row(chain, lock=True)
    height = _effective_height(chain, effective_height)
    _rotation_check(chain, validator=validator, successor=successor, height=height)
    actor_register(did=validator)
    entry = ledger_append_signed(
        chain=chain,
        actor_did=validator,
        kind=ROTATE_KIND,
        payload=payload,
        created_at=created_at,
        signature=old_raw,
    )
    return ValidatorChange.objects.create(
        chain=chain,
        effective_height=height,
        kind=ROTATE_KIND,
        validator=validator,
        successor=successor,
        successor_signature=new_raw.hex(),
        entry=entry,
    )


def _rotation_signing_bytes(chain: Chain | str, validator: str, payload: dict, created_at: str):
    """The canonical bytes of the rotation transaction as the validator prepared it."""
    try:
        moment = parse_timestamp(created_at)
    except (TypeError, ValueError) as error:
        raise StaleTransaction(str(error)) from error
    return transaction_prepare(
        chain=chain, actor_did=validator, kind=ROTATE_KIND, payload=payload, created_at=moment
    ).signing_bytes


def decode_signature(value) -> bytes:
    """A 64-byte Ed25519 signature given as hex or base64 (standard or URL-safe)."""
    if isinstance(value, bytes):
        raw = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        try:
            if len(text) == 128:
                raw = bytes.fromhex(text)
            else:
                padded = text + "=" * (-len(text) % 4)
                raw = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (ValueError, binascii.Error) as error:
            raise BadSignature("the signature is neither hex nor base64") from error
    if len(raw) != 64:
        raise BadSignature("an Ed25519 signature is 64 bytes")
    return raw


def _verifies(did: str, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key_from_did(did)).verify(signature, message)
    except (InvalidSignature, InvalidDid, ValueError):
        return False
    return True


def _refresh_finality(block: Block, validator_set: ValidatorSet) -> bool:
    if block.final_at is not None:
        return True
    signed = (
        BlockSignature.objects.filter(block=block, validator__in=validator_set.members)
        .values("validator")
        .distinct()
        .count()
    )
    if signed >= validator_set.quorum:
        block.final_at = timezone.now()
        block.save(update_fields=["final_at"])
        return True
    return False


@dataclass(frozen=True)
class SubmittedSignature:
    signature: BlockSignature | None
    created: bool
    final: bool
    evidence: Equivocation | None = None


def block_signature_submit(
    *,
    chain: Chain | str,
    height: int,
    validator: str,
    header_signature,
    note_signature,
    header: dict | None = None,
) -> SubmittedSignature:
    """Add a self-custody validator's signatures of the block at `height`.

    `header_signature` signs the block's JCS header, `note_signature` the body of its C2SP
    checkpoint note (raw Ed25519, hex or base64). Refuses: a DID outside the set in force at
    that height (NotAValidator, 403), a signature that does not verify (BadSignature, 400).
    The same validator signing again is a no-op. A `header` for that height other than the
    block's, validly signed by a validator who also signed the block's, is equivocation: the
    evidence is recorded and returned (`evidence`), nothing else changes.
    """
    header_raw = decode_signature(header_signature)
    note_raw = decode_signature(note_signature)
    with transaction.atomic():
        chain_row = Chain.objects.filter(
            slug=chain.slug if isinstance(chain, Chain) else chain
        ).first()
        block = (
            Block.objects.select_for_update().filter(chain=chain_row, height=height).first()
            if chain_row is not None
            else None
        )
        if block is None:
            raise Http404("no such block")
        validator_set = chain_schedule(chain=chain_row).at(block.height)
        if validator not in validator_set:
            raise NotAValidator()
        own_header = block.header(chain_row.slug)
        existing = BlockSignature.objects.filter(block=block, validator=validator).first()
        if header is not None and header != own_header:
            if not isinstance(header, dict) or header.get("height") != block.height:
                raise BadSignature("the header is not one of this chain at this height")
            if not _verifies(validator, header_raw, _header_bytes(header)):
                raise BadSignature("the header signature does not verify")
            if existing is None:
                raise BadSignature("this header is not the block's: nothing to sign")
            pending = (own_header, existing.header_signature, header, header_raw.hex())
        else:
            pending = None
            header_bytes = canonical_json(own_header)
            if not _verifies(validator, header_raw, header_bytes):
                raise BadSignature("the header signature does not verify")
            origin = checkpoint_origin(chain_row.slug)
            note = note_body(origin, block.tree_size, bytes.fromhex(block.root)).encode()
            if not _verifies(validator, note_raw, note):
                raise BadSignature("the checkpoint note signature does not verify")
            if existing is not None:
                return SubmittedSignature(existing, False, block.final_at is not None)
            blob = key_id(origin, public_key_from_did(validator)) + note_raw
            signature = BlockSignature.objects.create(
                block=block,
                validator=validator,
                key_name=origin,
                header_signature=header_raw.hex(),
                note_signature=base64.b64encode(blob).decode(),
            )
            final = _refresh_finality(block, validator_set)
            return SubmittedSignature(signature, True, final)
    evidence, _ = equivocation_record(
        chain=chain_row,
        validator=validator,
        header_a=pending[0],
        signature_a=pending[1],
        header_b=pending[2],
        signature_b=pending[3],
    )
    return SubmittedSignature(existing, False, block.final_at is not None, evidence)


def _header_bytes(header: dict) -> bytes:
    if not isinstance(header, dict) or set(header) != set(HEADER_FIELDS):
        raise InvalidEvidence(f"a block header has exactly the fields {', '.join(HEADER_FIELDS)}")
    try:
        return canonical_json(header)
    except UnsafeJson as error:
        raise InvalidEvidence(f"the header is not JSON the ledger can sign: {error}") from error


def equivocation_record(
    *,
    chain: Chain | str,
    validator: str,
    header_a: dict,
    signature_a,
    header_b: dict,
    signature_b,
) -> tuple[Equivocation, bool]:
    """Keep evidence that `validator` signed two different headers for one height.

    Accepted only when both headers name this chain and the same height, differ, both
    signatures verify with the validator's key, and the validator belongs to the set in
    force at that height. Idempotent: the same pair (in either order) returns the evidence
    already kept (created False). A `ledger.validators.equivocation` transaction, signed by
    the platform validator, records the height, the DID and the two headers' digests.
    """
    slug = chain.slug if isinstance(chain, Chain) else chain
    bytes_a, bytes_b = _header_bytes(header_a), _header_bytes(header_b)
    raw_a, raw_b = decode_signature(signature_a), decode_signature(signature_b)
    if header_a.get("chain") != slug or header_b.get("chain") != slug:
        raise InvalidEvidence("both headers name this chain")
    height = header_a.get("height")
    if type(height) is not int or height < 0 or header_b.get("height") != height:
        raise InvalidEvidence("both headers are for the same height")
    if bytes_a == bytes_b:
        raise InvalidEvidence("the two headers are the same")
    if not (_verifies(validator, raw_a, bytes_a) and _verifies(validator, raw_b, bytes_b)):
        raise BadSignature("both headers must be signed by the validator's key")
    digest_a = hashlib.sha256(bytes_a).hexdigest()
    digest_b = hashlib.sha256(bytes_b).hexdigest()
    if digest_b < digest_a:
        header_a, header_b, raw_a, raw_b = header_b, header_a, raw_b, raw_a
        digest_a, digest_b = digest_b, digest_a
    with transaction.atomic():
        chain_row = Chain.objects.filter(slug=slug).first()
        if chain_row is None:
            raise InvalidEvidence("no such chain")
        if validator not in chain_schedule(chain=chain_row).at(height):
            raise NotAValidator()
        found = Equivocation.objects.filter(
            chain=chain_row,
            validator=validator,
            height=height,
            digest_a=digest_a,
            digest_b=digest_b,
        ).first()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                evidence = Equivocation.objects.create(
                    chain=chain_row,
                    height=height,
                    validator=validator,
                    header_a=header_a,
                    signature_a=raw_a.hex(),
                    digest_a=digest_a,
                    header_b=header_b,
                    signature_b=raw_b.hex(),
                    digest_b=digest_b,
                )
        except IntegrityError:  # the same evidence, recorded by a concurrent request
            return Equivocation.objects.get(
                chain=chain_row,
                validator=validator,
                height=height,
                digest_a=digest_a,
                digest_b=digest_b,
            ), False
        platform = platform_validator()
        actor_register(did=platform.did)
        evidence.entry = ledger_append(
            chain=chain_row,
            actor=platform,
            kind=EQUIVOCATION_KIND,
            payload={
                "validator": validator,
                "height": height,
                "header_a": digest_a,
                "header_b": digest_b,
            },
        )
        evidence.save(update_fields=["entry"])
    return evidence, True


@transaction.atomic
def chain_validators_rebuild(
    *, chain: Chain | str, successor_signatures: dict[int, str] | None = None
) -> int:
    """Rebuild a chain's validator index from its own transactions, then mark final every
    block that reaches its quorum: after an import, whose rows arrive without either.

    `successor_signatures` maps a rotation's transaction index to its successor's statement
    signature (hex), as the bundle carries them (`ledger.export.bundle_successor_signatures`):
    they are kept on the rebuilt rows, unchecked here (`ledger_verify` checks them).
    Idempotent. Returns how many blocks became final."""
    successor_signatures = successor_signatures or {}
    chain = _locked_chain(chain)
    indexed = set(ValidatorChange.objects.filter(chain=chain).values_list("entry_id", flat=True))
    rows = []
    for entry in chain.entries.filter(kind__in=CHANGE_KINDS).order_by("index"):
        if entry.pk in indexed:
            continue
        try:
            change = parse_change(
                kind=entry.kind, actor=entry.actor, payload=entry.payload, position=entry.index
            )
        except InvalidValidatorSet as error:
            raise InvalidValidatorChange(f"transaction {entry.index}: {error}") from error
        rows.append(
            ValidatorChange(
                chain=chain,
                effective_height=change.effective_height,
                kind=change.kind,
                members=list(change.members),
                quorum=change.quorum,
                validator=change.validator,
                successor=change.successor,
                successor_signature=(
                    successor_signatures.get(entry.index, "") if change.kind == ROTATE_KIND else ""
                ),
                entry=entry,
            )
        )
    ValidatorChange.objects.bulk_create(rows)
    return blocks_finality_refresh(chain=chain)


@transaction.atomic
def blocks_finality_refresh(*, chain: Chain | str) -> int:
    """Mark final every block of `chain` whose signatures reach its quorum (after an import,
    whose blocks arrive without that mark). Returns how many became final."""
    chain = _locked_chain(chain)
    schedule = chain_schedule(chain=chain)
    now = timezone.now()
    count = 0
    for block in chain.blocks.filter(final_at__isnull=True).prefetch_related("signatures"):
        validator_set = schedule.at(block.height)
        signed = {sig.validator for sig in block.signatures.all()} & set(validator_set.members)
        if len(signed) >= validator_set.quorum:
            block.final_at = now
            block.save(update_fields=["final_at"])
            count += 1
    return count

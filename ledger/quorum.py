"""Validator sets and quorums of a chain (standard library only).

Shared by the database side (sealing, the pages, `ledger_verify`) and the offline bundle
verifier, so both rebuild the same set in force at every block height.

A chain starts with a genesis set (the platform validator alone, quorum 1, unless the chain
recorded otherwise). Two kinds of ledger transaction change it from a stated block height:

- `ledger.validators.set`, payload `{"members": [did, ...], "quorum": k,
  "effective_height": h}`: the whole set is replaced from height h;
- `ledger.validators.rotate`, payload `{"validator": old, "successor": new,
  "effective_height": h}`, signed by the old key itself: from height h the new DID takes the
  old one's place in every set.

The successor proves it holds the new key by signing `successor_statement` (RFC 8785 JSON of
the rotation and its transaction's `created_at`, under its own purpose). That signature is
kept beside the transaction (`ValidatorChange.successor_signature`, the bundle's
`successor_signature` on the rotation's row), not inside it: the signed transaction format
is unchanged, and the verifiers check the signature when it is there.

A change must be sealed in a block below its effective height, so the validators in force
when it was recorded signed it. A block is final when at least `quorum` members of the set in
force at its height signed its header (and its checkpoint note).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .canonical import jcs_stdlib
from .didkey import InvalidDid, public_key_from_did

SET_KIND = "ledger.validators.set"
ROTATE_KIND = "ledger.validators.rotate"
EQUIVOCATION_KIND = "ledger.validators.equivocation"
CHANGE_KINDS = (SET_KIND, ROTATE_KIND)
# What a successor key signs to show it is held by whoever rotates to it (not a ledger kind).
ROTATION_SUCCESSOR_PURPOSE = "ledger.validators.rotate.successor"
MAX_MEMBERS = 64


class InvalidValidatorSet(ValueError):
    """A set or a change that cannot be in force: the message says why."""


@dataclass(frozen=True)
class ValidatorSet:
    members: tuple[str, ...]
    quorum: int

    def __contains__(self, did: object) -> bool:
        return did in self.members

    @property
    def size(self) -> int:
        return len(self.members)

    def as_dict(self) -> dict:
        return {"members": list(self.members), "quorum": self.quorum}


@dataclass(frozen=True)
class Change:
    """One recorded change, in force from `effective_height`; `position` is its transaction
    index (ties at one height apply in log order)."""

    effective_height: int
    position: int
    kind: str
    members: tuple[str, ...] = ()
    quorum: int = 0
    validator: str = ""
    successor: str = ""

    def apply(self, current: ValidatorSet) -> ValidatorSet:
        if self.kind == SET_KIND:
            return ValidatorSet(self.members, self.quorum)
        if self.validator not in current.members or self.successor in current.members:
            return current
        members = tuple(self.successor if m == self.validator else m for m in current.members)
        return ValidatorSet(members, current.quorum)


def _did(value, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValidatorSet(f"{what} is not a did:key")
    try:
        public_key_from_did(value)
    except InvalidDid as error:
        raise InvalidValidatorSet(f"{what} is not a did:key: {error}") from error
    return value


def check_set(members, quorum, *, majority: bool = False) -> ValidatorSet:
    """A valid set: distinct did:key DIDs, 1 <= quorum <= size (and > size/2 if `majority`)."""
    if not isinstance(members, list | tuple) or not members:
        raise InvalidValidatorSet("a validator set names at least one DID")
    if len(members) > MAX_MEMBERS:
        raise InvalidValidatorSet(f"a validator set has at most {MAX_MEMBERS} members")
    clean = tuple(_did(m, "a validator") for m in members)
    if len(set(clean)) != len(clean):
        raise InvalidValidatorSet("a validator appears twice in the set")
    if type(quorum) is not int or not 1 <= quorum <= len(clean):
        raise InvalidValidatorSet(f"the quorum is a whole number from 1 to {len(clean)}")
    if majority and quorum * 2 <= len(clean):
        raise InvalidValidatorSet(
            f"the quorum must be more than half of the {len(clean)} validators, so two "
            "disjoint quorums can never finalise different blocks at one height"
        )
    return ValidatorSet(clean, quorum)


def parse_change(*, kind: str, actor: str, payload, position: int) -> Change:
    """The change a `ledger.validators.*` transaction records; raises InvalidValidatorSet."""
    if not isinstance(payload, dict):
        raise InvalidValidatorSet("a validator change is a JSON object")
    height = payload.get("effective_height")
    if type(height) is not int or height < 1:
        raise InvalidValidatorSet("effective_height is a positive whole number")
    if kind == SET_KIND:
        validator_set = check_set(payload.get("members"), payload.get("quorum"))
        return Change(height, position, kind, validator_set.members, validator_set.quorum)
    if kind == ROTATE_KIND:
        old = _did(payload.get("validator"), "the rotated validator")
        new = _did(payload.get("successor"), "the successor")
        if old == new:
            raise InvalidValidatorSet("a rotation names a new DID")
        if actor != old:
            raise InvalidValidatorSet("a rotation is signed by the old key itself")
        return Change(height, position, kind, validator=old, successor=new)
    raise InvalidValidatorSet(f"{kind} is not a validator change")


def successor_statement(
    *, chain: str, validator: str, successor: str, effective_height: int, created_at: str
) -> bytes:
    """The bytes a rotation's successor key signs: the RFC 8785 canonical JSON of the
    rotation and its transaction's `created_at`, under its own `purpose`, so this signature
    can never be taken for the signature of a transaction or a block. Everything in it is
    in the rotation's transaction, so anyone holding the log can rebuild it."""
    return jcs_stdlib(
        {
            "purpose": ROTATION_SUCCESSOR_PURPOSE,
            "chain": chain,
            "validator": validator,
            "successor": successor,
            "effective_height": effective_height,
            "created_at": created_at,
        }
    )


class Schedule:
    """The genesis set and the changes recorded so far; `at(height)` is the set in force."""

    def __init__(self, genesis: ValidatorSet, changes: Iterable[Change] = ()) -> None:
        self.genesis = genesis
        self.changes: list[Change] = sorted(changes, key=lambda c: (c.effective_height, c.position))
        self._cache: dict[int, ValidatorSet] = {}

    def add(self, change: Change) -> None:
        self.changes.append(change)
        self.changes.sort(key=lambda c: (c.effective_height, c.position))
        self._cache.clear()

    def at(self, height: int) -> ValidatorSet:
        """The set in force at `height`: the genesis set with every change due by then."""
        cached = self._cache.get(height)
        if cached is not None:
            return cached
        current = self.genesis
        for change in self.changes:
            if change.effective_height > height:
                break
            current = change.apply(current)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[height] = current
        return current

    def upcoming(self, height: int) -> list[Change]:
        """Changes recorded to take effect after `height`."""
        return [c for c in self.changes if c.effective_height > height]

    def ever_members(self) -> set[str]:
        """Every DID that is or was or will be a validator of the chain."""
        dids = set(self.genesis.members)
        for change in self.changes:
            dids.update(change.members)
            if change.successor:
                dids.add(change.successor)
        return dids

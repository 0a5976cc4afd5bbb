"""C2SP `tlog-cosignature` (Ed25519, cosignature/v1) and the log-signature check a witness
runs before cosigning (standard library and `cryptography` only).

Spec: https://c2sp.org/tlog-cosignature (C2SP/C2SP, tlog-cosignature.md), on top of
https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint.

- A cosignature is a signed-note signature line appended to a checkpoint:
  "— <cosigner name> base64(key id (4) || timestamp (8, big-endian) || Ed25519 signature (64))".
- Key id: SHA-256(<name> || "\\n" || 0x04 || 32-byte Ed25519 public key)[:4] (0x04 is the
  cosignature/v1 signature type, where a log's own Ed25519 note key uses 0x01).
- Signed message: "cosignature/v1\\n" + "time <POSIX seconds, ASCII decimal, no leading
  zeroes>\\n" + the whole checkpoint body (origin, size, root and any extension lines, with
  the final newline, without signature lines).
- Meaning: as of that time, this is the consistent tree head with the largest size the
  cosigner has observed for the log named by the origin line.

The Ed25519 message does not commit to the cosigner's name, so one key must serve one cosigner
(here: a city's municipality DID witnesses under one name).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
)
from ledger.checkpoint import key_id as note_key_id

COSIGNATURE_V1_TYPE = b"\x04"
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
BLOB_LENGTH = 4 + 8 + 64


class CosignatureError(ValueError):
    """A cosignature that is malformed or does not verify."""


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 cosignature/v1 key."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_V1_TYPE + public_key).digest()[:4]


def signed_message(timestamp: int, body: str) -> bytes:
    """What the cosigner signs: header line, time line, the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError("the timestamp is outside 0 .. 2^63-1")
    if body.count("\n") < 3 or not body.endswith("\n"):
        raise CosignatureError("a checkpoint body has three newline-terminated lines at least")
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosignature_line(name: str, public_key: bytes, timestamp: int, signature: bytes) -> str:
    """The note signature line of a cosignature, newline included."""
    blob = cosigner_key_id(name, public_key) + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosigned:
    """A cosignature made or checked: its line and what it says."""

    name: str
    timestamp: int
    signature: bytes
    line: str


def cosign(*, body: str, name: str, public_key: bytes, sign, timestamp: int) -> Cosigned:
    """Cosign a checkpoint body with `sign` (bytes -> Ed25519 signature) at `timestamp`."""
    signature = sign(signed_message(timestamp, body))
    return Cosigned(
        name=name,
        timestamp=timestamp,
        signature=signature,
        line=cosignature_line(name, public_key, timestamp, signature),
    )


def cosignature_timestamp(blob_b64: str) -> int:
    """The timestamp inside a cosignature line's base64 blob."""
    try:
        raw = base64.b64decode(blob_b64, validate=True)
    except ValueError as error:
        raise CosignatureError("the cosignature is not base64") from error
    if len(raw) != BLOB_LENGTH:
        raise CosignatureError("an Ed25519 cosignature is 4 + 8 + 64 bytes")
    return struct.unpack(">Q", raw[4:12])[0]


def verify_cosignature(text: str, *, name: str, public_key: bytes) -> Cosigned:
    """Find and check the cosignature of (`name`, `public_key`) on the checkpoint `text`."""
    checkpoint = parse_checkpoint(text)
    wanted = cosigner_key_id(name, public_key)
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    for note in checkpoint.signatures:
        if note.name != name or note.key_id != wanted:
            continue
        if len(note.signature) != 8 + 64:
            raise CosignatureError("an Ed25519 cosignature is 4 + 8 + 64 bytes")
        timestamp = struct.unpack(">Q", note.signature[:8])[0]
        signature = note.signature[8:]
        try:
            verifier.verify(signature, signed_message(timestamp, checkpoint.body))
        except InvalidSignature as error:
            raise CosignatureError("the cosignature does not verify") from error
        return Cosigned(
            name=name,
            timestamp=timestamp,
            signature=signature,
            line=cosignature_line(name, public_key, timestamp, signature),
        )
    raise CosignatureError(f"no cosignature by {name!r}")


@dataclass(frozen=True)
class LogSignatureCheck:
    checkpoint: Checkpoint
    valid_keys: tuple[bytes, ...]


def verify_log_signatures(
    text: str, *, public_keys: Iterable[bytes], quorum: int = 1
) -> LogSignatureCheck:
    """Parse a checkpoint and require `quorum` distinct known log keys to have signed it.

    Tolerant of several signature lines (a validator quorum, other witnesses' cosignatures):
    a line counts when its key id is that of a known key under the line's own name (a note
    key, type 0x01) and its Ed25519 signature over the body verifies. Lines of unknown keys
    are ignored, as signed-note verifiers do; a known key's line that fails is refused.
    """
    checkpoint = parse_checkpoint(text)
    keys = list(dict.fromkeys(public_keys))
    body = checkpoint.body.encode()
    valid: list[bytes] = []
    for note in checkpoint.signatures:
        for key in keys:
            if key in valid or note.key_id != note_key_id(note.name, key):
                continue
            try:
                Ed25519PublicKey.from_public_bytes(key).verify(note.signature, body)
            except InvalidSignature as error:
                raise CheckpointError(f"the signature of {note.name!r} does not verify") from error
            valid.append(key)
    if len(valid) < max(quorum, 1):
        raise CheckpointError(
            f"{len(valid)} valid signature(s) by known log keys, {max(quorum, 1)} required"
        )
    return LogSignatureCheck(checkpoint=checkpoint, valid_keys=tuple(valid))

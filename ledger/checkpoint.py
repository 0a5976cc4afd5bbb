"""C2SP `tlog-checkpoint` signed notes (standard library and `cryptography` only).

A checkpoint is a signed note whose text is three lines: the log's origin, the tree size in
decimal, and the base64 Merkle root; then a blank line and one signature line per signer:
"— <key name> <base64(4-byte key id || Ed25519 signature)>". The key id of an Ed25519 key is
the first 4 bytes of SHA-256(key name || "\\n" || 0x01 || public key) (C2SP signed-note).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_PREFIX = "\u2014 "
ED25519_TYPE = b"\x01"


class CheckpointError(ValueError):
    """A checkpoint text that is malformed, or whose signature does not verify."""


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    signatures: tuple[NoteSignature, ...] = field(default=())

    @property
    def body(self) -> str:
        return note_body(self.origin, self.tree_size, self.root, self.extensions)


def note_body(origin: str, tree_size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    lines = [origin, str(tree_size), base64.b64encode(root).decode(), *extensions]
    return "\n".join(lines) + "\n"


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def signature_line(name: str, public_key: bytes, signature: bytes) -> str:
    blob = base64.b64encode(key_id(name, public_key) + signature).decode()
    return f"{SIGNATURE_PREFIX}{name} {blob}\n"


def checkpoint_text(body: str, signature_lines: list[str]) -> str:
    return body + "\n" + "".join(signature_lines)


def _canonical_b64decode(text: str) -> bytes:
    """Standard base64 in its one canonical spelling: unused padding bits must be zero, so a
    note has exactly one text for given bytes (a twin spelling would verify too)."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError("non-canonical base64")
    return raw


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note; raises CheckpointError with the reason."""
    if not isinstance(text, str) or "\n\n" not in text:
        raise CheckpointError("a checkpoint is a note: text, a blank line, signature lines")
    body, _, signatures_text = text.partition("\n\n")
    lines = body.split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint needs an origin, a tree size and a root")
    origin, size_text, root_text, *extensions = lines
    # ASCII digits only: str.isdigit() also accepts "²" (int() fails) and other scripts' digits.
    decimal = size_text.isascii() and size_text.isdigit()
    if not origin or not decimal or (size_text != "0" and size_text[0] == "0"):
        raise CheckpointError("bad origin or tree size line")
    try:
        root = _canonical_b64decode(root_text)
    except ValueError as error:
        raise CheckpointError("the root line is not base64") from error
    if len(root) != 32:
        raise CheckpointError("the root is not a SHA-256 hash")
    signatures = []
    for line in signatures_text.split("\n"):
        if not line:
            continue
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("a signature line starts with an em dash and a space")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = _canonical_b64decode(blob)
        except ValueError as error:
            raise CheckpointError("a signature is not base64") from error
        if not name or len(raw) < 5:
            raise CheckpointError("a signature line is malformed")
        signatures.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    if not signatures:
        raise CheckpointError("the checkpoint carries no signature")
    return Checkpoint(
        origin=origin,
        tree_size=int(size_text),
        root=root,
        extensions=tuple(extensions),
        signatures=tuple(signatures),
    )


def verify_checkpoint(text: str, *, name: str, public_key: bytes) -> Checkpoint:
    """Parse `text` and check that the key (`name`, `public_key`) signed it."""
    checkpoint = parse_checkpoint(text)
    wanted = key_id(name, public_key)
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    for signature in checkpoint.signatures:
        if signature.name == name and signature.key_id == wanted:
            try:
                verifier.verify(signature.signature, checkpoint.body.encode())
            except InvalidSignature as error:
                raise CheckpointError("the checkpoint signature does not verify") from error
            return checkpoint
    raise CheckpointError(f"no signature by the key {name!r}")

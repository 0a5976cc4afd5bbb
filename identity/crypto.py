"""Ed25519 keys for member identities: generation, sealing at rest, export, verification.

A member's private key is stored sealed with AES-256-GCM under a key-encryption key (KEK)
taken from the settings. The sealed form is

    0x01 (format version) || nonce (12 bytes) || ciphertext + tag (32 + 16 bytes)

and the associated data is a caller-chosen `context` (the member's DID as bytes), so a sealed
key copied into another account's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.didkey import InvalidDid, public_key_from_did, verification_method

SEAL_VERSION = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
SEALED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES


class KeyConfigError(ValueError):
    """The key-encryption key is missing or malformed."""


class KeyUnsealError(ValueError):
    """A sealed private key could not be opened (tampered, wrong KEK or context, bad format)."""


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_raw(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte raw Ed25519 secret (RFC 8032 seed)."""
    return key.private_bytes_raw()


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32-byte raw Ed25519 public key of a private or public key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes_raw()


def private_key_from_raw(raw: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key whose 32-byte raw secret is `raw`."""
    raw = _as_bytes(raw, "private key")
    if len(raw) != KEY_BYTES:
        raise ValueError(f"an Ed25519 private key is {KEY_BYTES} bytes, not {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)


def kek_from_setting(value: str) -> bytes:
    """Decode the key-encryption key setting: base64 (standard or URL-safe) of 32 bytes."""
    if not isinstance(value, str) or not value.strip():
        raise KeyConfigError(
            "the key-encryption key setting is missing or empty: set it to the base64 of "
            "32 random bytes "
            '(for example: python -c "import os, base64; '
            'print(base64.b64encode(os.urandom(32)).decode())")'
        )
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        kek = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError("the key-encryption key setting is not valid base64") from None
    if len(kek) != KEY_BYTES:
        raise KeyConfigError(
            f"the key-encryption key must be {KEY_BYTES} bytes (AES-256), "
            f"the setting decodes to {len(kek)} bytes"
        )
    return kek


def seal_private_key(raw: bytes, *, kek: bytes, context: bytes) -> bytes:
    """Encrypt a 32-byte private key with AES-256-GCM, binding it to `context`."""
    raw = _as_bytes(raw, "private key")
    if len(raw) != KEY_BYTES:
        raise ValueError(f"an Ed25519 private key is {KEY_BYTES} bytes, not {len(raw)}")
    aead = AESGCM(_check_kek(kek))
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = aead.encrypt(nonce, raw, _as_bytes(context, "context"))
    return bytes([SEAL_VERSION]) + nonce + ciphertext


def open_private_key(sealed: bytes, *, kek: bytes, context: bytes) -> bytes:
    """Decrypt what `seal_private_key` produced; KeyUnsealError on any mismatch."""
    aead = AESGCM(_check_kek(kek))
    try:
        sealed = _as_bytes(sealed, "sealed key")
        context = _as_bytes(context, "context")
    except TypeError as error:
        raise KeyUnsealError(str(error)) from None
    if not sealed or sealed[0] != SEAL_VERSION:
        raise KeyUnsealError("sealed key: unknown format version")
    if len(sealed) != SEALED_BYTES:
        raise KeyUnsealError(f"sealed key: expected {SEALED_BYTES} bytes, got {len(sealed)}")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        raw = aead.decrypt(nonce, sealed[1 + NONCE_BYTES :], context)
    except InvalidTag:
        raise KeyUnsealError(
            "sealed key does not open: it was altered, or the key-encryption key "
            "or the context (DID) is not the one it was sealed with"
        ) from None
    return raw


def export_pkcs8_pem(key: Ed25519PrivateKey, *, password: str) -> bytes:
    """The private key as password-encrypted PKCS#8 PEM (for the member to download)."""
    if not isinstance(password, str) or not password:
        raise ValueError("a non-empty password is required to export a private key")
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode("utf-8")),
    )


def export_jwk(
    key: Ed25519PrivateKey, *, did: str | None = None, include_private: bool = True
) -> dict:
    """RFC 8037 OKP JWK of the key; `kid` is the did:key verification method when `did` given."""
    public = public_key_raw(key)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public)}
    if include_private:
        jwk["d"] = _b64url(private_key_raw(key))
    if did is not None:
        try:
            matches = public_key_from_did(did) == public
        except InvalidDid as error:
            raise ValueError(f"export_jwk: {error}") from None
        if not matches:
            raise ValueError("export_jwk: the DID does not hold this key's public key")
        jwk["kid"] = verification_method(did.split("#", 1)[0])
    return jwk


def verify_signature(*, public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message`; never raises."""
    try:
        public = Ed25519PublicKey.from_public_bytes(_as_bytes(public_key, "public key"))
        public.verify(_as_bytes(signature, "signature"), _as_bytes(message, "message"))
    except (InvalidSignature, ValueError, TypeError):
        return False
    except Exception:  # a verifier answers False whatever it is handed
        return False
    return True


def _check_kek(kek: bytes) -> bytes:
    try:
        kek = _as_bytes(kek, "key-encryption key")
    except TypeError as error:
        raise KeyConfigError(str(error)) from None
    if len(kek) != KEY_BYTES:
        raise KeyConfigError(
            f"the key-encryption key must be {KEY_BYTES} bytes (AES-256), not {len(kek)}"
        )
    return kek


def _as_bytes(value: bytes | bytearray | memoryview, what: str) -> bytes:
    """Accept bytes-like values (a database driver may hand back a memoryview)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

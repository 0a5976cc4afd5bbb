"""Encryption of hosted dataset files: a data key per dataset version, wrapped by a
key-encryption key (KEK) from the environment, and files encrypted in chunks.

Keys
    Each `DatasetVersion` gets 32 random bytes (an AES-256-GCM data key). It is stored only
    wrapped by the data KEK, `SMARTB_DATA_KEK` (base64 of 32 bytes; a setting or an environment
    variable), which is separate from identity's KEK. Wrapped form:
    ``0x01 || nonce (12) || AES-256-GCM(KEK, data key, ad = "smartb-data-key/v1|" + version id)``.
    Without SMARTB_DATA_KEK a development key is derived from SECRET_KEY, as identity's dev key
    is; under `smartb.settings.production` a missing SMARTB_DATA_KEK is a configuration error.

Chunk layout "gcm-chunks-v1" (what `Distribution.storage_path` holds)
    A sequence of records, one per plaintext chunk of at most `CHUNK_BYTES` (an upload's chunk
    may be smaller): ``length L (4 bytes, big-endian) || nonce (12) || ciphertext + tag (L)``.
    Each chunk has a fresh random nonce and its own tag; the associated data is
    ``"smartb-data/v1|" + storage path + "|" + chunk index (8 bytes, big-endian)``, so chunks
    cannot be reordered, moved to another file or spliced from another file. The number of
    chunks is kept in the database (`Distribution.chunk_count`): a truncated or extended file
    fails closed, as does any altered byte (`TamperedData`).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from identity.crypto import KeyConfigError, kek_from_setting

LAYOUT = "gcm-chunks-v1"
CHUNK_BYTES = 1024 * 1024
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
WRAP_VERSION = 0x01
WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES
_LENGTH = struct.Struct(">I")
_INDEX = struct.Struct(">Q")


class TamperedData(ValueError):
    """Stored ciphertext or a wrapped key does not open: altered, truncated, reordered, or
    encrypted under another key. Nothing decrypted from it may be used."""


def data_kek() -> bytes:
    """The data key-encryption key (32 bytes)."""
    value = getattr(settings, "SMARTB_DATA_KEK", None) or os.environ.get("SMARTB_DATA_KEK")
    if not value:
        module = getattr(settings, "SETTINGS_MODULE", "") or ""
        if module.endswith(".production"):
            raise KeyConfigError(
                "SMARTB_DATA_KEK is missing: set it to the base64 of 32 random bytes"
            )
        digest = hashlib.sha256(f"smartb-dev:data-kek:{settings.SECRET_KEY}".encode()).digest()
        return digest
    return kek_from_setting(value)


def kek_id(kek: bytes) -> str:
    """A short public name of a KEK (to know which one wrapped a key), not a secret."""
    return hashlib.sha256(b"smartb-kek-id|" + kek).hexdigest()[:16]


def data_key_generate() -> bytes:
    return os.urandom(KEY_BYTES)


def _wrap_ad(context: str) -> bytes:
    return b"smartb-data-key/v1|" + context.encode()


def key_wrap(data_key: bytes, *, kek: bytes, context: str) -> bytes:
    """Seal a data key under the KEK, bound to `context` (the version's public id)."""
    if len(data_key) != KEY_BYTES:
        raise ValueError("a data key is 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    return bytes([WRAP_VERSION]) + nonce + AESGCM(kek).encrypt(nonce, data_key, _wrap_ad(context))


def key_unwrap(wrapped: bytes, *, kek: bytes, context: str) -> bytes:
    wrapped = bytes(wrapped)
    if len(wrapped) != WRAPPED_BYTES or wrapped[0] != WRAP_VERSION:
        raise TamperedData("wrapped data key: unknown format")
    nonce = wrapped[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(kek).decrypt(nonce, wrapped[1 + NONCE_BYTES :], _wrap_ad(context))
    except InvalidTag:
        raise TamperedData(
            "the data key does not open: it was altered, or the data KEK is not the one that "
            "wrapped it"
        ) from None


def _chunk_ad(context: str, index: int) -> bytes:
    return b"smartb-data/v1|" + context.encode() + b"|" + _INDEX.pack(index)


def chunk_seal(aead: AESGCM, plaintext: bytes, *, context: str, index: int) -> bytes:
    """One stored record: length, nonce, ciphertext and tag of chunk `index`."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, plaintext, _chunk_ad(context, index))
    return _LENGTH.pack(len(sealed)) + nonce + sealed


class ChunkWriter:
    """Encrypts plaintext into the chunk layout while hashing it (SHA-256 of the plaintext).

    `write` may be called with pieces of any size; full chunks go out as they fill.
    `close` flushes the last (possibly short) chunk. `start_index` continues a file."""

    def __init__(
        self,
        out: BinaryIO,
        *,
        data_key: bytes,
        context: str,
        chunk_bytes: int = CHUNK_BYTES,
        start_index: int = 0,
    ) -> None:
        self._out = out
        self._aead = AESGCM(data_key)
        self._context = context
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self.index = start_index
        self.sha256 = hashlib.sha256()
        self.plaintext_bytes = 0
        self.stored_bytes = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.plaintext_bytes += len(data)
        self._buffer += data
        while len(self._buffer) >= self._chunk_bytes:
            self._emit(bytes(self._buffer[: self._chunk_bytes]))
            del self._buffer[: self._chunk_bytes]

    def close(self) -> None:
        if self._buffer or self.index == 0:
            # An empty file is one empty chunk, so it too is authenticated.
            self._emit(bytes(self._buffer))
            self._buffer.clear()

    def _emit(self, chunk: bytes) -> None:
        record = chunk_seal(self._aead, chunk, context=self._context, index=self.index)
        self._out.write(record)
        self.stored_bytes += len(record)
        self.index += 1


def chunks_open(
    stored: BinaryIO, *, data_key: bytes, context: str, chunk_count: int
) -> Iterator[bytes]:
    """Decrypt the chunk layout, yielding each chunk's plaintext once its tag verified.

    Raises TamperedData on any altered, missing, reordered or extra chunk."""
    aead = AESGCM(data_key)
    for index in range(chunk_count):
        header = stored.read(_LENGTH.size + NONCE_BYTES)
        if len(header) != _LENGTH.size + NONCE_BYTES:
            raise TamperedData(f"chunk {index}: the stored file is truncated")
        (length,) = _LENGTH.unpack(header[: _LENGTH.size])
        if length < TAG_BYTES or length > CHUNK_BYTES * 16 + TAG_BYTES:
            raise TamperedData(f"chunk {index}: impossible length")
        sealed = stored.read(length)
        if len(sealed) != length:
            raise TamperedData(f"chunk {index}: the stored file is truncated")
        try:
            yield aead.decrypt(header[_LENGTH.size :], sealed, _chunk_ad(context, index))
        except InvalidTag:
            raise TamperedData(
                f"chunk {index} does not open: the stored file was altered or reordered"
            ) from None
    if stored.read(1):
        raise TamperedData("the stored file has bytes after its last chunk")


def encrypt_stream(
    pieces: Iterable[bytes], out: BinaryIO, *, data_key: bytes, context: str
) -> ChunkWriter:
    """Encrypt an iterable of plaintext pieces into `out`; the writer has the SHA-256, the
    sizes and the chunk count (`index`)."""
    writer = ChunkWriter(out, data_key=data_key, context=context)
    for piece in pieces:
        writer.write(piece)
    writer.close()
    return writer

"""Where hosted dataset files live, and the decrypting reader of a distribution.

Files are kept under the data root: the `SMARTB_DATA_ROOT` setting or environment variable,
by default `MEDIA_ROOT/datasets` (or `<project>/media/datasets`). They hold ciphertext only
(see `marketplace.data.crypto`); their relative path is the associated data of every chunk.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from .crypto import TamperedData, chunks_open, data_kek, key_unwrap
from .models import DatasetVersion, Distribution, DistributionKind


def data_root() -> Path:
    configured = getattr(settings, "SMARTB_DATA_ROOT", None) or os.environ.get("SMARTB_DATA_ROOT")
    if configured:
        return Path(configured)
    media = getattr(settings, "MEDIA_ROOT", None)
    base = Path(media) if media else Path(settings.BASE_DIR) / "media"
    return base / "datasets"


def new_storage_path(version: DatasetVersion) -> str:
    """A fresh relative path for one file of `version` (random: never reused)."""
    return f"{version.dataset.public_id}/{version.public_id}/{secrets.token_hex(16)}.bin"


def absolute(storage_path: str) -> Path:
    root = data_root().resolve()
    path = (root / storage_path).resolve()
    if root not in path.parents:
        raise ValueError("storage path outside the data root")
    return path


def version_data_key(version: DatasetVersion) -> bytes:
    """The version's data key, unwrapped in memory (never stored in clear)."""
    return key_unwrap(bytes(version.wrapped_key), kek=data_kek(), context=version.public_id)


def distribution_open(distribution: Distribution) -> Iterator[bytes]:
    """The plaintext of a hosted distribution, chunk by chunk (at most 1 MiB each for files
    uploaded in one piece; an upload's chunk size otherwise), decrypted on the fly.

    Every chunk is authenticated before it is yielded; an altered, truncated or reordered file
    raises `TamperedData` (fail closed: the caller stops sending). Access control is the
    caller's job (part 2: the agreement check). An access-URL distribution has no stored
    bytes: ValueError.
    """
    if distribution.kind != DistributionKind.HOSTED:
        raise ValueError("only a hosted distribution has stored bytes")
    data_key = version_data_key(distribution.version)
    try:
        stored = absolute(distribution.storage_path).open("rb")
    except FileNotFoundError:
        raise TamperedData("the stored file is missing") from None
    with stored:
        yield from chunks_open(
            stored,
            data_key=data_key,
            context=distribution.storage_path,
            chunk_count=distribution.chunk_count,
        )

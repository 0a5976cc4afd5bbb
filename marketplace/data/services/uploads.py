"""Chunked uploads of hosted files, for large files and a progress bar.

    upload_start (declares format, media type, size and optionally the SHA-256)
    → upload_chunk 0, 1, 2… (in order; each chunk encrypted as it arrives, appended)
    → upload_complete (checks size and checksum, counts personal records, makes the
      distribution, signed on the city's chain)
    or upload_abort.

The upload's progress (`received_bytes` of `expected_bytes`, `next_chunk`) is working state,
not catalogue state: only the resulting distribution goes on the ledger. SHA-256 state cannot
be kept across requests, so `upload_complete` computes the checksum in one streaming pass
over the stored ciphertext, decrypting and authenticating every chunk on the way.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.models import User

from ..crypto import LAYOUT, NONCE_BYTES, TamperedData, chunk_seal, chunks_open
from ..errors import (
    ChecksumMismatch,
    InvalidInput,
    NotAllowed,
    StoredDataCorrupt,
    UploadTooLarge,
    WrongState,
)
from ..models import DatasetVersion, DataUpload, Distribution, DistributionKind, UploadStatus
from ..permissions import can_manage_dataset
from ..records import SUBJECT_FIELD, subject_counts
from ..storage import absolute, new_storage_path, version_data_key
from ._common import clean_media_type, clean_sha256, clean_text, setting_int
from .catalogue import _clean_format, distribution_recorded, hosted_check, max_upload_bytes

DEFAULT_MAX_CHUNK_BYTES = 8 * 1024 * 1024
_HEADER = 4 + NONCE_BYTES


def max_chunk_bytes() -> int:
    """The largest chunk of an upload (`SMARTB_DATA_MAX_CHUNK_BYTES`, default 8 MiB)."""
    return setting_int("SMARTB_DATA_MAX_CHUNK_BYTES", DEFAULT_MAX_CHUNK_BYTES)


@transaction.atomic
def upload_start(
    *,
    by: User,
    version: DatasetVersion,
    format: str,
    media_type: str,
    byte_size: int,
    sha256: str = "",
    title: str = "",
) -> DataUpload:
    """Open a chunked upload of one file of `version`, declaring its size (and, best, its
    SHA-256, checked at the end). Refused when larger than the platform accepts."""
    if not can_manage_dataset(by, version.dataset):
        raise NotAllowed(_("Only the dataset's publisher adds its files."))
    if type(byte_size) is not int or byte_size < 0:
        raise InvalidInput(_("The size is a whole number of bytes."))
    limit = max_upload_bytes()
    if byte_size > limit:
        raise UploadTooLarge(
            _("This file is larger than %(n)s bytes, the most the platform accepts.") % {"n": limit}
        )
    media_type = clean_media_type(media_type)
    hosted_check(version, media_type=media_type)
    upload = DataUpload.objects.create(
        version=version,
        created_by=by,
        title=clean_text(title, what=_("The title"), max_length=300, required=False),
        format=_clean_format(format),
        media_type=media_type,
        expected_bytes=byte_size,
        expected_sha256=clean_sha256(sha256, what=_("The declared checksum")),
        storage_path=new_storage_path(version),
    )
    path = absolute(upload.storage_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return upload


def _locked(upload: DataUpload, by: User) -> DataUpload:
    upload = (
        DataUpload.objects.select_for_update(of=("self",))
        .select_related("version__dataset__city__chain")
        .get(pk=upload.pk)
    )
    if upload.created_by_id != by.pk:
        raise NotAllowed(_("Only who started an upload continues it."))
    if upload.status != UploadStatus.OPEN:
        raise WrongState(_("This upload is not open any more."))
    return upload


def _consistent_length(path, chunks: int) -> int:
    """The length of the first `chunks` records of the file (what the database counted):
    bytes after them are from a write whose transaction did not commit."""
    offset = 0
    with path.open("rb") as stored:
        for _index in range(chunks):
            header = stored.read(4)
            if len(header) != 4:
                raise StoredDataCorrupt()
            length = int.from_bytes(header, "big")
            offset += _HEADER + length
            stored.seek(offset)
    return offset


@transaction.atomic
def upload_chunk(*, by: User, upload: DataUpload, index: int, data: bytes) -> DataUpload:
    """Receive chunk `index` (0-based, in order), encrypt it and append it. A chunk already
    received is refused (409) with the number expected next, so a client resumes there."""
    upload = _locked(upload, by)
    if type(index) is not int or index != upload.next_chunk:
        raise WrongState(_("Chunk %(n)s is expected next.") % {"n": upload.next_chunk})
    if not data:
        raise InvalidInput(_("A chunk is not empty."))
    if len(data) > max_chunk_bytes():
        raise UploadTooLarge(_("A chunk is at most %(n)s bytes.") % {"n": max_chunk_bytes()})
    if upload.received_bytes + len(data) > upload.expected_bytes:
        raise UploadTooLarge(_("This chunk goes past the size declared for the file."))
    path = absolute(upload.storage_path)
    length = _consistent_length(path, upload.next_chunk)
    record = chunk_seal(
        AESGCM(version_data_key(upload.version)),
        bytes(data),
        context=upload.storage_path,
        index=index,
    )
    with path.open("r+b") as out:
        out.truncate(length)
        out.seek(length)
        out.write(record)
    try:
        upload.received_bytes += len(data)
        upload.next_chunk += 1
        upload.save(update_fields=["received_bytes", "next_chunk"])
    except BaseException:
        os.truncate(path, length)
        raise
    return upload


@transaction.atomic
def upload_complete(*, by: User, upload: DataUpload) -> Distribution:
    """Check the file (size, authenticity of every chunk, declared SHA-256, personal records'
    subjects) and make it a hosted distribution of its version, signed on the city's chain."""
    upload = _locked(upload, by)
    if upload.received_bytes != upload.expected_bytes:
        raise WrongState(
            _("%(got)s of %(want)s bytes arrived: send the rest first.")
            % {"got": upload.received_bytes, "want": upload.expected_bytes}
        )
    version = upload.version
    path = absolute(upload.storage_path)
    digest = hashlib.sha256()

    def plaintext():
        with path.open("rb") as stored:
            for piece in chunks_open(
                stored,
                data_key=version_data_key(version),
                context=upload.storage_path,
                chunk_count=upload.next_chunk,
            ):
                digest.update(piece)
                yield piece

    try:
        if version.dataset.is_personal:
            counts = subject_counts(plaintext(), media_type=upload.media_type, field=SUBJECT_FIELD)
        else:
            counts = None
            for _piece in plaintext():
                pass
    except TamperedData:
        raise StoredDataCorrupt() from None
    sha256 = digest.hexdigest()
    if upload.expected_sha256 and sha256 != upload.expected_sha256:
        raise ChecksumMismatch()
    distribution = Distribution(
        version=version,
        kind=DistributionKind.HOSTED,
        title=upload.title,
        format=upload.format,
        media_type=upload.media_type,
        byte_size=upload.received_bytes,
        sha256=sha256,
        storage_path=upload.storage_path,
        chunk_layout=LAYOUT,
        chunk_size=max_chunk_bytes(),
        chunk_count=upload.next_chunk,
        stored_bytes=path.stat().st_size,
        subject_field=SUBJECT_FIELD if counts is not None else "",
        record_count=sum(counts.values()) if counts is not None else None,
        created_by=by,
    )
    distribution_recorded(distribution, by=by, subjects=counts)
    upload.status = UploadStatus.COMPLETE
    upload.distribution = distribution
    upload.completed_at = timezone.now()
    upload.save(update_fields=["status", "distribution", "completed_at"])
    return distribution


@transaction.atomic
def upload_abort(*, by: User, upload: DataUpload) -> DataUpload:
    """Give up an open upload; its ciphertext is deleted once the abort is committed."""
    upload = _locked(upload, by)
    upload.status = UploadStatus.ABORTED
    upload.completed_at = timezone.now()
    upload.save(update_fields=["status", "completed_at"])
    path = absolute(upload.storage_path)
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
    return upload

"""Completing a chunked upload: size, authenticity of every chunk and the declared SHA-256
are checked before the file becomes a distribution, signed on the city's chain."""

from __future__ import annotations

import hashlib
import json

import pytest

from marketplace.data.errors import ChecksumMismatch, InvalidInput, StoredDataCorrupt, WrongState
from marketplace.data.models import Distribution, DistributionSubject, UploadStatus
from marketplace.data.services import (
    dataset_version_add,
    upload_chunk,
    upload_complete,
    upload_start,
)
from marketplace.data.storage import absolute, distribution_open
from tests.factories import dataset_make

CONTENT = b"station,date,pm10\n" + b"COMEDIE,2026-01-01,21\n" * 5000


def _upload(version, by, content=CONTENT, *, chunk=40_000, sha256="", media_type="text/csv"):
    upload = upload_start(
        by=by,
        version=version,
        format="CSV",
        media_type=media_type,
        byte_size=len(content),
        sha256=sha256,
    )
    for index, start in enumerate(range(0, len(content), chunk)):
        upload = upload_chunk(
            by=by, upload=upload, index=index, data=content[start : start + chunk]
        )
    return upload


@pytest.fixture
def version(city, staff):
    return dataset_version_add(by=staff, dataset=dataset_make(city=city, by=staff))


def test_a_complete_upload_becomes_a_distribution(version, staff):
    upload = _upload(version, staff, sha256=hashlib.sha256(CONTENT).hexdigest())
    distribution = upload_complete(by=staff, upload=upload)
    assert distribution.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert distribution.byte_size == len(CONTENT)
    assert distribution.chunk_count == 3
    assert b"".join(distribution_open(distribution)) == CONTENT
    upload.refresh_from_db()
    assert upload.status == UploadStatus.COMPLETE and upload.distribution == distribution
    assert distribution.entry.kind == "marketplace.dataset.distribution.add"
    with pytest.raises(WrongState):
        upload_complete(by=staff, upload=upload)


def test_the_checksum_is_computed_even_when_none_was_declared(version, staff):
    distribution = upload_complete(by=staff, upload=_upload(version, staff))
    assert distribution.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_a_wrong_checksum_is_refused(version, staff):
    upload = _upload(version, staff, sha256=hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ChecksumMismatch):
        upload_complete(by=staff, upload=upload)
    assert not Distribution.objects.exists()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.OPEN


def test_a_missing_part_is_refused(version, staff):
    upload = upload_start(
        by=staff, version=version, format="CSV", media_type="text/csv", byte_size=100
    )
    upload = upload_chunk(by=staff, upload=upload, index=0, data=b"x" * 60)
    with pytest.raises(WrongState):
        upload_complete(by=staff, upload=upload)


def test_a_stored_chunk_altered_before_completion_fails_closed(version, staff):
    upload = _upload(version, staff)
    path = absolute(upload.storage_path)
    data = bytearray(path.read_bytes())
    data[50_000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoredDataCorrupt) as refused:
        upload_complete(by=staff, upload=upload)
    assert refused.value.code == "stored_data_corrupt"
    assert not Distribution.objects.exists()


def test_personal_records_are_counted_when_the_upload_completes(city, staff, resident, neighbour):
    dataset = dataset_make(
        city=city, by=staff, is_personal=True, subject_dids=[resident.identity.did]
    )
    version = dataset_version_add(by=staff, dataset=dataset)
    lines = [{"subject": resident.identity.did, "n": n} for n in range(300)]
    lines += [{"subject": neighbour.identity.did, "n": n} for n in range(200)]
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    upload = _upload(version, staff, content, chunk=777, media_type="application/jsonl")
    distribution = upload_complete(by=staff, upload=upload)
    counts = dict(
        DistributionSubject.objects.filter(distribution=distribution).values_list("did", "records")
    )
    assert counts == {resident.identity.did: 300, neighbour.identity.did: 200}
    assert distribution.record_count == 500


def test_personal_records_without_subject_are_refused_at_completion(city, staff, resident):
    dataset = dataset_make(
        city=city, by=staff, is_personal=True, subject_dids=[resident.identity.did]
    )
    version = dataset_version_add(by=staff, dataset=dataset)
    upload = _upload(version, staff, b'{"n": 1}\n', media_type="application/jsonl")
    with pytest.raises(InvalidInput):
        upload_complete(by=staff, upload=upload)
    assert not Distribution.objects.exists()

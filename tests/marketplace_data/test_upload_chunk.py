"""Starting a chunked upload and sending its chunks: in order, encrypted as they arrive,
never past the declared size nor the platform's limits."""

from __future__ import annotations

import pytest

from marketplace.data.errors import InvalidInput, NotAllowed, UploadTooLarge, WrongState
from marketplace.data.models import DataUpload, UploadStatus
from marketplace.data.services import (
    dataset_version_add,
    upload_abort,
    upload_chunk,
    upload_start,
)
from marketplace.data.storage import absolute
from tests.factories import UserFactory, dataset_make

CONTENT = b"station,date,pm10\n" + b"COMEDIE,2026-01-01,plaintext-marker\n" * 100


@pytest.fixture
def version(city, staff):
    return dataset_version_add(by=staff, dataset=dataset_make(city=city, by=staff))


SIZE = len(CONTENT)


def _start(version, by, size=SIZE, **fields):
    fields.setdefault("format", "CSV")
    fields.setdefault("media_type", "text/csv")
    return upload_start(by=by, version=version, byte_size=size, **fields)


def test_chunks_arrive_in_order_encrypted(version, staff):
    upload = _start(version, staff)
    upload = upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:1000])
    upload = upload_chunk(by=staff, upload=upload, index=1, data=CONTENT[1000:])
    assert (upload.received_bytes, upload.next_chunk) == (len(CONTENT), 2)
    stored = absolute(upload.storage_path).read_bytes()
    assert b"plaintext-marker" not in stored
    assert len(stored) == len(CONTENT) + 2 * (4 + 12 + 16)


def test_a_chunk_out_of_order_or_repeated_is_refused(version, staff):
    upload = _start(version, staff)
    with pytest.raises(WrongState):
        upload_chunk(by=staff, upload=upload, index=1, data=CONTENT[:10])
    upload = upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:10])
    with pytest.raises(WrongState) as refused:
        upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:10])
    assert "1" in refused.value.message
    upload.refresh_from_db()
    assert upload.next_chunk == 1


def test_more_bytes_than_declared_are_refused(version, staff):
    upload = _start(version, staff, size=10)
    with pytest.raises(UploadTooLarge):
        upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:11])
    upload.refresh_from_db()
    assert upload.received_bytes == 0
    assert absolute(upload.storage_path).read_bytes() == b""


def test_an_oversized_file_or_chunk_is_refused(version, staff, settings):
    settings.SMARTB_DATA_MAX_UPLOAD_BYTES = 100
    settings.SMARTB_DATA_MAX_CHUNK_BYTES = 20
    with pytest.raises(UploadTooLarge) as refused:
        _start(version, staff, size=101)
    assert refused.value.status == 413
    upload = _start(version, staff, size=100)
    with pytest.raises(UploadTooLarge):
        upload_chunk(by=staff, upload=upload, index=0, data=b"x" * 21)
    assert DataUpload.objects.count() == 1


def test_bad_declarations_are_refused(version, staff):
    for fields in (
        {"size": -1},
        {"format": "EXE"},
        {"media_type": "nope"},
        {"sha256": "xyz"},
    ):
        size = fields.pop("size", 10)
        with pytest.raises(InvalidInput):
            _start(version, staff, size=size, **fields)
    upload = _start(version, staff)
    with pytest.raises(InvalidInput):
        upload_chunk(by=staff, upload=upload, index=0, data=b"")
    assert DataUpload.objects.count() == 1


def test_only_the_publisher_uploads_and_only_who_started_continues(version, staff, resident):
    with pytest.raises(NotAllowed):
        _start(version, resident.user)
    upload = _start(version, staff)
    with pytest.raises(NotAllowed):
        upload_chunk(by=UserFactory(), upload=upload, index=0, data=b"abc")


def test_a_personal_dataset_takes_records_files_only(city, staff, resident):
    dataset = dataset_make(
        city=city, by=staff, is_personal=True, subject_dids=[resident.identity.did]
    )
    version = dataset_version_add(by=staff, dataset=dataset)
    with pytest.raises(InvalidInput):
        _start(version, staff, format="PDF", media_type="application/pdf")
    assert _start(version, staff, format="JSON", media_type="application/jsonl")


def test_an_aborted_upload_takes_no_more_chunks_and_is_deleted(
    version, staff, django_capture_on_commit_callbacks
):
    upload = _start(version, staff)
    upload = upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:100])
    path = absolute(upload.storage_path)
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_abort(by=staff, upload=upload)
    assert upload.status == UploadStatus.ABORTED
    assert not path.exists()
    with pytest.raises(WrongState):
        upload_chunk(by=staff, upload=upload, index=1, data=CONTENT[100:200])


def test_bytes_left_by_a_failed_write_are_dropped_by_the_next_chunk(version, staff):
    upload = _start(version, staff)
    upload = upload_chunk(by=staff, upload=upload, index=0, data=CONTENT[:100])
    path = absolute(upload.storage_path)
    good = path.read_bytes()
    path.write_bytes(good + b"\x00\x00\x00\x40" + b"garbage" * 5)  # a write never committed
    upload = upload_chunk(by=staff, upload=upload, index=1, data=CONTENT[100:200])
    assert path.read_bytes().startswith(good)
    assert b"garbage" not in path.read_bytes()

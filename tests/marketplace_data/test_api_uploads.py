"""The chunked upload endpoints a progress bar drives: start, PUT chunks, progress,
complete, abort; and their errors as JSON bodies."""

from __future__ import annotations

import hashlib

import pytest

from marketplace.data.models import DataUpload, Distribution, UploadStatus
from marketplace.data.services import dataset_version_add
from marketplace.data.storage import absolute, distribution_open
from tests.factories import dataset_make

from .support import Api, assert_error

CONTENT = b"station,date,pm10\n" + b"ANTIGONE,2026-02-01,17\n" * 4000


@pytest.fixture
def version(city, staff):
    return dataset_version_add(by=staff, dataset=dataset_make(city=city, by=staff))


def _start(api, version, **fields):
    body = {
        "format": "CSV",
        "media_type": "text/csv",
        "byte_size": len(CONTENT),
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
        **fields,
    }
    return api.post(f"versions/{version.public_id}/uploads", body)


def test_a_file_uploaded_in_chunks_with_its_progress(version, staff):
    api = Api(staff)
    started = _start(api, version)
    assert started.status_code == 201, started.content
    upload = started.json()
    assert upload["next_chunk"] == 0 and upload["max_chunk_bytes"] > 0
    pid = upload["public_id"]
    size = 30_000
    for index, start in enumerate(range(0, len(CONTENT), size)):
        response = api.put_bytes(f"uploads/{pid}/chunks/{index}", CONTENT[start : start + size])
        assert response.status_code == 200, response.content
        assert response.json()["received_bytes"] == min(start + size, len(CONTENT))
    progress = api.get(f"uploads/{pid}/").json()
    assert progress["received_bytes"] == progress["expected_bytes"] == len(CONTENT)
    done = api.post(f"uploads/{pid}/complete")
    assert done.status_code == 201, done.content
    distribution = Distribution.objects.get(public_id=done.json()["public_id"])
    assert done.json()["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert b"".join(distribution_open(distribution)) == CONTENT
    assert b"ANTIGONE" not in absolute(distribution.storage_path).read_bytes()
    assert api.get(f"uploads/{pid}/").json()["distribution"] == distribution.public_id


def test_upload_errors_are_json(version, staff, settings):
    api = Api(staff)
    pid = _start(api, version).json()["public_id"]
    assert_error(api.put_bytes(f"uploads/{pid}/chunks/1", b"abc"), 409, "wrong_state")
    assert_error(api.put_bytes(f"uploads/{pid}/chunks/0", b""), 400, "invalid")
    assert api.put_bytes(f"uploads/{pid}/chunks/0", CONTENT[:10]).status_code == 200
    assert_error(api.put_bytes(f"uploads/{pid}/chunks/0", CONTENT[:10]), 409, "wrong_state")
    assert_error(api.post(f"uploads/{pid}/complete"), 409, "wrong_state")  # bytes missing
    settings.SMARTB_DATA_MAX_CHUNK_BYTES = 100
    assert_error(api.put_bytes(f"uploads/{pid}/chunks/1", b"x" * 101), 413, "too_large")
    settings.SMARTB_DATA_MAX_UPLOAD_BYTES = 100
    assert_error(_start(api, version), 413, "too_large")
    assert_error(api.put_bytes("uploads/nope/chunks/0", b"x"), 404)


def test_a_wrong_checksum_is_a_clear_400(version, staff):
    api = Api(staff)
    pid = _start(api, version, sha256=hashlib.sha256(b"else").hexdigest()).json()["public_id"]
    assert api.put_bytes(f"uploads/{pid}/chunks/0", CONTENT).status_code == 200
    error = assert_error(api.post(f"uploads/{pid}/complete"), 400, "wrong_checksum")
    assert "SHA-256" in error["message"]
    assert not Distribution.objects.exists()


def test_abort(version, staff):
    api = Api(staff)
    pid = _start(api, version).json()["public_id"]
    response = api.delete(f"uploads/{pid}/")
    assert response.status_code == 200
    assert response.json()["status"] == UploadStatus.ABORTED
    assert_error(api.put_bytes(f"uploads/{pid}/chunks/0", b"x"), 409, "wrong_state")


def test_only_the_publisher_uploads(version, staff, resident):
    assert_error(_start(Api(resident.user), version), 404)
    assert_error(_start(Api(), version), 401)
    pid = _start(Api(staff), version).json()["public_id"]
    assert_error(Api(resident.user).put_bytes(f"uploads/{pid}/chunks/0", b"x"), 404)
    assert_error(Api(resident.user).post(f"uploads/{pid}/complete"), 404)
    assert DataUpload.objects.get(public_id=pid).received_bytes == 0

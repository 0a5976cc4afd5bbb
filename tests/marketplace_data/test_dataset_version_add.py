"""Versions and their distributions: hosted files encrypted in chunks with a data key per
version, access URLs kept on the producer's side, personal records counted per subject."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import connection

from marketplace.data.crypto import TamperedData, data_kek, key_unwrap
from marketplace.data.errors import ChecksumMismatch, InvalidInput, NotAllowed, UploadTooLarge
from marketplace.data.models import (
    DatasetVersion,
    DataSubject,
    Distribution,
    DistributionKind,
    DistributionSubject,
    SubjectSource,
)
from marketplace.data.services import (
    HostedFile,
    LinkedFile,
    dataset_version_add,
    distribution_add,
)
from marketplace.data.storage import absolute, distribution_open
from tests.factories import UserFactory, dataset_make, hosted_csv

SECRET_ROW = b"COMEDIE,2026-01-01,secret-measure-4242\n"


def _big_csv(rows: int) -> bytes:
    return b"station,date,pm10\n" + SECRET_ROW * rows


def _stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_hosted_file_is_stored_encrypted_and_reads_back(city, staff, data_root):
    content = _big_csv(60_000)  # about 2.4 MB: several 1 MiB chunks
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv(content)])
    distribution = version.distributions.get()
    assert distribution.kind == DistributionKind.HOSTED
    assert distribution.byte_size == len(content)
    assert distribution.sha256 == hashlib.sha256(content).hexdigest()
    assert distribution.chunk_count == 3
    stored = absolute(distribution.storage_path).read_bytes()
    assert b"secret-measure" not in stored
    assert b"COMEDIE" not in stored
    assert b"".join(distribution_open(distribution)) == content
    entry = distribution.entry
    assert entry.kind == "marketplace.dataset.distribution.add"
    assert entry.payload["sha256"] == distribution.sha256
    assert entry.payload["chunks"] == 3


def test_the_database_holds_no_plaintext_and_no_clear_data_key(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv(_big_csv(3))])
    data_key = key_unwrap(bytes(version.wrapped_key), kek=data_kek(), context=version.public_id)
    with connection.cursor() as cursor:
        for table in (DatasetVersion._meta.db_table, Distribution._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            dump = repr(cursor.fetchall()).encode()
            assert b"secret-measure" not in dump
            assert data_key.hex().encode() not in dump
            assert repr(data_key).encode() not in dump


def test_each_version_has_its_own_data_key(city, staff):
    dataset = dataset_make(city=city, by=staff)
    one = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv()])
    two = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv()])
    kek = data_kek()
    keys = {key_unwrap(bytes(v.wrapped_key), kek=kek, context=v.public_id) for v in (one, two)}
    assert len(keys) == 2
    assert (one.number, two.number) == (1, 2)
    assert two.entry.kind == "marketplace.dataset.version.add"


def test_a_wrapped_key_moved_to_another_version_does_not_open(city, staff):
    dataset = dataset_make(city=city, by=staff)
    one = dataset_version_add(by=staff, dataset=dataset)
    two = dataset_version_add(by=staff, dataset=dataset)
    with pytest.raises(TamperedData):
        key_unwrap(bytes(one.wrapped_key), kek=data_kek(), context=two.public_id)


def _tamper(distribution, position: int) -> None:
    path = absolute(distribution.storage_path)
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_tampered_ciphertext_fails_closed(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv(_big_csv(50_000))])
    distribution = version.distributions.get()
    _tamper(distribution, 1_500_000)  # inside the second chunk
    reader = distribution_open(distribution)
    first = next(reader)  # the first chunk is intact and authenticated
    assert first.startswith(b"station,")
    with pytest.raises(TamperedData):
        next(reader)


def test_reordered_or_truncated_chunks_fail_closed(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(
        by=staff, dataset=dataset, files=[hosted_csv(_big_csv(30_000))]
    )  # two chunks
    distribution = version.distributions.get()
    path = absolute(distribution.storage_path)
    stored = path.read_bytes()
    first_length = int.from_bytes(stored[:4], "big") + 4 + 12
    first, second = stored[:first_length], stored[first_length:]
    path.write_bytes(second + first)
    with pytest.raises(TamperedData):
        b"".join(distribution_open(distribution))
    path.write_bytes(first)
    with pytest.raises(TamperedData):
        b"".join(distribution_open(distribution))
    path.write_bytes(stored + b"x")
    with pytest.raises(TamperedData):
        b"".join(distribution_open(distribution))


def test_a_file_copied_into_another_distribution_does_not_open(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(
        by=staff, dataset=dataset, files=[hosted_csv(b"a,b\n1,2\n"), hosted_csv(b"a,b\n3,4\n")]
    )
    one, two = version.distributions.order_by("pk")
    absolute(two.storage_path).write_bytes(absolute(one.storage_path).read_bytes())
    with pytest.raises(TamperedData):
        b"".join(distribution_open(two))


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(city, staff, data_root):
    dataset = dataset_make(city=city, by=staff)
    with pytest.raises(ChecksumMismatch) as refused:
        dataset_version_add(
            by=staff, dataset=dataset, files=[hosted_csv(sha256=hashlib.sha256(b"x").hexdigest())]
        )
    assert refused.value.code == "wrong_checksum"
    assert not DatasetVersion.objects.exists()
    assert _stored_files(data_root) == []


def test_the_right_checksum_is_accepted(city, staff):
    dataset = dataset_make(city=city, by=staff)
    content = b"a,b\n1,2\n"
    version = dataset_version_add(
        by=staff,
        dataset=dataset,
        files=[hosted_csv(content, sha256=hashlib.sha256(content).hexdigest().upper())],
    )
    assert version.distributions.get().sha256 == hashlib.sha256(content).hexdigest()


def test_an_oversized_file_is_refused(city, staff, settings, data_root):
    settings.SMARTB_DATA_MAX_UPLOAD_BYTES = 1000
    dataset = dataset_make(city=city, by=staff)
    with pytest.raises(UploadTooLarge) as refused:
        dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv(_big_csv(100))])
    assert refused.value.status == 413
    assert not Distribution.objects.exists()
    assert _stored_files(data_root) == []


def test_a_file_object_streams_in(city, staff, tmp_path):
    source = tmp_path / "source.csv"
    source.write_bytes(_big_csv(1000))
    dataset = dataset_make(city=city, by=staff)
    with source.open("rb") as handle:
        version = dataset_version_add(
            by=staff,
            dataset=dataset,
            files=[HostedFile(content=handle, format="csv", media_type="text/csv")],
        )
    distribution = version.distributions.get()
    assert distribution.format == "CSV"
    assert b"".join(distribution_open(distribution)) == source.read_bytes()


def test_an_empty_file_is_one_authenticated_empty_chunk(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(by=staff, dataset=dataset, files=[hosted_csv(b"")])
    distribution = version.distributions.get()
    assert distribution.chunk_count == 1
    assert b"".join(distribution_open(distribution)) == b""


def test_an_access_url_is_stored_and_never_fetched(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(
        by=staff,
        dataset=dataset,
        links=[
            LinkedFile(
                access_url="https://data.producteur.example.org/air.csv",
                format="CSV",
                media_type="text/csv",
                byte_size=1234,
            )
        ],
    )
    distribution = version.distributions.get()
    assert distribution.kind == DistributionKind.ACCESS_URL
    assert distribution.storage_path == ""
    assert "producteur" not in str(distribution.entry.payload)
    with pytest.raises(ValueError):
        next(distribution_open(distribution))


def test_bad_distributions_are_refused(city, staff):
    dataset = dataset_make(city=city, by=staff)
    version = dataset_version_add(by=staff, dataset=dataset)
    for file in (
        hosted_csv(format="EXE"),
        hosted_csv(media_type="csv please"),
        hosted_csv(sha256="abc"),
        LinkedFile(access_url="ftp://x.example.org/a", format="CSV", media_type="text/csv"),
        LinkedFile(
            access_url="https://x.example.org/a", format="CSV", media_type="text/csv", byte_size=-1
        ),
    ):
        with pytest.raises(InvalidInput):
            distribution_add(by=staff, version=version, file=file)
    assert not Distribution.objects.exists()


def test_only_the_publisher_adds_versions(city, staff, resident):
    dataset = dataset_make(city=city, by=staff)
    for intruder in (resident.user, UserFactory()):
        with pytest.raises(NotAllowed):
            dataset_version_add(by=intruder, dataset=dataset, files=[hosted_csv()])
    assert not DatasetVersion.objects.exists()


def _personal(city, staff, resident):
    return dataset_make(city=city, by=staff, is_personal=True, subject_dids=[resident.identity.did])


def test_personal_records_are_counted_per_subject(city, staff, resident, neighbour):
    dataset = _personal(city, staff, resident)
    rows = [
        {"subject": resident.identity.did, "kwh": 12},
        {"subject": neighbour.identity.did, "kwh": 7},
        {"subject": resident.identity.did, "kwh": 9},
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows).encode()
    version = dataset_version_add(
        by=staff,
        dataset=dataset,
        files=[
            HostedFile(
                content=[content[:50], content[50:]], format="JSON", media_type="application/jsonl"
            )
        ],
    )
    distribution = version.distributions.get()
    counts = dict(
        DistributionSubject.objects.filter(distribution=distribution).values_list("did", "records")
    )
    assert counts == {resident.identity.did: 2, neighbour.identity.did: 1}
    assert distribution.record_count == 3
    found = DataSubject.objects.get(dataset=dataset, identity=neighbour.identity)
    assert found.source == SubjectSource.RECORDS
    assert distribution.entry.payload["subjects"] == 2
    assert neighbour.identity.did not in str(distribution.entry.payload)
    assert resident.identity.did.encode() not in absolute(distribution.storage_path).read_bytes()


def test_personal_csv_needs_a_subject_on_every_record(city, staff, resident, data_root):
    dataset = _personal(city, staff, resident)
    did = resident.identity.did
    bad_files = [
        hosted_csv(b"name,kwh\nLea,12\n"),  # no subject column
        hosted_csv(f"subject,kwh\n{did},12\n,4\n".encode()),  # a record without subject
        hosted_csv(b"subject,kwh\ndid:key:z6MkNotAKey,3\n"),  # not a did:key
        hosted_csv(b"subject,kwh\ndid:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK,3\n"),
        HostedFile(content=[b"{}"], format="JSON", media_type="application/json"),
    ]
    for file in bad_files:
        with pytest.raises(InvalidInput):
            dataset_version_add(by=staff, dataset=dataset, files=[file])
    assert not Distribution.objects.exists()
    assert _stored_files(data_root) == []
    version = dataset_version_add(
        by=staff, dataset=dataset, files=[hosted_csv(f"subject,kwh\n{did},12\n".encode())]
    )
    assert version.distributions.get().record_count == 1


def test_personal_data_is_never_left_on_the_producers_side(city, staff, resident):
    dataset = _personal(city, staff, resident)
    with pytest.raises(InvalidInput):
        dataset_version_add(
            by=staff,
            dataset=dataset,
            links=[
                LinkedFile(
                    access_url="https://x.example.org/a.csv", format="CSV", media_type="text/csv"
                )
            ],
        )

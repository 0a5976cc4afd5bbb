"""The catalogue: datasets (DCAT-AP 3 metadata), their versions and distributions.

Hosted files are encrypted as they stream in (a data key per version, wrapped by the data
KEK; see `marketplace.data.crypto`) and their SHA-256 is computed on the way. For a personal
dataset the records' subjects are counted on the same pass. If a service fails after writing
ciphertext, the file is removed; if an outer transaction rolls back later, the orphan file
stays unreadable (its wrapped key was never committed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from governance.models import City, College, Membership, MembershipStatus
from identity.models import Identity, User
from ledger.services import ledger_append

from ...models import Provider
from ...services._common import provider_signer
from ..crypto import (
    CHUNK_BYTES,
    LAYOUT,
    ChunkWriter,
    data_kek,
    data_key_generate,
    kek_id,
    key_wrap,
)
from ..errors import ChecksumMismatch, InvalidInput, NotAllowed, UploadTooLarge
from ..models import (
    Dataset,
    DatasetKeyword,
    DatasetTheme,
    DatasetVersion,
    DataSubject,
    Distribution,
    DistributionKind,
    DistributionSubject,
    Frequency,
    PublisherKind,
    SubjectSource,
    Theme,
)
from ..permissions import can_manage_dataset, can_publish
from ..records import RECORD_MEDIA_TYPES, SUBJECT_FIELD, subject_counts
from ..storage import absolute, new_storage_path, version_data_key
from ._common import (
    clean_date,
    clean_email,
    clean_media_type,
    clean_sha256,
    clean_text,
    clean_url,
    dataset_signer,
    setting_int,
    sha256_json,
    sha256_text,
    signer_of,
)

# EU file-type vocabulary codes (http://publications.europa.eu/resource/authority/file-type).
FORMATS = (
    "CSV",
    "TSV",
    "JSON",
    "JSON_LD",
    "GEOJSON",
    "XML",
    "RDF_XML",
    "RDF_TURTLE",
    "PARQUET",
    "XLSX",
    "ODS",
    "ZIP",
    "PDF",
    "TXT",
    "SHP",
    "GPKG",
    "KML",
    "NETCDF",
)
MAX_KEYWORDS = 30
MAX_SUBJECTS_DECLARED = 10_000
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3


def max_upload_bytes() -> int:
    """The largest hosted file accepted (`SMARTB_DATA_MAX_UPLOAD_BYTES`, default 2 GiB)."""
    return setting_int("SMARTB_DATA_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


@dataclass
class HostedFile:
    """A file to host: `content` is a binary file object or an iterable of byte pieces.
    `sha256`, when given, must match what arrives (else ChecksumMismatch)."""

    content: BinaryIO | Iterable[bytes]
    format: str
    media_type: str
    title: str = ""
    sha256: str = ""
    subject_field: str = SUBJECT_FIELD


@dataclass
class LinkedFile:
    """A distribution kept on the producer's infrastructure: only its URL is stored."""

    access_url: str
    format: str
    media_type: str
    title: str = ""
    byte_size: int | None = None
    sha256: str = ""


@dataclass
class DatasetMetadata:
    """The DCAT-AP 3 description of a dataset, as the producer gives it."""

    title: str
    description: str
    licence: str
    contact_name: str
    contact_email: str
    themes: Sequence[str] = ()
    keywords: Sequence[str] = ()
    frequency: str = Frequency.UNKNOWN
    temporal_start: dt.date | str | None = None
    temporal_end: dt.date | str | None = None
    spatial_uri: str = ""
    spatial_geometry: str = ""
    landing_page: str = ""


def _clean_format(value) -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if code not in FORMATS:
        raise InvalidInput(
            _("Unknown format: use an EU file-type code (%(codes)s).")
            % {"codes": ", ".join(FORMATS)}
        )
    return code


def _clean_metadata(meta: DatasetMetadata) -> dict:
    themes = list(meta.themes or [])
    if not all(isinstance(t, str) for t in themes) or not themes:
        raise InvalidInput(_("Choose at least one theme."))
    themes = sorted({t.strip().upper() for t in themes})
    unknown = [t for t in themes if t not in Theme.values]
    if unknown:
        raise InvalidInput(_("Unknown theme: %(t)s.") % {"t": ", ".join(unknown)})
    keywords: dict[str, str] = {}
    for keyword in meta.keywords or []:
        text = clean_text(keyword, what=_("A keyword"), max_length=100, required=False)
        if text:
            keywords.setdefault(text.lower(), text)
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidInput(_("At most %(n)s keywords.") % {"n": MAX_KEYWORDS})
    if meta.frequency not in Frequency.values:
        raise InvalidInput(_("Unknown update frequency."))
    start = clean_date(meta.temporal_start, what=_("The start of the temporal coverage"))
    end = clean_date(meta.temporal_end, what=_("The end of the temporal coverage"))
    if start and end and end < start:
        raise InvalidInput(_("The temporal coverage ends before it starts."))
    return {
        "title": clean_text(meta.title, what=_("The title"), max_length=300),
        "description": clean_text(meta.description, what=_("The description"), max_length=20000),
        "licence": clean_url(meta.licence, what=_("The licence")),
        "contact_name": clean_text(meta.contact_name, what=_("The contact's name"), max_length=200),
        "contact_email": clean_email(meta.contact_email, what=_("The contact's e-mail")),
        "frequency": meta.frequency,
        "temporal_start": start,
        "temporal_end": end,
        "spatial_uri": clean_url(meta.spatial_uri, what=_("The spatial URI"), required=False),
        "spatial_geometry": clean_text(
            meta.spatial_geometry, what=_("The geometry"), max_length=20000, required=False
        ),
        "landing_page": clean_url(meta.landing_page, what=_("The landing page"), required=False),
        "themes": themes,
        "keywords": keywords,
    }


def metadata_digest(cleaned: dict) -> str:
    """SHA-256 of the metadata's canonical JSON: what the ledger commits to."""
    return sha256_json(
        {
            key: (value.isoformat() if isinstance(value, dt.date) else value)
            for key, value in cleaned.items()
        }
    )


def _subject_identities(dids: Sequence[str]) -> list[Identity]:
    if not isinstance(dids, list | tuple) or not all(isinstance(d, str) for d in dids):
        raise InvalidInput(_("Data subjects are a list of DIDs."))
    wanted = sorted({d.strip() for d in dids if d.strip()})
    if len(wanted) > MAX_SUBJECTS_DECLARED:
        raise InvalidInput(_("Too many data subjects declared at once."))
    found = list(Identity.objects.filter(did__in=wanted, revoked_at__isnull=True))
    missing = sorted(set(wanted) - {i.did for i in found})
    if missing:
        raise InvalidInput(
            _("These data subjects are not residents of the platform: %(dids)s")
            % {"dids": ", ".join(missing[:5])}
        )
    return found


def _publisher(
    *, by: User, city: City, publisher_kind: str, provider: Provider | None
) -> tuple[Provider | None, Membership | None, Identity, Identity]:
    """(provider, membership, publisher identity, signer) for a new dataset."""
    if publisher_kind not in PublisherKind.values:
        raise InvalidInput(_("The publisher is a provider, the municipality or a member."))
    if publisher_kind != PublisherKind.PROVIDER and provider is not None:
        raise InvalidInput(_("Only a provider's dataset names a provider."))
    if not can_publish(by, city=city, publisher_kind=publisher_kind, provider=provider):
        raise NotAllowed(
            _(
                "A provider's owner publishes for the provider, the municipality staff for the "
                "municipality, an approved member of the city as themself."
            )
        )
    if publisher_kind == PublisherKind.PROVIDER:
        signer = provider_signer(provider)
        return provider, None, provider.identity, signer
    signer = signer_of(by)
    if publisher_kind == PublisherKind.MUNICIPALITY:
        return None, None, city.identity, signer
    membership = Membership.objects.get(city=city, user=by, status=MembershipStatus.APPROVED)
    return None, membership, membership.identity, signer


@transaction.atomic
def dataset_create(
    *,
    by: User,
    city: City,
    metadata: DatasetMetadata,
    publisher_kind: str,
    provider: Provider | None = None,
    is_personal: bool = False,
    subject_college: College | None = None,
    subject_dids: Sequence[str] = (),
) -> Dataset:
    """Publish a dataset's description in `city`'s catalogue (its files come with versions).

    A personal dataset names its data subjects (residents by DID) and/or the college whose
    members it concerns; a dataset that is not personal names neither. Recorded on the city's
    chain, signed by the publisher (the provider's DID, or the acting person's), with the
    SHA-256 of the metadata and of the subjects' list, never the texts or the DIDs.
    """
    cleaned = _clean_metadata(metadata)
    provider, membership, publisher_identity, signer = _publisher(
        by=by, city=city, publisher_kind=publisher_kind, provider=provider
    )
    if not isinstance(is_personal, bool):
        raise InvalidInput(_("Say whether the dataset holds personal data."))
    subjects = _subject_identities(list(subject_dids or []))
    if not is_personal and (subjects or subject_college is not None):
        raise InvalidInput(_("Only a personal dataset names data subjects."))
    if subject_college is not None and subject_college.city_id != city.pk:
        raise InvalidInput(_("The college of the data subjects belongs to another city."))
    if is_personal and not subjects and subject_college is None:
        raise InvalidInput(
            _("A personal dataset names its data subjects (by DID) or the college they belong to.")
        )
    themes, keywords = cleaned.pop("themes"), cleaned.pop("keywords")
    dataset = Dataset(
        city=city,
        publisher_kind=publisher_kind,
        publisher_provider=provider,
        publisher_membership=membership,
        publisher_identity=publisher_identity,
        created_by=by,
        is_personal=is_personal,
        subject_college=subject_college,
        **cleaned,
    )
    dids = sorted(s.did for s in subjects)
    dataset.entry = ledger_append(
        chain=city.chain,
        actor=signer,
        kind="marketplace.dataset.create",
        payload={
            "dataset": dataset.public_id,
            "city": city.slug,
            "publisher": publisher_identity.did,
            "publisher_kind": publisher_kind,
            "metadata": metadata_digest(
                {**cleaned, "themes": themes, "keywords": sorted(keywords)}
            ),
            "themes": themes,
            "personal": is_personal,
            "subject_college": subject_college.slug if subject_college else None,
            "subjects": len(dids),
            "subjects_digest": sha256_json(dids),
        },
    )
    dataset.save()
    DatasetTheme.objects.bulk_create(DatasetTheme(dataset=dataset, code=code) for code in themes)
    DatasetKeyword.objects.bulk_create(
        DatasetKeyword(dataset=dataset, keyword=text, normalized=normalized)
        for normalized, text in sorted(keywords.items())
    )
    members = dict(
        Membership.objects.filter(
            city=city, identity__in=subjects, status=MembershipStatus.APPROVED
        ).values_list("identity_id", "pk")
    )
    DataSubject.objects.bulk_create(
        DataSubject(
            dataset=dataset,
            identity=identity,
            membership_id=members.get(identity.pk),
            source=SubjectSource.DECLARED,
        )
        for identity in subjects
    )
    return dataset


def _version_new(*, by: User, dataset: Dataset, label: str, notes: str) -> DatasetVersion:
    number = (dataset.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    kek = data_kek()
    version = DatasetVersion(
        dataset=dataset,
        number=number,
        label=clean_text(label, what=_("The version"), max_length=32, required=False)
        or str(number),
        notes=clean_text(notes, what=_("The notes"), max_length=5000, required=False),
        kek_id=kek_id(kek),
        created_by=by,
    )
    version.wrapped_key = key_wrap(data_key_generate(), kek=kek, context=version.public_id)
    version.entry = ledger_append(
        chain=dataset.city.chain,
        actor=dataset_signer(dataset, by),
        kind="marketplace.dataset.version.add",
        payload={
            "dataset": dataset.public_id,
            "version": version.public_id,
            "number": number,
            "kek": version.kek_id,
            "notes": sha256_text(version.notes),
        },
    )
    version.save()
    return version


def _pieces(content: BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    if hasattr(content, "read"):
        while piece := content.read(CHUNK_BYTES):
            yield piece
    else:
        for piece in content:
            if not isinstance(piece, bytes | bytearray | memoryview):
                raise InvalidInput(_("The file's content is bytes."))
            yield bytes(piece)


def _metered(pieces: Iterable[bytes], writer: ChunkWriter, limit: int) -> Iterator[bytes]:
    """Pass the pieces through the encrypting writer, refusing past `limit` bytes."""
    for piece in pieces:
        if writer.plaintext_bytes + len(piece) > limit:
            raise UploadTooLarge(
                _("This file is larger than %(n)s bytes, the most the platform accepts.")
                % {"n": limit}
            )
        writer.write(piece)
        yield piece


def _drain(pieces: Iterable[bytes]) -> None:
    for _piece in pieces:
        pass


def subjects_record(distribution: Distribution, counts: Counter) -> None:
    """Keep which residents' records a personal distribution holds (and mark them data
    subjects of the dataset); every subject must be a DID of the platform."""
    dataset = distribution.version.dataset
    identities = {i.did: i for i in Identity.objects.filter(did__in=list(counts))}
    unknown = sorted(set(counts) - set(identities))
    if unknown:
        raise InvalidInput(
            _("Records name subjects who are not residents of the platform: %(dids)s")
            % {"dids": ", ".join(unknown[:5])}
        )
    DistributionSubject.objects.bulk_create(
        DistributionSubject(distribution=distribution, did=did, records=count)
        for did, count in sorted(counts.items())
    )
    known = set(dataset.subjects.values_list("identity_id", flat=True))
    members = dict(
        Membership.objects.filter(
            city=dataset.city,
            identity__in=list(identities.values()),
            status=MembershipStatus.APPROVED,
        ).values_list("identity_id", "pk")
    )
    DataSubject.objects.bulk_create(
        DataSubject(
            dataset=dataset,
            identity=identity,
            membership_id=members.get(identity.pk),
            source=SubjectSource.RECORDS,
        )
        for identity in identities.values()
        if identity.pk not in known
    )


def distribution_recorded(
    distribution: Distribution, *, by: User, subjects: Counter | None = None
) -> Distribution:
    """Sign and save a new distribution (and its subjects' counts)."""
    dataset = distribution.version.dataset
    distribution.entry = ledger_append(
        chain=dataset.city.chain,
        actor=dataset_signer(dataset, by),
        kind="marketplace.dataset.distribution.add",
        payload={
            "dataset": dataset.public_id,
            "version": distribution.version.public_id,
            "distribution": distribution.public_id,
            "kind": distribution.kind,
            "format": distribution.format,
            "media_type": distribution.media_type,
            "byte_size": distribution.byte_size,
            "sha256": distribution.sha256 or None,
            "chunks": distribution.chunk_count,
            "records": distribution.record_count,
            "subjects": len(subjects) if subjects is not None else None,
            "access_url": sha256_text(distribution.access_url) if distribution.access_url else None,
        },
    )
    distribution.save()
    if subjects is not None:
        subjects_record(distribution, subjects)
    return distribution


def hosted_check(version: DatasetVersion, *, media_type: str) -> None:
    if version.dataset.is_personal and media_type not in RECORD_MEDIA_TYPES:
        raise InvalidInput(
            _(
                "A personal dataset's file is CSV (text/csv) or JSON Lines (application/jsonl) "
                "with a subject column, so that refused residents' records can be left out."
            )
        )


def _hosted_add(*, by: User, version: DatasetVersion, file: HostedFile) -> Distribution:
    file_format = _clean_format(file.format)
    media_type = clean_media_type(file.media_type)
    expected = clean_sha256(file.sha256, what=_("The declared checksum"))
    subject_field = clean_text(
        file.subject_field or SUBJECT_FIELD, what=_("The subject column"), max_length=64
    )
    hosted_check(version, media_type=media_type)
    storage_path = new_storage_path(version)
    path = absolute(storage_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("wb") as out:
            writer = ChunkWriter(out, data_key=version_data_key(version), context=storage_path)
            stream = _metered(_pieces(file.content), writer, max_upload_bytes())
            if version.dataset.is_personal:
                counts = subject_counts(stream, media_type=media_type, field=subject_field)
            else:
                counts = None
                _drain(stream)
            writer.close()
        digest = writer.sha256.hexdigest()
        if expected and digest != expected:
            raise ChecksumMismatch()
        distribution = Distribution(
            version=version,
            kind=DistributionKind.HOSTED,
            title=clean_text(file.title, what=_("The title"), max_length=300, required=False),
            format=file_format,
            media_type=media_type,
            byte_size=writer.plaintext_bytes,
            sha256=digest,
            storage_path=storage_path,
            chunk_layout=LAYOUT,
            chunk_size=CHUNK_BYTES,
            chunk_count=writer.index,
            stored_bytes=writer.stored_bytes,
            subject_field=subject_field if counts is not None else "",
            record_count=sum(counts.values()) if counts is not None else None,
            created_by=by,
        )
        return distribution_recorded(distribution, by=by, subjects=counts)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _linked_add(*, by: User, version: DatasetVersion, file: LinkedFile) -> Distribution:
    if version.dataset.is_personal:
        raise InvalidInput(
            _(
                "Personal data is hosted on the platform (encrypted), so that refused "
                "residents' records can be left out of deliveries."
            )
        )
    byte_size = file.byte_size
    if byte_size is not None and (type(byte_size) is not int or byte_size < 0):
        raise InvalidInput(_("The size is a whole number of bytes."))
    distribution = Distribution(
        version=version,
        kind=DistributionKind.ACCESS_URL,
        title=clean_text(file.title, what=_("The title"), max_length=300, required=False),
        format=_clean_format(file.format),
        media_type=clean_media_type(file.media_type),
        byte_size=byte_size,
        sha256=clean_sha256(file.sha256, what=_("The declared checksum")),
        access_url=clean_url(file.access_url, what=_("The access URL")),
        created_by=by,
    )
    return distribution_recorded(distribution, by=by)


def _managed(by: User, dataset: Dataset) -> None:
    if not can_manage_dataset(by, dataset):
        raise NotAllowed(_("Only the dataset's publisher adds its versions and files."))


@transaction.atomic
def dataset_version_add(
    *,
    by: User,
    dataset: Dataset,
    label: str = "",
    notes: str = "",
    files: Sequence[HostedFile] = (),
    links: Sequence[LinkedFile] = (),
) -> DatasetVersion:
    """Add a version to a dataset, with a fresh data key, and its distributions: `files` are
    hosted (encrypted as they stream in, SHA-256 computed on the way), `links` stay on the
    producer's infrastructure. More files may come later by chunked upload
    (`upload_start`) or `distribution_add`. Each step is signed on the city's chain."""
    _managed(by, dataset)
    version = _version_new(by=by, dataset=dataset, label=label, notes=notes)
    for file in files:
        _hosted_add(by=by, version=version, file=file)
    for link in links:
        _linked_add(by=by, version=version, file=link)
    return version


@transaction.atomic
def distribution_add(
    *, by: User, version: DatasetVersion, file: HostedFile | LinkedFile
) -> Distribution:
    """Add one distribution (a hosted file or an access URL) to an existing version."""
    _managed(by, version.dataset)
    if isinstance(file, HostedFile):
        return _hosted_add(by=by, version=version, file=file)
    return _linked_add(by=by, version=version, file=file)

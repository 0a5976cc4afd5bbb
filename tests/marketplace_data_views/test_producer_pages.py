"""Producers' pages: describe a dataset (DCAT-AP), add a version, add a hosted file with the
plain multipart form (the page without JavaScript), an access URL, a link of a field to an
ontology term. Anonymous visitors are sent to log in; a member of another city may neither
publish here nor upload to this city's datasets."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Transaction
from marketplace.data.models import (
    Dataset,
    DatasetVersion,
    Distribution,
    FieldMapping,
    ReviewStatus,
)
from tests.factories import dataset_make

from .conftest import AIR_NS, HX, logged_in, login_redirect, url

pytestmark = pytest.mark.django_db

CSV = b"station,date,pm10\nCOMEDIE,2026-03-01,19\nANTIGONE,2026-03-01,15\nGARE,2026-03-01,30\n"


def dataset_fields(**changes) -> dict:
    fields = {
        "publisher": "municipality",
        "title": "Compteurs vélo",
        "description": "Passages de vélos, heure par heure, sur les pistes de la ville.",
        "themes": ["TRAN", "ENVI"],
        "keywords": "vélo, mobilité\ncomptage",
        "licence": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        "frequency": "DAILY",
        "temporal_start": "2026-01-01",
        "temporal_end": "",
        "spatial_uri": "",
        "landing_page": "",
        "contact_name": "Service mobilité",
        "contact_email": "mobilite@ville.example.org",
        "subject_college": "",
        "subject_dids": "",
    }
    fields.update(changes)
    return fields


def chain_size(city) -> int:
    return Transaction.objects.filter(chain=city.chain).count()


# --- a dataset's description ----------------------------------------------------------------


def test_staff_publish_a_dataset_for_the_municipality(client, city, staff):
    response = logged_in(client, staff).post(url("dataset_create", city.slug), dataset_fields())

    dataset = Dataset.objects.get(title="Compteurs vélo")
    assert response.status_code == 302
    assert response["Location"] == url("version_create", city.slug, dataset.public_id)
    assert dataset.publisher_kind == "municipality" and dataset.city == city
    assert sorted(k.keyword for k in dataset.keywords.all()) == ["comptage", "mobilité", "vélo"]
    assert sorted(t.code for t in dataset.themes.all()) == ["ENVI", "TRAN"]
    assert dataset.entry.kind == "marketplace.dataset.create"


def test_a_provider_publishes_for_its_organisation(client, city, provider, provider_member):
    client = logged_in(client, provider_member.user)
    form = client.get(url("dataset_create", city.slug)).content.decode()
    assert "Capteurs SAS" in form and ">the municipality</option>" not in form

    client.post(
        url("dataset_create", city.slug),
        dataset_fields(publisher=f"provider:{provider.public_id}"),
    )

    dataset = Dataset.objects.get(title="Compteurs vélo")
    assert dataset.publisher_provider == provider
    assert dataset.publisher_identity == provider.identity


def test_a_personal_dataset_names_its_subjects(client, city, staff, resident):
    logged_in(client, staff).post(
        url("dataset_create", city.slug),
        dataset_fields(is_personal="on", subject_dids=resident.identity.did),
    )

    dataset = Dataset.objects.get(title="Compteurs vélo")
    assert dataset.is_personal
    assert list(dataset.subjects.values_list("identity__did", flat=True)) == [resident.identity.did]


def test_a_refusal_of_the_service_shows_on_the_form_and_writes_nothing(client, city, staff):
    before = chain_size(city)
    response = logged_in(client, staff).post(
        url("dataset_create", city.slug), dataset_fields(is_personal="on")
    )

    assert response.status_code == 400
    assert "names its data subjects" in response.content.decode()
    assert not Dataset.objects.exists() and chain_size(city) == before


def test_invalid_fields_answer_400_with_the_form(client, city, staff):
    response = logged_in(client, staff).post(
        url("dataset_create", city.slug), dataset_fields(themes=[], contact_email="nope")
    )

    assert response.status_code == 400
    assert not Dataset.objects.exists()
    assert "Enter a valid email address." in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in_for_every_write(client, city, dataset):
    version = dataset.versions.get()
    for target in (
        url("dataset_create", city.slug),
        url("version_create", city.slug, dataset.public_id),
        url("version_upload", city.slug, version.public_id),
        url("mapping_create", city.slug, dataset.public_id),
    ):
        assert login_redirect(client.get(target)), target
        assert login_redirect(client.post(target, {})), target
    assert login_redirect(client.post(url("distribution_link", city.slug, version.public_id), {}))
    assert DatasetVersion.objects.count() == 1


def test_a_member_of_another_city_cannot_publish_here(client, city, foreign_member):
    client = logged_in(client, foreign_member)

    assert client.get(url("dataset_create", city.slug)).status_code == 403
    assert client.post(url("dataset_create", city.slug), dataset_fields()).status_code == 403
    assert not Dataset.objects.exists()


# --- versions and files ---------------------------------------------------------------------


def test_the_publisher_adds_a_version_then_uploads_a_file_without_javascript(
    client, city, staff, dataset, data_root
):
    client = logged_in(client, staff)
    response = client.post(
        url("version_create", city.slug, dataset.public_id),
        {"label": "2026-03", "notes": "Mars."},
    )
    version = dataset.versions.get(label="2026-03")
    assert response["Location"] == url("version_upload", city.slug, version.public_id)

    page = client.get(response["Location"]).content.decode()
    assert "data-chunked-upload" in page and "/static/js/upload.js" in page
    assert f"/api/v1/marketplace/data/versions/{version.public_id}/uploads" in page
    assert "<script>" not in page  # no inline script: the CSP allows 'self' only

    response = client.post(
        url("version_upload", city.slug, version.public_id),
        {
            "file": SimpleUploadedFile("mars.csv", CSV, content_type="text/csv"),
            "format": "CSV",
            "media_type": "",
            "title": "Mars 2026",
            "sha256": hashlib.sha256(CSV).hexdigest().upper(),
        },
    )

    distribution = Distribution.objects.get(version=version)
    assert response.status_code == 302
    detail = url("dataset_detail", city.slug, dataset.public_id)
    assert response["Location"] == f"{detail}?uploaded={distribution.public_id}"
    assert distribution.sha256 == hashlib.sha256(CSV).hexdigest()
    assert distribution.media_type == "text/csv" and distribution.byte_size == len(CSV)
    stored = (data_root / distribution.storage_path).read_bytes()
    assert b"COMEDIE" not in stored  # encrypted at rest
    page = client.get(response["Location"]).content.decode()
    assert distribution.sha256 in page and "just received" in page


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(client, city, staff, dataset, data_root):
    version = dataset.versions.get()
    before = Distribution.objects.count()

    response = logged_in(client, staff).post(
        url("version_upload", city.slug, version.public_id),
        {
            "file": SimpleUploadedFile("mars.csv", CSV),
            "format": "CSV",
            "sha256": "0" * 64,
        },
    )

    assert response.status_code == 400
    assert "checksum is not the one declared" in response.content.decode()
    assert Distribution.objects.count() == before
    assert len(list(data_root.rglob("*.bin"))) == before  # the ciphertext was removed


def test_an_oversized_file_is_refused_clearly(client, city, staff, dataset, settings):
    settings.SMARTB_DATA_MAX_UPLOAD_BYTES = 10
    response = logged_in(client, staff).post(
        url("version_upload", city.slug, dataset.versions.get().public_id),
        {"file": SimpleUploadedFile("mars.csv", CSV), "format": "CSV"},
    )

    assert response.status_code == 400
    assert "larger than 10 bytes" in response.content.decode()


def test_the_publisher_adds_an_access_url(client, city, staff, dataset):
    version = dataset.versions.get()
    response = logged_in(client, staff).post(
        url("distribution_link", city.slug, version.public_id),
        {"access_url": "https://data.example.org/velos.csv", "format": "CSV"},
    )

    assert response.status_code == 302
    link = Distribution.objects.get(version=version, kind="access_url")
    assert link.access_url == "https://data.example.org/velos.csv"
    assert link.media_type == "text/csv"


def test_a_member_of_another_city_cannot_upload_to_this_city_s_dataset(
    client, city, dataset, foreign_staff, foreign_member
):
    version = dataset.versions.get()
    before = Distribution.objects.count()
    for user in (foreign_member, foreign_staff):
        client = logged_in(client, user)
        upload = url("version_upload", city.slug, version.public_id)
        assert client.get(upload).status_code == 403
        response = client.post(upload, {"file": SimpleUploadedFile("x.csv", CSV), "format": "CSV"})
        assert response.status_code == 403
        assert client.post(url("version_create", city.slug, dataset.public_id)).status_code == 403
        link = url("distribution_link", city.slug, version.public_id)
        assert client.post(link, {"access_url": "https://x.example.org/a.csv"}).status_code == 403
    assert Distribution.objects.count() == before
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def test_a_version_is_found_only_under_its_own_city(client, city, other_city, foreign_staff, staff):
    theirs = dataset_make(city=other_city, by=foreign_staff, files=[])
    from marketplace.data.services import dataset_version_add

    version = dataset_version_add(by=foreign_staff, dataset=theirs)

    response = logged_in(client, foreign_staff).get(
        url("version_upload", city.slug, version.public_id)
    )

    assert response.status_code == 404


# --- links of fields to ontology terms ------------------------------------------------------


def test_the_publisher_links_a_field_to_an_accepted_term(client, city, staff, dataset, ontology):
    client = logged_in(client, staff)
    form = client.get(url("mapping_create", city.slug, dataset.public_id)).content.decode()
    assert "Monitoring station" in form or "Station de mesure" in form

    response = client.post(
        url("mapping_create", city.slug, dataset.public_id),
        {"field_name": "station", "term": f"{ontology.public_id} {AIR_NS}Station"},
        **HX,
    )

    mapping = FieldMapping.objects.get(dataset=dataset)
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("dataset_detail", city.slug, dataset.public_id)
    assert mapping.status == ReviewStatus.PENDING and mapping.term.iri == f"{AIR_NS}Station"


def test_a_term_that_is_not_offered_is_refused(client, city, staff, dataset, ontology):
    response = logged_in(client, staff).post(
        url("mapping_create", city.slug, dataset.public_id),
        {"field_name": "station", "term": f"{ontology.public_id} {AIR_NS}Nothing"},
        **HX,
    )

    assert response.status_code == 400
    assert not FieldMapping.objects.exists()
    assert response.content.decode().lstrip().startswith('<div id="mapping-form"')


def test_someone_else_cannot_link_the_fields(client, city, dataset, ontology, resident):
    response = logged_in(client, resident.user).post(
        url("mapping_create", city.slug, dataset.public_id),
        {"field_name": "station", "term": f"{ontology.public_id} {AIR_NS}Station"},
    )

    assert response.status_code == 403
    assert not FieldMapping.objects.exists()

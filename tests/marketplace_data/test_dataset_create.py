"""Publishing a dataset's DCAT-AP 3 description in a city's catalogue."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from governance.models import College
from ledger.models import Transaction
from marketplace.data.errors import InvalidInput, NotAllowed
from marketplace.data.models import (
    Dataset,
    DataSubject,
    PublisherKind,
    SubjectSource,
)
from marketplace.data.services import dataset_create
from tests.factories import UserFactory, dataset_make, dataset_metadata


def _ledger_kinds(city):
    return list(city.chain.entries.values_list("kind", flat=True))


def test_the_municipality_publishes_with_its_themes_and_keywords(city, staff):
    dataset = dataset_make(city=city, by=staff)
    assert dataset.publisher_kind == PublisherKind.MUNICIPALITY
    assert dataset.publisher_identity == city.identity
    assert sorted(dataset.themes.values_list("code", flat=True)) == ["ENVI", "HEAL"]
    assert sorted(dataset.keywords.values_list("normalized", flat=True)) == [
        "air",
        "pm10",
        "pollution",
    ]
    entry = dataset.entry
    assert entry.kind == "marketplace.dataset.create"
    assert entry.actor == staff.primary_identity.did
    assert entry.payload["dataset"] == dataset.public_id
    assert entry.payload["publisher"] == city.identity.did
    assert len(entry.payload["metadata"]) == 64
    # The texts stay off the ledger.
    assert "Qualité" not in str(entry.payload)
    assert "pollution" not in str(entry.payload)
    assert "environnement@" not in str(entry.payload)


def test_a_provider_publishes_signed_by_its_did(city, provider):
    dataset = dataset_make(
        city=city, by=provider.owner, publisher_kind="provider", provider=provider
    )
    assert dataset.publisher_provider == provider
    assert dataset.entry.actor == provider.identity.did


def test_a_member_publishes_as_themself(city, resident):
    dataset = dataset_make(city=city, by=resident.user, publisher_kind="member")
    assert dataset.publisher_membership == resident
    assert dataset.publisher_identity == resident.identity


def test_a_stranger_cannot_publish_for_the_municipality_nor_for_a_provider(city, provider):
    stranger = UserFactory()
    before = Transaction.objects.count()
    with pytest.raises(NotAllowed):
        dataset_make(city=city, by=stranger)
    with pytest.raises(NotAllowed):
        dataset_make(city=city, by=stranger, publisher_kind="provider", provider=provider)
    with pytest.raises(NotAllowed):
        dataset_make(city=city, by=stranger, publisher_kind="member")
    assert Transaction.objects.count() == before
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": "  "}, "title"),
        ({"licence": "not a url"}, "licence"),
        ({"contact_email": "nobody"}, "e-mail"),
        ({"themes": []}, "theme"),
        ({"themes": ["SPACE"]}, "theme"),
        ({"frequency": "SOMETIMES"}, "frequency"),
        ({"temporal_start": "2026-05-01", "temporal_end": "2026-01-01"}, "ends before"),
        ({"temporal_start": "yesterday"}, "date"),
        ({"keywords": [f"k{n}" for n in range(31)]}, "keywords"),
    ],
)
def test_bad_metadata_is_refused_with_a_clear_message(city, staff, fields, message):
    with pytest.raises(InvalidInput) as refused:
        dataset_make(city=city, by=staff, **fields)
    assert message in refused.value.message.lower()
    assert not Dataset.objects.exists()


def test_a_personal_dataset_names_its_subjects(city, staff, resident, neighbour):
    dataset = dataset_make(
        city=city,
        by=staff,
        is_personal=True,
        subject_dids=[resident.identity.did, neighbour.identity.did],
    )
    subjects = DataSubject.objects.filter(dataset=dataset)
    assert {s.identity_id for s in subjects} == {resident.identity_id, neighbour.identity_id}
    assert {s.membership_id for s in subjects} == {resident.pk, neighbour.pk}
    assert {s.source for s in subjects} == {SubjectSource.DECLARED}
    payload = dataset.entry.payload
    assert payload["personal"] is True and payload["subjects"] == 2
    # Who is in a personal dataset is not published on the ledger.
    assert resident.identity.did not in str(payload)


def test_a_personal_dataset_may_name_a_college_instead(city, staff):
    residents = College.objects.get(city=city, slug="residents")
    dataset = dataset_make(city=city, by=staff, is_personal=True, subject_college=residents)
    assert dataset.subject_college == residents
    assert dataset.entry.payload["subject_college"] == "residents"


def test_a_personal_dataset_without_subjects_and_an_open_one_with_subjects_are_refused(
    city, staff, resident, other_city
):
    with pytest.raises(InvalidInput):
        dataset_make(city=city, by=staff, is_personal=True)
    with pytest.raises(InvalidInput):
        dataset_make(city=city, by=staff, subject_dids=[resident.identity.did])
    with pytest.raises(InvalidInput):
        dataset_make(
            city=city,
            by=staff,
            is_personal=True,
            subject_college=College.objects.get(city=other_city, slug="residents"),
        )
    with pytest.raises(InvalidInput):
        dataset_make(city=city, by=staff, is_personal=True, subject_dids=["did:key:z6Mkunknown"])
    assert not Dataset.objects.exists()


def test_the_database_refuses_a_publisher_that_does_not_match_its_kind(city, staff, provider):
    dataset = dataset_make(city=city, by=staff)
    dataset.publisher_provider = provider
    with pytest.raises(IntegrityError):
        dataset.save()


def test_the_metadata_digest_changes_with_the_description(city, staff):
    one = dataset_create(
        by=staff, city=city, metadata=dataset_metadata(), publisher_kind="municipality"
    )
    two = dataset_create(
        by=staff,
        city=city,
        metadata=dataset_metadata(description="Autre description."),
        publisher_kind="municipality",
    )
    assert one.entry.payload["metadata"] != two.entry.payload["metadata"]

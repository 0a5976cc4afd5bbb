"""Curators of the city accept or refuse ontologies and field links by a majority of the
quorum; refusals say why; the curators on the winning side earn a bounty."""

from __future__ import annotations

import pytest

from marketplace.data.errors import (
    AlreadyCurated,
    InvalidInput,
    NotAllowed,
    NotCurator,
    WrongState,
)
from marketplace.data.models import Curation, ReviewStatus
from marketplace.data.services import (
    curation_record,
    curators_college_open,
    field_mapping_propose,
    ontology_submit,
)
from marketplace.models import Task, TaskKind, TaskPayer, TaskStatus
from marketplace.services import task_pay
from tests.factories import dataset_make
from tests.governance.helpers import join

from .ontologies import AIR_TTL

AIR = "https://vocab.smartb.example.org/air#"


@pytest.fixture
def ontology(city, resident):
    return ontology_submit(
        by=resident.user,
        city=city,
        name="Air",
        namespace=AIR,
        version="1",
        format="turtle",
        source=AIR_TTL,
    )


def test_one_curator_accepts_by_default_and_is_rewarded(city, ontology, curator):
    curation = curation_record(by=curator.user, ontology=ontology, decision="accept")
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.ACCEPTED
    assert ontology.decision_entry.kind == "marketplace.ontology.decide"
    assert ontology.decision_entry.actor == city.identity.did
    assert curation.entry.actor == curator.identity.did
    assert curation.entry.payload["decision"] == "accept"
    task = curation.task
    assert task.kind == TaskKind.CURATE_DATASET and task.payer == TaskPayer.CITY
    assert task.status == TaskStatus.COMPLETED
    assert task.claimant == curator.user
    assert task.reward_cents == curation.reward_cents == 500
    kinds = list(city.chain.entries.order_by("index").values_list("kind", flat=True))[-5:]
    assert kinds == [
        "marketplace.curation.record",
        "marketplace.ontology.decide",
        "marketplace.task.create",
        "marketplace.task.claim",
        "marketplace.task.complete",
    ]


def test_the_city_staff_record_the_reward_as_owed(ontology, curator, staff):
    curation = curation_record(by=curator.user, ontology=ontology, decision="accept")
    task = task_pay(task=curation.task, by=staff)
    assert task.status == TaskStatus.OWED
    assert task.payment_entry.payload["payee"] == curator.user.primary_identity.did


def test_a_refusal_needs_a_reason_and_says_it(ontology, curator):
    with pytest.raises(InvalidInput):
        curation_record(by=curator.user, ontology=ontology, decision="refuse")
    curation = curation_record(
        by=curator.user, ontology=ontology, decision="refuse", reason="Doublon de SOSA."
    )
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.REFUSED
    assert ontology.reason == "Doublon de SOSA."
    assert "Doublon" not in str(curation.entry.payload)
    assert len(curation.entry.payload["reason"]) == 64


def test_a_majority_of_the_quorum_decides(settings, city, staff, ontology, curator, second_curator):
    settings.SMARTB_CURATION_QUORUM = 3
    third = join(city, "curators", by=staff)
    first = curation_record(by=curator.user, ontology=ontology, decision="accept")
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.PENDING and first.task is None
    curation_record(by=second_curator.user, ontology=ontology, decision="refuse", reason="Non.")
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.PENDING
    curation_record(by=third.user, ontology=ontology, decision="accept")
    ontology.refresh_from_db()
    assert ontology.status == ReviewStatus.ACCEPTED
    rewarded = Curation.objects.filter(task__isnull=False).values_list("curator_id", flat=True)
    assert set(rewarded) == {curator.pk, third.pk}  # the refusing curator earns nothing
    assert Task.objects.count() == 2


def test_a_curator_decides_once_and_not_after_the_decision(
    settings, city, staff, ontology, curator, second_curator
):
    settings.SMARTB_CURATION_QUORUM = 3
    curation_record(by=curator.user, ontology=ontology, decision="accept")
    with pytest.raises(AlreadyCurated):
        curation_record(by=curator.user, ontology=ontology, decision="accept")
    settings.SMARTB_CURATION_QUORUM = 1
    curation_record(by=second_curator.user, ontology=ontology, decision="accept")
    third = join(city, "curators", by=staff)
    with pytest.raises(WrongState):
        curation_record(by=third.user, ontology=ontology, decision="accept")


def test_only_curators_of_the_city_curate_and_never_their_own(
    city, other_city, operator, ontology, resident, staff, curators
):
    with pytest.raises(NotCurator):
        curation_record(by=staff, ontology=ontology, decision="accept")
    from tests.governance.helpers import appoint

    other_staff = appoint(other_city, operator).user
    curators_college_open(by=other_staff, city=other_city)
    elsewhere = join(other_city, "curators", by=other_staff)
    with pytest.raises(NotCurator):
        curation_record(by=elsewhere.user, ontology=ontology, decision="accept")
    submitter_as_curator = join(city, "curators", by=staff)
    own = ontology_submit(
        by=submitter_as_curator.user,
        city=city,
        name="Mine",
        namespace="https://vocab.smartb.example.org/mine#",
        version="1",
        format="turtle",
        source=AIR_TTL,
    )
    with pytest.raises(NotAllowed):
        curation_record(by=submitter_as_curator.user, ontology=own, decision="accept")
    assert not Curation.objects.exists()


def test_no_reward_when_the_reward_is_zero(settings, ontology, curator):
    settings.SMARTB_CURATION_REWARD_CENTS = 0
    curation = curation_record(by=curator.user, ontology=ontology, decision="accept")
    assert curation.task is None and curation.reward_cents == 0
    assert not Task.objects.exists()


def test_a_field_link_is_curated_like_an_ontology(city, staff, ontology, curator, second_curator):
    curation_record(by=curator.user, ontology=ontology, decision="accept")
    ontology.refresh_from_db()
    dataset = dataset_make(city=city, by=staff)
    term = ontology.terms.get(iri=f"{AIR}pm10")
    mapping = field_mapping_propose(by=staff, dataset=dataset, field_name="pm10", term=term)
    assert mapping.status == ReviewStatus.PENDING
    assert mapping.entry.kind == "marketplace.mapping.propose"
    with pytest.raises(WrongState):
        field_mapping_propose(by=staff, dataset=dataset, field_name="pm10", term=term)
    curation = curation_record(by=second_curator.user, mapping=mapping, decision="accept")
    mapping.refresh_from_db()
    assert mapping.status == ReviewStatus.ACCEPTED
    assert mapping.decision_entry.kind == "marketplace.mapping.decide"
    assert curation.task.status == TaskStatus.COMPLETED


def test_the_publisher_of_a_dataset_never_curates_its_links(city, staff, ontology, curator):
    curation_record(by=curator.user, ontology=ontology, decision="accept")
    ontology.refresh_from_db()
    dataset = dataset_make(city=city, by=curator.user, publisher_kind="member")
    mapping = field_mapping_propose(
        by=curator.user, dataset=dataset, field_name="station", term=ontology.terms.first()
    )
    with pytest.raises(NotAllowed):
        curation_record(by=curator.user, mapping=mapping, decision="accept")

"""Evidence: files with their SHA-256 computed on upload (the file stays off the ledger),
datasets by id and digest; completeness is computed from the methodology's requirements."""

from __future__ import annotations

import hashlib

import pytest

from impact.compute import missing_requirements
from impact.errors import InvalidInput, NotAllowed, WrongState
from impact.services import evidence_add_dataset, evidence_add_file

from .helpers import TRIPS, add_trips, approve, draft_claim, submitted_claim, writes_nothing

DIGEST = "ab" * 32


def test_a_file_is_digested_on_upload_and_only_its_digest_is_on_the_ledger(resident):
    claim = draft_claim(resident)
    assert missing_requirements(claim) == ["trip-log"]
    evidence = add_trips(claim)
    assert evidence.sha256 == hashlib.sha256(TRIPS).hexdigest()
    assert bytes(evidence.content) == TRIPS and evidence.size == len(TRIPS)
    assert evidence.entry.payload == {
        "claim": claim.public_id,
        "evidence": evidence.public_id,
        "type": "trip-export",
        "sha256": evidence.sha256,
        "dataset": None,
    }
    assert missing_requirements(claim) == []


def test_a_dataset_meets_the_requirement_too(resident):
    claim = draft_claim(resident)
    evidence_add_dataset(
        claim=claim,
        by=resident.user,
        evidence_type="trip-dataset",
        dataset_ref="ds-42",
        sha256=DIGEST,
    )
    assert missing_requirements(claim) == []


def test_the_kind_must_match_the_evidence_type(resident):
    claim = draft_claim(resident)
    with writes_nothing(), pytest.raises(InvalidInput):
        evidence_add_dataset(
            claim=claim,
            by=resident.user,
            evidence_type="trip-export",
            dataset_ref="ds",
            sha256=DIGEST,
        )
    with writes_nothing(), pytest.raises(InvalidInput):
        evidence_add_file(
            claim=claim,
            by=resident.user,
            evidence_type="weighing-ticket",
            filename="t.pdf",
            content=b"x",
        )


@pytest.mark.parametrize(
    ("ref", "digest"),
    [("ds 42", DIGEST), ("", DIGEST), ("ds", "AB" * 32), ("ds", "ab"), ("ds", None)],
)
def test_datasets_are_cited_by_id_and_sha256(resident, ref, digest):
    claim = draft_claim(resident)
    with writes_nothing(), pytest.raises(InvalidInput):
        evidence_add_dataset(
            claim=claim,
            by=resident.user,
            evidence_type="trip-dataset",
            dataset_ref=ref,
            sha256=digest,
        )


def test_empty_and_oversized_files_are_refused(resident):
    claim = draft_claim(resident)
    for content in (b"", b"x" * (5 * 1024 * 1024 + 1)):
        with writes_nothing(), pytest.raises(InvalidInput):
            add_trips(claim, content)


def test_the_same_file_twice_is_refused(resident):
    claim = draft_claim(resident)
    add_trips(claim)
    with writes_nothing(), pytest.raises(WrongState):
        add_trips(claim)


def test_only_whoever_made_the_claim_adds_evidence_before_the_decision(
    resident, neighbour, curator_member
):
    claim = draft_claim(resident)
    with writes_nothing(), pytest.raises(NotAllowed):
        evidence_add_file(
            claim=claim,
            by=neighbour.user,
            evidence_type="trip-export",
            filename="x.csv",
            content=b"1",
        )
    decided = submitted_claim(resident)
    approve(decided, curator_member)
    with writes_nothing(), pytest.raises(NotAllowed):
        add_trips(decided, b"later")

"""One witnessing round: cosign what extends the last checkpoint seen, refuse (and keep as
evidence) what does not, and say nothing twice."""

from __future__ import annotations

import pytest
from django.core import mail

from identity.models import Notification
from ledger.models import Chain
from ledger.selectors import consistency_proof
from ledger.services import chain_seal
from witnesses.cosignature import verify_cosignature
from witnesses.models import Cosignature, Inconsistency, Reason
from witnesses.services import witness_add, witness_all, witness_key_name, witness_observe

from .conftest import FakeFetcher, grow, signed_checkpoint


def size_of(city) -> int:
    return Chain.objects.get(pk=city.chain_id).size


@pytest.fixture
def relation(city, staff, watched):
    return witness_add(city=city, by=staff, chain=watched.chain)


def test_first_round_cosigns_and_a_second_changes_nothing(city, watched, relation):
    first = witness_observe(relation=relation)
    assert first.outcome == "cosigned"
    cosignature = first.cosignature
    assert cosignature.tree_size == watched.chain.sealed_size
    checked = verify_cosignature(
        cosignature.checkpoint + cosignature.line,
        name=witness_key_name(city),
        public_key=city.identity.public_key,
    )
    assert checked.timestamp == cosignature.timestamp
    size = size_of(city)
    assert witness_observe(relation=relation).outcome == "unchanged"
    assert Cosignature.objects.count() == 1
    assert size_of(city) == size  # cosigning writes no ledger transaction


def test_a_grown_log_is_cosigned_after_its_consistency_proof(watched, relation):
    witness_observe(relation=relation)
    seen = watched.chain.sealed_size
    grow(watched, 3)
    result = witness_observe(relation=relation)
    assert result.outcome == "cosigned"
    relation.refresh_from_db()
    assert relation.last_size == seen + 3 > seen
    assert list(relation.cosignatures.values_list("tree_size", flat=True)) == [seen + 3, seen]


def test_an_inconsistent_checkpoint_is_refused_kept_and_announced_once(
    city, watched, relation, eager_celery, django_capture_on_commit_callbacks
):
    witness_observe(relation=relation)
    relation.refresh_from_db()
    seen_size, seen_root = relation.last_size, relation.last_root
    # The log signs another root for the size the witness already cosigned: a fork.
    forked = signed_checkpoint(watched.chain.slug, seen_size, b"\x42" * 32)
    city_size = size_of(city)
    with django_capture_on_commit_callbacks(execute=True):
        result = witness_observe(relation=relation, fetcher=FakeFetcher(forked))
    assert result.outcome == "refused"
    evidence = Inconsistency.objects.get()
    assert evidence.reason == Reason.FORK
    assert evidence.old_checkpoint == relation.last_checkpoint
    assert evidence.new_checkpoint == forked
    relation.refresh_from_db()
    assert (relation.last_size, relation.last_root) == (seen_size, seen_root)
    assert relation.last_error
    assert not Cosignature.objects.filter(root=(b"\x42" * 32).hex()).exists()
    # Its digests on the witness's chain, signed by the witnessing city.
    entry = city.chain.entries.get(kind="witnesses.inconsistency.record")
    assert size_of(city) == city_size + 1
    assert entry.actor == city.identity.did
    assert entry.payload["evidence"] == evidence.digest
    assert entry.payload["new_root"] == (b"\x42" * 32).hex()
    # Both municipalities are alerted.
    told = set(Notification.objects.values_list("user__email", flat=True))
    staff_emails = {
        c.memberships.get(college__kind="municipality").user.email for c in (city, watched)
    }
    assert told == staff_emails
    assert len(mail.outbox) == 2
    # Shown again, the same evidence is neither kept nor announced twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = witness_observe(relation=relation, fetcher=FakeFetcher(forked))
    assert again.outcome == "refused"
    assert Inconsistency.objects.count() == 1
    assert size_of(city) == city_size + 1
    assert len(mail.outbox) == 2


def test_a_smaller_tree_is_refused_as_a_rollback(watched, relation):
    witness_observe(relation=relation)
    grow(watched, 2)
    witness_observe(relation=relation)
    relation.refresh_from_db()
    older = relation.cosignatures.order_by("tree_size").first().checkpoint
    result = witness_observe(relation=relation, fetcher=FakeFetcher(older))
    assert result.outcome == "refused"
    assert result.inconsistency.reason == Reason.ROLLBACK


def test_a_larger_tree_whose_proof_fails_is_refused(watched, relation):
    witness_observe(relation=relation)
    seen = watched.chain.sealed_size
    grow(watched, 2)
    real = consistency_proof(chain=watched.chain, first=seen, second=seen + 2)
    proof = [bytes.fromhex(h) for h in real["proof"]]
    # A tree of the right size but not the one that extends what the witness saw.
    fetcher = FakeFetcher(signed_checkpoint(watched.chain.slug, seen + 2, b"\x07" * 32), proof)
    result = witness_observe(relation=relation, fetcher=fetcher)
    assert fetcher.asked == [(seen, seen + 2)]
    assert result.outcome == "refused"
    assert result.inconsistency.reason == Reason.BAD_PROOF
    assert result.inconsistency.proof["proof"] == real["proof"]
    # The real checkpoint, with the real proof, is still cosigned afterwards.
    assert witness_observe(relation=relation).outcome == "cosigned"


def test_unsigned_or_foreign_checkpoints_are_errors_not_evidence(city, watched, relation):
    witness_observe(relation=relation)
    relation.refresh_from_db()
    body_only = relation.last_checkpoint.split("\n\n")[0] + "\n\n\u2014 someone AAAAAAAA\n"
    other_origin = signed_checkpoint("elsewhere", relation.last_size, b"\x01" * 32)
    for text in ("not a checkpoint", body_only, other_origin):
        assert witness_observe(relation=relation, fetcher=FakeFetcher(text)).outcome == "error"
    assert not Inconsistency.objects.exists()
    assert not city.chain.entries.filter(kind="witnesses.inconsistency.record").exists()


def test_the_beat_round_covers_every_active_relation(city, staff, watched, relation):
    witness_add(city=city, by=staff, chain=Chain.objects.get(slug="network"))
    chain_seal(chain="network")
    assert witness_all() == {"cosigned": 2}
    assert witness_all() == {"unchanged": 2}

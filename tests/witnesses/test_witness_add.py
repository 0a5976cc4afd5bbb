"""Starting and stopping witnessing: the witnessing city's staff only, signed on its chain."""

from __future__ import annotations

import pytest

from ledger.models import Transaction
from ledger.signing import checkpoint_origin
from tests.factories import UserFactory
from witnesses.errors import AlreadyWitnessing, InvalidWitness, NotAllowed
from witnesses.models import Source, WitnessRelation
from witnesses.services import witness_add, witness_observe, witness_remove


def test_staff_add_a_local_chain_pinning_its_validators(city, staff, watched):
    relation = witness_add(city=city, by=staff, chain=watched.chain)
    assert relation.source == Source.LOCAL
    assert relation.origin == checkpoint_origin(watched.chain.slug)
    assert relation.log_keys and relation.quorum >= 1
    entry = city.chain.entries.get(kind="witnesses.relation.add")
    assert entry.actor == staff.primary_identity.did
    assert entry.payload["relation"] == relation.public_id
    assert entry.payload["validators"] == relation.log_keys


def test_only_the_citys_staff_may_add(city, watched):
    outsider = watched.memberships.get(college__kind="municipality").user
    before = Transaction.objects.count()
    for user in (UserFactory(), outsider):
        with pytest.raises(NotAllowed):
            witness_add(city=city, by=user, chain=watched.chain)
    assert not WitnessRelation.objects.exists()
    assert Transaction.objects.count() == before + 1  # the new account's DID only


def test_a_city_does_not_witness_itself_nor_twice(city, staff, watched):
    with pytest.raises(InvalidWitness):
        witness_add(city=city, by=staff, chain=city.chain)
    witness_add(city=city, by=staff, chain=watched.chain)
    with pytest.raises(AlreadyWitnessing):
        witness_add(city=city, by=staff, chain=watched.chain)


def test_a_remote_log_needs_its_origin_and_valid_validator_dids(city, staff, watched):
    with pytest.raises(InvalidWitness):
        witness_add(city=city, by=staff, base_url="https://x.example", log_slug="a", origin="x/a")
    with pytest.raises(InvalidWitness):
        witness_add(
            city=city,
            by=staff,
            base_url="https://x.example",
            log_slug="a",
            origin="x/a",
            log_keys=["did:key:nope"],
        )
    did = watched.identity.did
    with pytest.raises(InvalidWitness):  # a quorum above the number of keys
        witness_add(
            city=city,
            by=staff,
            base_url="https://x.example",
            log_slug="a",
            origin="x/a",
            log_keys=[did],
            quorum=2,
        )
    relation = witness_add(
        city=city,
        by=staff,
        base_url="https://x.example/",
        log_slug="a",
        origin="x.example/ledger/a",
        log_keys=[did],
    )
    assert relation.source == Source.REMOTE and relation.chain is None


def test_removing_stops_and_is_signed(city, staff, watched):
    relation = witness_add(city=city, by=staff, chain=watched.chain)
    witness_remove(relation=relation, by=staff)
    relation.refresh_from_db()
    assert relation.removed_at is not None
    assert city.chain.entries.filter(kind="witnesses.relation.remove").count() == 1
    with pytest.raises(InvalidWitness):
        witness_remove(relation=relation, by=staff)
    assert witness_observe(relation=relation).outcome == "error"  # no round once stopped
    assert not relation.cosignatures.exists()
    # Stopped, the log may be witnessed again.
    witness_add(city=city, by=staff, chain=watched.chain)

"""A witness follows the validator-set changes of the log it watches, as a light client: a
change is accepted only when the log proves it (the change transaction signed, included in
the checkpointed tree, sealed by a quorum of the set in force before it); later checkpoints
are checked against the new set. A change the log does not prove is refused as evidence."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from ledger.models import Transaction, ValidatorChange
from ledger.quorum import SET_KIND
from ledger.services import chain_seal, ledger_append
from ledger.signing import checkpoint_origin, platform_validator
from ledger.validators import validator_key_rotate, validator_set_schedule
from smartb.models import OutboxMessage
from witnesses import fetchers
from witnesses.fetchers import HttpFetcher, LocalFetcher
from witnesses.models import Inconsistency, Reason
from witnesses.services import local_log_set, witness_add, witness_observe

from .conftest import FakeFetcher, grow, signed_checkpoint
from .test_fetchers import client_transport


@pytest.fixture
def relation(city, staff, watched):
    return witness_add(city=city, by=staff, chain=watched.chain)


@pytest.fixture
def remote(city, staff, watched):
    keys, quorum = local_log_set(watched.chain)
    return witness_add(
        city=city,
        by=staff,
        base_url="http://testserver",
        log_slug=watched.chain.slug,
        origin=checkpoint_origin(watched.chain.slug),
        log_keys=keys,
        quorum=quorum,
    )


def http(client, relation) -> HttpFetcher:
    return HttpFetcher(relation.base_url, relation.log_slug, transport=client_transport(client))


def fetcher_for_test(kind: str, client, relation):
    return http(client, relation) if kind == "http" else LocalFetcher(relation.log_slug)


def two_validators(watched) -> list[str]:
    """The platform validator and the watched city's custodial DID: chain_seal signs both."""
    return [platform_validator().did, watched.identity.did]


def follow_entries(city) -> list[Transaction]:
    return list(city.chain.entries.filter(kind="witnesses.relation.validators").order_by("index"))


@pytest.fixture(params=["local", "http"])
def watching(request, client):
    """A relation and its fetcher, over each transport: the local chain, or the public API."""
    chosen = request.getfixturevalue("remote" if request.param == "http" else "relation")
    return chosen, fetcher_for_test(request.param, client, chosen)


def test_a_set_change_is_followed(city, watched, watching):
    relation, fetcher = watching
    assert witness_observe(relation=relation, fetcher=fetcher).outcome == "cosigned"
    members = two_validators(watched)
    change = validator_set_schedule(
        chain=watched.chain, members=members, quorum=2, actor=watched.identity
    )
    sealing = chain_seal(chain=watched.chain)  # signed by the set in force: the platform
    assert [s.validator for s in sealing.signatures.all()] == [platform_validator().did]
    block = grow(watched, 2)  # the first block of the new set: both sign it
    assert block.height == change.effective_height
    assert {s.validator for s in block.signatures.all()} == set(members)

    result = witness_observe(relation=relation, fetcher=fetcher)

    assert result.outcome == "cosigned"
    relation.refresh_from_db()
    assert relation.last_size == block.tree_size
    assert (relation.log_keys, relation.quorum) == (members, 2)
    assert relation.pending_changes == [] and relation.last_height == block.height
    [entry] = follow_entries(city)
    assert entry.actor == city.identity.did
    assert entry.payload["validators"] == members and entry.payload["quorum"] == 2
    assert [c["index"] for c in entry.payload["changes"]] == [change.entry.index]
    assert entry.payload["changes"][0]["sealed_at_height"] == sealing.height
    # Later checkpoints are checked against the new set; growing again changes nothing more.
    grow(watched, 1)
    assert witness_observe(relation=relation, fetcher=fetcher).outcome == "cosigned"
    assert len(follow_entries(city)) == 1


def test_the_old_set_alone_no_longer_signs_for_the_log(city, watched, relation):
    witness_observe(relation=relation)
    validator_set_schedule(
        chain=watched.chain, members=two_validators(watched), quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    block = grow(watched, 1)
    assert witness_observe(relation=relation).outcome == "cosigned"
    # The platform alone signs a later checkpoint: one signature of a quorum of two.
    text = signed_checkpoint(watched.chain.slug, block.tree_size + 1, b"\x07" * 32)
    result = witness_observe(relation=relation, fetcher=FakeFetcher(text))
    assert result.outcome == "error"
    assert "2 required" in result.error
    assert not Inconsistency.objects.exists()


def api_relation(client, city, relation) -> dict:
    url = reverse("witnesses_api:city_relations", kwargs={"slug": city.slug})
    [shown] = [
        r for r in client.get(url).json()["witnesses_logs"] if r["public_id"] == relation.public_id
    ]
    return shown


def test_a_change_seen_before_it_takes_effect_waits_for_its_height(client, city, watched, relation):
    witness_observe(relation=relation)
    members = two_validators(watched)
    change = validator_set_schedule(
        chain=watched.chain,
        members=members,
        quorum=2,
        actor=watched.identity,
        effective_height=watched.chain.block_count + 2,
    )
    sealing = chain_seal(chain=watched.chain)
    old_set = relation.log_keys
    assert witness_observe(relation=relation).outcome == "cosigned"
    relation.refresh_from_db()
    assert relation.log_keys == old_set  # proved, not in force yet
    assert [c["position"] for c in relation.pending_changes] == [change.entry.index]
    assert len(follow_entries(city)) == 1  # the city signs what it proved

    shown = api_relation(client, city, relation)
    assert shown["validators"] == old_set and shown["last_height"] == sealing.height
    assert [c["effective_height"] for c in shown["pending_validator_changes"]] == [
        change.effective_height
    ]
    page = client.get(reverse("witnesses:city", kwargs={"slug": city.slug}))
    assert f'data-testid="validators-{relation.public_id}"' in page.content.decode()

    grow(watched, 1)  # still the old set's block
    assert witness_observe(relation=relation).outcome == "cosigned"
    relation.refresh_from_db()
    assert relation.log_keys == old_set and relation.pending_changes

    block = grow(watched, 1)
    assert block.height == change.effective_height
    assert witness_observe(relation=relation).outcome == "cosigned"
    relation.refresh_from_db()
    assert (relation.log_keys, relation.quorum, relation.pending_changes) == (members, 2, [])
    assert len(follow_entries(city)) == 2
    shown = api_relation(client, city, relation)
    assert (shown["validators"], shown["quorum"]) == (members, 2)
    assert shown["pending_validator_changes"] == [] and shown["last_height"] == block.height


def test_a_change_recorded_before_the_relation_is_pinned_with_it(city, staff, watched):
    members = two_validators(watched)
    validator_set_schedule(
        chain=watched.chain,
        members=members,
        quorum=2,
        actor=watched.identity,
        effective_height=watched.chain.block_count + 1,
    )
    chain_seal(chain=watched.chain)
    relation = witness_add(city=city, by=staff, chain=watched.chain)
    assert relation.pending_changes and relation.log_keys == [platform_validator().did]
    grow(watched, 1)
    assert witness_observe(relation=relation).outcome == "cosigned"
    relation.refresh_from_db()
    assert (relation.log_keys, relation.quorum, relation.pending_changes) == (members, 2, [])


def test_a_key_rotation_is_followed(city, watched, watching):
    relation, fetcher = watching
    witness_observe(relation=relation, fetcher=fetcher)
    successor = watched.identity.did
    rotation = validator_key_rotate(
        chain=watched.chain, validator=platform_validator(), successor=successor
    )
    chain_seal(chain=watched.chain)
    block = grow(watched, 1)
    assert [s.validator for s in block.signatures.all()] == [successor]

    assert witness_observe(relation=relation, fetcher=fetcher).outcome == "cosigned"

    relation.refresh_from_db()
    assert (relation.log_keys, relation.quorum) == ([successor], 1)
    [entry] = follow_entries(city)
    assert entry.payload["changes"][0]["kind"] == "ledger.validators.rotate"
    assert entry.payload["changes"][0]["index"] == rotation.entry.index


def forge_set_change(watched, members: list[str], quorum: int) -> Transaction:
    """What a log run by someone else than its validators could show: a set change in force
    from the very block that seals it (so the new set, not the old, signs that block)."""
    chain = watched.chain
    chain.refresh_from_db()
    height = chain.block_count
    entry = ledger_append(
        chain=chain,
        actor=watched.identity,
        kind=SET_KIND,
        payload={"members": members, "quorum": quorum, "effective_height": height},
    )
    ValidatorChange.objects.create(
        chain=chain,
        effective_height=height,
        kind=SET_KIND,
        members=members,
        quorum=quorum,
        entry=entry,
    )
    return entry


def assert_refused_once(city, relation, result, *, before: int):
    assert result.outcome == "refused"
    evidence = result.inconsistency
    assert evidence.reason == Reason.BAD_VALIDATOR_CHANGE
    assert evidence.proof["validator_change"]["transaction"]["kind"] == SET_KIND
    assert evidence.entry.kind == "witnesses.inconsistency.record"
    assert evidence.entry.chain_id == city.chain_id
    assert evidence.entry.payload["reason"] == Reason.BAD_VALIDATOR_CHANGE
    relation.refresh_from_db()
    assert relation.last_size == before  # nothing cosigned, the set not followed
    assert relation.log_keys == [platform_validator().did]
    assert relation.cosignatures.count() == 1
    assert not follow_entries(city)
    assert OutboxMessage.objects.filter(task__endswith="notify_inconsistency").exists()


def test_a_change_the_old_set_did_not_seal_is_refused(city, watched, watching):
    relation, fetcher = watching
    witness_observe(relation=relation, fetcher=fetcher)
    before = watched.chain.sealed_size
    forge_set_change(watched, [watched.identity.did], 1)
    block = chain_seal(chain=watched.chain)
    assert [s.validator for s in block.signatures.all()] == [watched.identity.did]

    result = witness_observe(relation=relation, fetcher=fetcher)

    assert_refused_once(city, relation, result, before=before)
    assert "not signed by a quorum" in result.inconsistency.proof["validator_change"]["reason"]
    # Shown again, the same evidence is kept once.
    again = witness_observe(relation=relation, fetcher=fetcher)
    assert again.outcome == "refused" and again.inconsistency == result.inconsistency
    assert Inconsistency.objects.count() == 1


def test_a_change_whose_signature_was_altered_is_refused(city, watched, watching):
    relation, fetcher = watching
    witness_observe(relation=relation, fetcher=fetcher)
    before = watched.chain.sealed_size
    change = validator_set_schedule(
        chain=watched.chain, members=two_validators(watched), quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    grow(watched, 1)
    # The log now shows other members than the ones its change transaction signed.
    Transaction.objects.filter(pk=change.entry_id).update(
        payload={**change.entry.payload, "members": [watched.identity.did], "quorum": 1}
    )

    result = witness_observe(relation=relation, fetcher=fetcher)

    assert_refused_once(city, relation, result, before=before)
    assert "signature" in result.inconsistency.proof["validator_change"]["reason"]


class WrongPath(LocalFetcher):
    """A log whose inclusion proof of the change does not lead to the signed root."""

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        return [b"\x01" * 32 for _ in super().inclusion(index, tree_size)] or [b"\x01" * 32]


def test_a_change_outside_the_signed_tree_is_refused(city, watched, relation):
    witness_observe(relation=relation)
    before = watched.chain.sealed_size
    validator_set_schedule(
        chain=watched.chain, members=two_validators(watched), quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    grow(watched, 1)

    result = witness_observe(relation=relation, fetcher=WrongPath(relation.log_slug))

    assert_refused_once(city, relation, result, before=before)
    assert "not in the tree" in result.inconsistency.proof["validator_change"]["reason"]


class NoBlocks(LocalFetcher):
    def block_sealing(self, index: int) -> dict:
        raise fetchers.FetchFailed("unreachable")


def test_a_change_that_cannot_be_read_is_an_error_not_evidence(city, watched, relation):
    witness_observe(relation=relation)
    validator_set_schedule(
        chain=watched.chain, members=two_validators(watched), quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    grow(watched, 1)
    result = witness_observe(relation=relation, fetcher=NoBlocks(relation.log_slug))
    assert result.outcome == "error" and result.error == "unreachable"
    assert not Inconsistency.objects.exists()
    relation.refresh_from_db()
    assert relation.log_keys == [platform_validator().did]
    # Readable again, the change is followed.
    assert witness_observe(relation=relation).outcome == "cosigned"


def counting_transport(client, *, hide_changes: bool = False):
    """The real ledger API through the test client, each path asked recorded; with
    `hide_changes`, a log that lists no validator change whatever it recorded."""
    asked: list[str] = []
    real = client_transport(client)

    def transport(url: str, timeout: float) -> tuple[int, bytes]:
        path = urlsplit(url).path
        asked.append(path)
        if hide_changes and path.endswith("/validator-changes"):
            return 200, json.dumps({"changes": [], "next": None}).encode()
        return real(url, timeout)

    return transport, asked


def test_a_remote_witness_follows_a_change_deep_in_a_long_range(client, city, watched, remote):
    transport, asked = counting_transport(client)
    fetcher = HttpFetcher(remote.base_url, remote.log_slug, transport=transport)
    assert witness_observe(relation=remote, fetcher=fetcher).outcome == "cosigned"
    start = remote.cosignatures.get().tree_size
    for _ in range(3):  # 300 entries in three blocks, the change among the last of them
        grow(watched, 100)
    members = two_validators(watched)
    change = validator_set_schedule(
        chain=watched.chain, members=members, quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    block = grow(watched, 20)
    assert block.height == change.effective_height
    assert change.entry.index - start > 256  # beyond what a round used to scan
    asked.clear()

    result = witness_observe(relation=remote, fetcher=fetcher)

    assert result.outcome == "cosigned"
    remote.refresh_from_db()
    assert remote.last_size == block.tree_size
    assert (remote.log_keys, remote.quorum) == (members, 2)
    [entry] = follow_entries(city)
    assert [c["index"] for c in entry.payload["changes"]] == [change.entry.index]
    # One page of changes and the proofs of the one change: no entry-by-entry scan.
    assert sum(path.endswith("/validator-changes") for path in asked) == 1
    assert sum("/entries/" in path for path in asked) <= 3
    assert len(asked) < 12


def test_a_remote_that_hides_a_change_is_refused_not_followed(client, city, watched, remote):
    """The log leaves a change out of its list: the witness stays on the set it knows, and
    the checkpoints the new set signs fail that set's quorum check."""
    transport, _asked = counting_transport(client, hide_changes=True)
    hiding = HttpFetcher(remote.base_url, remote.log_slug, transport=transport)
    assert witness_observe(relation=remote, fetcher=hiding).outcome == "cosigned"
    before = remote.cosignatures.get().tree_size
    validator_set_schedule(
        chain=watched.chain, members=[watched.identity.did], quorum=1, actor=watched.identity
    )
    chain_seal(chain=watched.chain)  # the platform, in force before the change, seals it
    block = grow(watched, 2)  # signed by the new set alone: the watched city's DID
    assert [s.validator for s in block.signatures.all()] == [watched.identity.did]

    result = witness_observe(relation=remote, fetcher=hiding)

    assert result.outcome == "error"
    assert "0 valid signature(s) by known log keys, 1 required" in result.error
    remote.refresh_from_db()
    assert remote.last_size == before and remote.cosignatures.count() == 1
    assert (remote.log_keys, remote.quorum) == ([platform_validator().did], 1)
    assert remote.pending_changes == [] and not follow_entries(city)
    assert not Inconsistency.objects.exists()  # a checkpoint of unknown keys proves nothing
    # Once the log lists its change, the witness proves it and follows.
    assert witness_observe(relation=remote, fetcher=http(client, remote)).outcome == "cosigned"
    remote.refresh_from_db()
    assert (remote.log_keys, remote.last_size) == ([watched.identity.did], block.tree_size)


class Unsigned(LocalFetcher):
    """The block sealing the change shown without its signatures, `final` as given."""

    def __init__(self, slug: str, *, final: bool) -> None:
        super().__init__(slug)
        self.final = final

    def block_sealing(self, index: int) -> dict:
        return {**super().block_sealing(index), "signatures": [], "final": self.final}


def test_a_change_whose_block_awaits_signatures_waits_and_proves_nothing(city, watched, relation):
    witness_observe(relation=relation)
    before = watched.chain.sealed_size
    validator_set_schedule(
        chain=watched.chain, members=two_validators(watched), quorum=2, actor=watched.identity
    )
    chain_seal(chain=watched.chain)
    grow(watched, 1)

    waiting = witness_observe(relation=relation, fetcher=Unsigned(relation.log_slug, final=False))
    assert waiting.outcome == "error" and "awaits" in waiting.error
    assert not Inconsistency.objects.exists()

    # A block the log calls final without the old set's quorum proves nothing: evidence.
    result = witness_observe(relation=relation, fetcher=Unsigned(relation.log_slug, final=True))
    assert result.outcome == "refused"
    relation.refresh_from_db()
    assert relation.last_size == before

"""tests/db_snapshot.py, which the browser tests' demo city relies on (tests/e2e/conftest.py):
after `restore`, the database is the snapshot's, whatever a test wrote or deleted since, on
SQLite and on PostgreSQL, and new rows get the ids they would have had right after `take`."""

from __future__ import annotations

from django.db import connection

from identity.models import User
from ledger.models import Chain
from tests.db_snapshot import DatabaseSnapshot
from tests.factories import ChainFactory, UserFactory


def users() -> set[tuple]:
    return set(User.objects.values_list("pk", "username", "first_name"))


def test_restore_drops_the_rows_written_since_and_brings_back_the_deleted_ones(transactional_db):
    kept = UserFactory(username="kept")
    chain = ChainFactory()
    before, chains = users(), set(Chain.objects.values_list("pk", "slug"))
    snapshot = DatabaseSnapshot.take(connection)
    try:
        UserFactory(username="written-after")
        User.objects.filter(pk=kept.pk).update(first_name="changed")
        chain.delete()
        assert users() != before and set(Chain.objects.values_list("pk", "slug")) != chains

        snapshot.restore()

        assert users() == before
        assert set(Chain.objects.values_list("pk", "slug")) == chains
        assert User.objects.get(username="kept").first_name == kept.first_name
    finally:
        snapshot.close()


def test_after_a_restore_the_next_id_follows_the_snapshots(transactional_db):
    UserFactory.create_batch(2)
    snapshot = DatabaseSnapshot.take(connection)
    try:
        highest = User.objects.order_by("-pk").first().pk
        first = UserFactory().pk
        UserFactory.create_batch(3)

        snapshot.restore()

        assert UserFactory().pk == first == highest + 1
    finally:
        snapshot.close()


def test_restore_can_be_repeated(transactional_db):
    UserFactory(username="only")
    before = users()
    snapshot = DatabaseSnapshot.take(connection)
    try:
        for round_ in range(3):
            UserFactory(username=f"round-{round_}")
            snapshot.restore()
            assert users() == before
    finally:
        snapshot.close()

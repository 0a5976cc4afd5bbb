"""A snapshot of the whole test database, taken once and put back before each test that needs
it: cheaper than building the same data again (the browser tests' demo city takes seconds).

SQLite (the in-memory test database): the backup API copies every page of the database, to a
private in-memory database and back. PostgreSQL: `COPY ... TO STDOUT` of every table, then
`DELETE` of every row, `COPY ... FROM STDIN` and the sequences set after the restored ids,
so that the next row gets the id it would have had right after the data were built.

Only the database: whatever the data point to outside of it (files, caches) is the caller's.
"""

from __future__ import annotations

import sqlite3

from django.apps import apps
from django.core.management.color import no_style
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper


class DatabaseSnapshot:
    """Every row of every table of `connection`'s database, as it was at `take`."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self._sqlite: sqlite3.Connection | None = None
        self._tables: list[str] = []
        self._rows: dict[str, bytes] = {}  # PostgreSQL: table -> its COPY text

    @classmethod
    def take(cls, connection: BaseDatabaseWrapper) -> DatabaseSnapshot:
        snapshot = cls(connection)
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            snapshot._sqlite = sqlite3.connect(":memory:", check_same_thread=False)
            connection.connection.backup(snapshot._sqlite)
        elif connection.vendor == "postgresql":
            snapshot._tables = sorted(
                connection.introspection.django_table_names(only_existing=True, include_views=False)
            )
            with connection.cursor() as cursor:
                for table in snapshot._tables:
                    rows = bytearray()
                    with cursor.copy(f"COPY {_quoted(connection, table)} TO STDOUT") as copy:
                        for chunk in copy:
                            rows += chunk
                    if rows:
                        snapshot._rows[table] = bytes(rows)
        else:
            raise NotImplementedError(f"no snapshot for {connection.vendor}")
        return snapshot

    def restore(self) -> None:
        """Put the database back as it was at `take`: rows written since are gone, rows
        deleted since are back, ids start again after the snapshot's."""
        connection = self.connection
        connection.ensure_connection()
        if self._sqlite is not None:
            if connection.in_atomic_block:
                raise RuntimeError("restore the SQLite snapshot outside of any transaction")
            self._sqlite.backup(connection.connection)
            return
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # DELETE, not TRUNCATE: on tables this small it is about twice as fast (TRUNCATE
            # gives every table a new file). Django's foreign keys are deferrable: the order
            # of the tables does not matter in one transaction.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in self._tables:
                cursor.execute(f"DELETE FROM {_quoted(connection, table)}")  # noqa: S608
            for table, rows in self._rows.items():
                with cursor.copy(f"COPY {_quoted(connection, table)} FROM STDIN") as copy:
                    copy.write(rows)
            models = apps.get_models(include_auto_created=True)
            statements = connection.ops.sequence_reset_sql(no_style(), models)
            if statements:
                cursor.execute("\n".join(statements))

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        self._rows.clear()


def _quoted(connection: BaseDatabaseWrapper, table: str) -> str:
    return connection.ops.quote_name(table)

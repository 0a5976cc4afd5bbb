"""How a table of the impact section is described: which rows leave, which columns they
carry and how each column is read from a model instance, and how a row is written back.

A column is read by a `Reader` (a dotted attribute path, or a function of the instance and
the export); a `Link` column names another row and is resolved again on import; the rest of
a row is written as its table's `Load` says. `tables.py` declares every table with these
pieces; `export.py` and `load.py` are the two loops that run them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from smartb.portability import ExportContext, ImportContext, ImportRefused
from smartb.portability.rows import moment, stamp

# --- reading a column on export ------------------------------------------------------------


class Exporting:
    """What a reader may ask of the export: the ledger index of a row's transaction, and
    the account a column names (which the identity section must then carry)."""

    def __init__(self, ctx: ExportContext) -> None:
        self.ctx = ctx

    def entry(self, transaction) -> int | None:
        if transaction is None:
            return None
        return self.ctx.entry_index(chain_id=transaction.chain_id, index=transaction.index)

    def account(self, user) -> str | None:
        if user is None:
            return None
        self.ctx.include_account(user.pk)
        return user.public_id


Reader = Callable[[Any, Exporting], Any]
Builder = Callable[[dict, "Loading"], Any]


def path(dotted: str) -> Reader:
    """The attribute at `dotted` ("claim.public_id"); None as soon as a link is None (an
    optional foreign key)."""
    names = dotted.split(".")

    def read(obj, _out: Exporting):
        for name in names:
            if obj is None:
                return None
            obj = getattr(obj, name)
        return obj

    return read


def at(name: str) -> Reader:
    """A timestamp as the export writes it (`stamp`)."""
    return lambda obj, _out: stamp(getattr(obj, name))


def day(name: str) -> Reader:
    """A date as ISO 8601 text."""
    return lambda obj, _out: getattr(obj, name).isoformat()


def entry(name: str = "entry") -> Reader:
    """The ledger index of the transaction at `name` (None when there is none)."""
    return lambda obj, out: out.entry(getattr(obj, name))


def base64_or_none(name: str) -> Reader:
    """Bytes inline as base64 text (an evidence file travels inside `impact.json`)."""

    def read(obj, _out: Exporting):
        content = getattr(obj, name)
        return base64.b64encode(bytes(content)).decode("ascii") if content is not None else None

    return read


@dataclass(frozen=True)
class Link:
    """A column naming another row (by public id, code or DID), read on export and
    resolved again on import into the model field `field`."""

    name: str
    read: Reader
    build: Builder
    field: str


def link(
    name: str,
    table: str | None = None,
    *,
    kind: str | None = None,
    via: str = "public_id",
    optional: bool = False,
    if_set: bool = False,
) -> Link:
    """The foreign key `name`, exported as its `via` attribute. On import it names a row
    this section wrote before (`table`), or one another section wrote (`kind`, e.g.
    "governance.membership"). `optional`: a None value means no row; `if_set`: any empty
    value does."""
    if kind is not None:
        build = _other(kind, name, optional=optional)
    else:
        build = _ref(table, name, optional=optional, if_set=if_set)
    return Link(name, path(f"{name}.{via}"), build, name)


def account(name: str, *, attr: str | None = None) -> Link:
    """The account at `attr` (default `name`), by public id; the identity section is asked
    to carry it."""
    attr = attr or name
    return Link(
        name,
        lambda obj, out: out.account(getattr(obj, attr)),
        _other("identity.user", name),
        attr,
    )


Column = str | tuple[str, str] | tuple[str, Reader] | Link


def reader_of(column: Column) -> tuple[str, Reader]:
    """A column as (name, reader): "x" reads attribute x, ("x", "a.b") reads a path,
    ("x", function) calls the function, a link reads its own way."""
    if isinstance(column, Link):
        return column.name, column.read
    if isinstance(column, str):
        return column, path(column)
    name, how = column
    return name, path(how) if isinstance(how, str) else how


# --- writing a row back on import ----------------------------------------------------------


class Loading:
    """What a field builder may ask of the import: the context (ledger entries, rows of
    other sections) and the rows this section wrote already, by table and key."""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.found: dict[str, dict] = {}

    def get(self, table: str, key):
        """The row of `table` written under `key` (None for None); a key the export does
        not contain refuses the import."""
        if key is None:
            return None
        rows = self.found[table]
        if key not in rows:
            raise ImportRefused(
                _("The export refers to %(key)s but does not contain it.") % {"key": key}
            )
        return rows[key]


def _ref(table: str, key: str, *, optional: bool, if_set: bool) -> Builder:
    if if_set:
        return lambda row, load: load.get(table, row.get(key) or None)
    if optional:
        return lambda row, load: load.get(table, row.get(key))
    return lambda row, load: load.get(table, row[key])


def _other(kind: str, key: str, *, optional: bool = False) -> Builder:
    if optional:
        return lambda row, load: load.ctx.ref(kind, row.get(key))
    return lambda row, load: load.ctx.ref(kind, row[key])


@dataclass(frozen=True)
class Load:
    """How a row becomes a model instance. A plain column of the table (an attribute
    read as it is) is written back as the row has it, unless it is named here: `text`
    optional text ("" when absent), `zero` optional numbers (0 when absent), `flags` as
    booleans. Link columns resolve themselves. The other fields: `stamps` timestamps,
    `built` by a function of the row (dates, values derived from other rows); `in_city`
    sets the city, `entry` the row's transaction."""

    text: tuple[str, ...] = ()
    zero: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    stamps: tuple[str, ...] = ("created_at",)
    built: dict[str, Builder] = field(default_factory=dict)
    in_city: bool = True
    entry: bool = True

    def fields(self, row: dict, load: Loading, plain: list[str]) -> dict[str, Any]:
        """The model's fields for `row`; `plain` are the table's plain columns."""
        converted = {*self.text, *self.zero, *self.flags}
        values: dict[str, Any] = {name: row[name] for name in plain if name not in converted}
        values.update({name: row.get(name) or "" for name in self.text})
        values.update({name: row.get(name) or 0 for name in self.zero})
        values.update({name: bool(row[name]) for name in self.flags})
        values.update({name: moment(row.get(name)) for name in self.stamps})
        values.update({name: build(row, load) for name, build in self.built.items()})
        if self.in_city:
            values["city"] = load.ctx.city
        if self.entry:
            values["entry_id"] = load.ctx.entry_pk(row["entry"])
        return values


# --- a table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One table of the section.

    - `model`, `scope` (the city's rows: a filter on the city) and `related`
      (select_related) say which rows leave, in primary-key order;
    - `columns` what each row carries, in order;
    - `optional` the columns a row may lack on import (it must carry all the others);
    - `signed_by` the ledger kind each of whose transactions must have its row;
    - `unique` whether rows carry a public id (kept on import; it must be new here);
    - `classed` whether rows name a token class (by code) the instance must know;
    - `load` how a row is written back (None: written by its own function in `load.py`).
    """

    name: str
    model: type[models.Model]
    scope: str
    related: tuple[str, ...]
    columns: tuple[Column, ...]
    optional: tuple[str, ...] = ("created_at",)
    signed_by: str | None = None
    unique: bool = True
    classed: bool = False
    load: Load | None = None

    def readers(self) -> list[tuple[str, Reader]]:
        return [reader_of(column) for column in self.columns]

    @property
    def required(self) -> tuple[str, ...]:
        """The columns a row must carry to be read at all on import."""
        return tuple(name for name, _read in self.readers() if name not in self.optional)

    def instance(self, row: dict, load: Loading) -> models.Model:
        """The model instance a row writes back, its plain columns (the public id among
        them: other rows, other sections and the ledger name it) as they were."""
        plain = [column for column in self.columns if isinstance(column, str)]
        values = self.load.fields(row, load, plain)
        for column in self.columns:
            if isinstance(column, Link):
                values[column.field] = column.build(row, load)
        return self.model(**values)

"""Helpers the sections share: timestamps as text, writing rows as they were, JSON files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from django.db import models
from django.utils.translation import gettext as _

from ledger.timefmt import format_timestamp, parse_timestamp

from .errors import ImportRefused

BATCH = 1000


def stamp(moment: datetime | None) -> str | None:
    """A timestamp as the export writes it: UTC, microseconds, 'Z' (the ledger's format)."""
    return None if moment is None else format_timestamp(moment)


def moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as error:
        raise ImportRefused(_("A timestamp is malformed: %(text)s") % {"text": text}) from error


def insert_rows(
    model: type[models.Model], rows: Iterable[models.Model], *, batch_size=BATCH
) -> list:
    """Insert `rows` in bulk, keeping the values of `auto_now`/`auto_now_add` fields as given
    (bulk_create would stamp them with the import's time). No signal is sent: an imported
    account must not get a new DID."""
    rows = list(rows)
    if not rows:
        return rows
    stamped = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    kept = [[getattr(row, f.attname) for f in stamped] for row in rows]
    model._base_manager.bulk_create(rows, batch_size=batch_size)
    if stamped:
        for row, values in zip(rows, kept, strict=True):
            for f, value in zip(stamped, values, strict=True):
                setattr(row, f.attname, value)
        model._base_manager.bulk_update(rows, [f.name for f in stamped], batch_size=batch_size)
    return rows


def dump_json(data) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, one line per row of each table."""
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def require_fields(rows: Sequence[dict], fields: Sequence[str], table: str) -> None:
    """Every row of `table` is an object carrying `fields` (the importers index them)."""
    for row in rows:
        if not isinstance(row, dict) or any(name not in row for name in fields):
            raise ImportRefused(_("A row of the table %(table)s is malformed.") % {"table": table})

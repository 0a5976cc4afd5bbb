"""Writing the section: every table of `tables.TABLES`, its rows in primary-key order."""

from __future__ import annotations

from smartb.portability import ExportContext
from smartb.portability.registry import Tables

from .spec import Exporting, Table
from .tables import BATCHES, TABLES, VERIFICATIONS

# The identity section carries the credentials these rows name (it checks their proofs).
_WITH_CREDENTIALS = (VERIFICATIONS, BATCHES)


def export_impact(ctx: ExportContext) -> Tables:
    """The city's impact tables, each row naming others by public id, DID, code or ledger
    index; the accounts and credentials the rows name are asked of the identity section."""
    out = Exporting(ctx)
    for table in _WITH_CREDENTIALS:
        for credential_id in _rows(ctx, table).values_list("credential_id", flat=True):
            ctx.include_credential(credential_id)
    return {table.name: _export_table(ctx, out, table) for table in TABLES}


def _rows(ctx: ExportContext, table: Table):
    return table.model.objects.filter(**{table.scope: ctx.city})


def _export_table(ctx: ExportContext, out: Exporting, table: Table) -> list[dict]:
    readers = table.readers()
    rows = _rows(ctx, table).select_related(*table.related).order_by("pk")
    return [{name: read(row, out) for name, read in readers} for row in rows]

"""Writing the section's rows back, table by table in `tables.LOAD_ORDER`, after the check
(`check.py`) passed: each row as its table's `Load` says, naming the rows written before."""

from __future__ import annotations

from governance.models import Movement
from smartb.portability import ImportContext
from smartb.portability.registry import Tables
from smartb.portability.rows import insert_rows

from ..models import EvidenceType, Methodology, TokenClass
from ..services.rollup import rollup_rebuild
from .common import by_id
from .methodologies import catalogue_loaded
from .spec import Loading, Table
from .tables import LOAD_ORDER, TABLES


def import_impact(ctx: ImportContext, tables: Tables) -> None:
    """Write every row of the section, as it was on the origin (a city with no claims nor
    tokens may still have participation calls, forward orders, projects: they come back
    too); the portfolios and batches are remembered for the sections that import after this
    one, and the dashboard's roll-up is built from the rows written."""
    if not any(tables.get(table.name) for table in TABLES):
        return
    catalogue_loaded(tables)
    load = Loading(ctx)
    load.found.update(_catalogue_and_treasury(ctx, tables))
    for table in LOAD_ORDER:
        written = _load_table(load, table, tables.get(table.name, []))
        if table.unique:
            load.found[table.name] = by_id(written)
    for public_id, portfolio in load.found["portfolios"].items():
        ctx.remember("impact.portfolio", public_id, portfolio)
    for public_id, batch in load.found["batches"].items():
        ctx.remember("impact.batch", public_id, batch)
    rollup_rebuild(city=ctx.city)


def _catalogue_and_treasury(ctx: ImportContext, tables: Tables) -> dict[str, dict]:
    """The rows the section names but does not write: the catalogue (token classes by code,
    methodologies by code and version, evidence types) and the city's treasury movements
    (written by the governance section)."""
    wanted = {
        row.get("movement")
        for table in ("purchases", "forward_orders", "contributions")
        for row in tables.get(table, [])
    } - {None}
    return {
        "token_classes": {c.code: c for c in TokenClass.objects.all()},
        "methodologies": {
            (m.code, m.version): m for m in Methodology.objects.select_related("indicator")
        },
        "evidence_types": {
            (t.requirement.methodology_id, t.requirement.code, t.code): t
            for t in EvidenceType.objects.select_related("requirement")
        },
        "movements": {
            m.public_id: m for m in Movement.objects.filter(city=ctx.city, public_id__in=wanted)
        },
    }


def _load_table(load: Loading, table: Table, rows: list[dict]) -> list:
    return insert_rows(table.model, [table.instance(row, load) for row in rows])

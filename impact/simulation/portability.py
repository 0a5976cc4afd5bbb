"""Impact scenarios in a city export (`smartb.portability`): a city that leaves keeps its
scenarios, every version, with the methodology values they were simulated with, their
results, and their attachments to proposals.

- `scenarios`: one row per version (title, investment, schedule, districts, draws, seed,
  digests, results), its author's account and its `impact.scenario.create` transaction;
- `impacts`: the methodology versions each scenario affects, named by code, version and
  definition digest (a methodology's public id is this instance's own), with the origin's
  public id kept as `methodology_ref` because the inputs digest was computed over it;
- `attachments`: a scenario shown with a proposal, with its `impact.scenario.attach`
  transaction.

The import checks, before writing anything, that each row says what its transaction signed:
the inputs digest recomputed from the rows, the results digest recomputed from the results,
and the ids, version and cost in the payload; and that each methodology version is here, or
in the catalogue this instance ships, with the same definition digest (the results were
computed with that formula and those emission factors). A missing catalogue is loaded
(`impact_load_catalogue`); a methodology published on the origin's network and unknown here
refuses the import. Claims and tokens are not part of this section.

Registered by `smartb.portability.registry` (its built-in sections), after the ledger,
identity and governance sections.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from smartb.portability import ExportContext, ImportContext, ImportRefused, register_section
from smartb.portability.registry import Tables
from smartb.portability.rows import insert_rows, moment, require_fields, stamp

from ..catalogue import catalogue_data, methodology_digest
from ..models import Methodology
from ..services._common import sha256_json
from .models import InvestmentKind, Scenario, ScenarioAttachment, ScenarioImpact
from .services import inputs_digest_of

SECTION = "scenarios"
KIND_CREATE = "impact.scenario.create"
KIND_ATTACH = "impact.scenario.attach"
SCENARIO_FIELDS = (
    "public_id",
    "code",
    "version",
    "title",
    "kind",
    "cost_cents",
    "annual_savings_cents",
    "start_year",
    "years",
    "ramp_years",
    "districts",
    "draws",
    "seed",
    "inputs_digest",
    "results",
    "results_digest",
)
REQUIRED = {
    "scenarios": (*SCENARIO_FIELDS, "created_by", "entry", "created_at"),
    "impacts": (
        "scenario",
        "methodology",
        "methodology_version",
        "methodology_digest",
        "methodology_ref",
        "low",
        "expected",
        "high",
        "fallback_price_cents",
        "position",
    ),
    "attachments": (
        "public_id",
        "scenario",
        "proposal",
        "results_digest",
        "attached_by",
        "entry",
        "created_at",
    ),
}


# --- export -------------------------------------------------------------------------------


def export_scenarios(ctx: ExportContext) -> Tables:
    scenarios = list(
        Scenario.objects.filter(city=ctx.city).select_related("created_by", "entry").order_by("pk")
    )
    impacts = (
        ScenarioImpact.objects.filter(scenario__city=ctx.city)
        .select_related("scenario", "methodology")
        .order_by("scenario_id", "position")
    )
    attachments = list(
        ScenarioAttachment.objects.filter(scenario__city=ctx.city)
        .select_related("scenario", "proposal", "attached_by", "entry")
        .order_by("pk")
    )
    for row in scenarios:
        ctx.include_account(row.created_by_id)
    for row in attachments:
        ctx.include_account(row.attached_by_id)
    return {
        "scenarios": [
            {
                **{name: getattr(s, name) for name in SCENARIO_FIELDS},
                "created_by": s.created_by.public_id,
                "entry": ctx.entry_index(chain_id=s.entry.chain_id, index=s.entry.index),
                "created_at": stamp(s.created_at),
            }
            for s in scenarios
        ],
        "impacts": [
            {
                "scenario": i.scenario.public_id,
                "methodology": i.methodology.code,
                "methodology_version": i.methodology.version,
                "methodology_digest": i.methodology.digest,
                "methodology_ref": i.methodology.public_id,
                "low": i.low,
                "expected": i.expected,
                "high": i.high,
                "fallback_price_cents": i.fallback_price_cents,
                "position": i.position,
            }
            for i in impacts
        ],
        "attachments": [
            {
                "public_id": a.public_id,
                "scenario": a.scenario.public_id,
                "proposal": a.proposal.public_id,
                "results_digest": a.results_digest,
                "attached_by": a.attached_by.public_id,
                "entry": ctx.entry_index(chain_id=a.entry.chain_id, index=a.entry.index),
                "created_at": stamp(a.created_at),
            }
            for a in attachments
        ],
    }


# --- import -------------------------------------------------------------------------------


def _disagrees(what: str, index) -> ImportRefused:
    return ImportRefused(
        _("The %(what)s at ledger index %(index)s does not match its transaction.")
        % {"what": what, "index": index}
    )


def _shipped_digests() -> dict[tuple[str, int], str]:
    return {
        (m["code"], m["version"]): methodology_digest(m) for m in catalogue_data()["methodologies"]
    }


def check_scenarios(ctx: ImportContext, tables: Tables) -> None:
    """Rows are well formed and new here, every methodology version is known with the same
    definition, and every scenario and attachment says what its transaction signed."""
    for table, fields in REQUIRED.items():
        require_fields(tables.get(table, []), fields, table)
    scenarios = tables.get("scenarios", [])
    ids = [row["public_id"] for row in scenarios]
    attachment_ids = [row["public_id"] for row in tables.get("attachments", [])]
    if (
        len(set(ids)) != len(ids)
        or Scenario.objects.filter(public_id__in=ids).exists()
        or ScenarioAttachment.objects.filter(public_id__in=attachment_ids).exists()
    ):
        raise ImportRefused(_("A scenario of the export exists here already."))
    if any(row["kind"] not in InvestmentKind.values for row in scenarios):
        raise ImportRefused(_("A row of scenarios has an unknown kind."))

    here = {
        (m.code, m.version): m.digest for m in Methodology.objects.only("code", "version", "digest")
    }
    shipped = None
    impacts: dict[str, list[dict]] = {}
    for row in sorted(tables.get("impacts", []), key=lambda r: r["position"]):
        key = (row["methodology"], row["methodology_version"])
        if key not in here and shipped is None:
            shipped = _shipped_digests()
        if here.get(key, (shipped or {}).get(key)) != row["methodology_digest"]:
            raise ImportRefused(
                _(
                    "The scenarios use the methodology %(code)s v%(version)s, which this "
                    "instance does not have with the same definition."
                )
                % {"code": key[0], "version": key[1]}
            )
        impacts.setdefault(row["scenario"], []).append(row)

    by_id = {}
    for row in scenarios:
        own = impacts.get(row["public_id"], [])
        inputs = inputs_digest_of(
            title=row["title"],
            kind=row["kind"],
            cost_cents=row["cost_cents"],
            annual_savings_cents=row["annual_savings_cents"],
            start_year=row["start_year"],
            years=row["years"],
            ramp_years=row["ramp_years"],
            districts=row["districts"],
            draws=row["draws"],
            seed=row["seed"],
            impacts=[
                {
                    "methodology": i["methodology_ref"],
                    "low": i["low"],
                    "expected": i["expected"],
                    "high": i["high"],
                    "fallback": i["fallback_price_cents"],
                }
                for i in own
            ],
        )
        tx = ctx.transaction(row["entry"])
        payload = tx["payload"] if isinstance(tx["payload"], dict) else {}
        if (
            not own
            or tx["kind"] != KIND_CREATE
            or inputs != row["inputs_digest"]
            or sha256_json(row["results"]) != row["results_digest"]
            or payload.get("scenario") != row["public_id"]
            or payload.get("code") != row["code"]
            or payload.get("version") != row["version"]
            or payload.get("cost_cents") != row["cost_cents"]
            or payload.get("inputs") != row["inputs_digest"]
            or payload.get("results") != row["results_digest"]
            or payload.get("methodologies") != [i["methodology_ref"] for i in own]
        ):
            raise _disagrees("scenario", row["entry"])
        by_id[row["public_id"]] = row
    for row in tables.get("attachments", []):
        scenario = by_id.get(row["scenario"])
        tx = ctx.transaction(row["entry"])
        payload = tx["payload"] if isinstance(tx["payload"], dict) else {}
        if (
            scenario is None
            or tx["kind"] != KIND_ATTACH
            or row["results_digest"] != scenario["results_digest"]
            or payload.get("attachment") != row["public_id"]
            or payload.get("scenario") != row["scenario"]
            or payload.get("proposal") != row["proposal"]
            or payload.get("inputs") != scenario["inputs_digest"]
            or payload.get("results") != row["results_digest"]
        ):
            raise _disagrees("scenario attachment", row["entry"])


def import_scenarios(ctx: ImportContext, tables: Tables) -> None:
    rows = tables.get("scenarios", [])
    if not rows:
        return
    wanted = {(i["methodology"], i["methodology_version"]) for i in tables.get("impacts", [])}
    methodologies = {(m.code, m.version): m for m in Methodology.objects.all()}
    if not wanted <= set(methodologies):
        from ..services import impact_load_catalogue

        impact_load_catalogue()  # checked: the shipped catalogue has them, same definitions
        methodologies = {(m.code, m.version): m for m in Methodology.objects.all()}
    scenarios = {
        s.public_id: s
        for s in insert_rows(
            Scenario,
            [
                Scenario(
                    city=ctx.city,
                    **{name: row[name] for name in SCENARIO_FIELDS},
                    created_by=ctx.ref("identity.user", row["created_by"]),
                    entry_id=ctx.entry_pk(row["entry"]),
                    created_at=moment(row["created_at"]),
                )
                for row in rows
            ],
        )
    }
    insert_rows(
        ScenarioImpact,
        [
            ScenarioImpact(
                scenario=scenarios[row["scenario"]],
                methodology=methodologies[(row["methodology"], row["methodology_version"])],
                low=row["low"],
                expected=row["expected"],
                high=row["high"],
                fallback_price_cents=row["fallback_price_cents"],
                position=row["position"],
            )
            for row in tables.get("impacts", [])
        ],
    )
    insert_rows(
        ScenarioAttachment,
        [
            ScenarioAttachment(
                public_id=row["public_id"],
                scenario=scenarios[row["scenario"]],
                proposal=ctx.ref("governance.proposal", row["proposal"]),
                results_digest=row["results_digest"],
                attached_by=ctx.ref("identity.user", row["attached_by"]),
                entry_id=ctx.entry_pk(row["entry"]),
                created_at=moment(row["created_at"]),
            )
            for row in tables.get("attachments", [])
        ],
    )


register_section(
    SECTION,
    exporter=export_scenarios,
    importer=import_scenarios,
    checker=check_scenarios,
    after=("ledger", "identity", "governance"),
)

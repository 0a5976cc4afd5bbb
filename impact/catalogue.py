"""The SDG catalogue, token classes and methodologies shipped in `impact/data/sdg.json`.

`catalogue_load(models)` writes them idempotently (update or create by code; a methodology
version that exists is never changed: a change ships as a new version). It takes the model
classes as arguments so that the data migration can pass its historical models and the
service `impact.services.impact_load_catalogue` the live ones.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from ledger.canonical import canonical_json

from . import formulas

DATA_FILE = Path(__file__).resolve().parent / "data" / "sdg.json"


def catalogue_data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def methodology_digest(definition: dict) -> str:
    """SHA-256 of the RFC 8785 JSON of a methodology's definition (as shipped)."""
    return hashlib.sha256(canonical_json(definition)).hexdigest()


def _check_methodology(definition: dict) -> None:
    names = formulas.names_in(definition["formula"])
    known = {p["name"] for p in definition["parameters"]} | {
        f["name"] for f in definition["factors"]
    }
    if names - known:
        raise ValueError(f"{definition['code']}: unknown names {sorted(names - known)}")


def catalogue_load(models: SimpleNamespace, data: dict | None = None) -> dict[str, int]:
    """Write goals, targets, indicators, token classes and methodologies; returns counts."""
    data = data or catalogue_data()
    goals = {}
    for row in data["goals"]:
        goals[row["number"]], _ = models.Goal.objects.update_or_create(
            number=row["number"], defaults={"title_en": row["en"], "title_fr": row["fr"]}
        )
    targets = {}
    for row in data["targets"]:
        goal = goals[int(row["code"].split(".")[0])]
        targets[row["code"]], _ = models.Target.objects.update_or_create(
            code=row["code"], defaults={"goal": goal, "title_en": row["en"], "title_fr": row["fr"]}
        )
    indicators = {}
    for row in data["indicators"]:
        target = targets[".".join(row["code"].split(".")[:2])]
        indicators[row["code"]], _ = models.Indicator.objects.update_or_create(
            code=row["code"],
            defaults={
                "target": target,
                "title_en": row["en"],
                "title_fr": row["fr"],
                "unit": row["unit"],
                "unit_code": row["unit_code"],
            },
        )
    classes = {}
    for row in data["token_classes"]:
        classes[row["code"]], _ = models.TokenClass.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_en": row["en"],
                "name_fr": row["fr"],
                "unit": row["unit"],
                "precision": row["precision"],
                "smallest_unit": row["smallest_unit"],
                "indicator": indicators.get(row.get("indicator")),
            },
        )
    created = 0
    for definition in data["methodologies"]:
        _check_methodology(definition)
        if models.Methodology.objects.filter(
            code=definition["code"], version=definition["version"]
        ).exists():
            continue
        _methodology_create(models, definition, indicators, classes)
        created += 1
    return {
        "goals": len(goals),
        "targets": len(targets),
        "indicators": len(indicators),
        "token_classes": len(classes),
        "methodologies_created": created,
    }


def _methodology_create(models, definition: dict, indicators: dict, classes: dict):
    methodology = models.Methodology.objects.create(
        code=definition["code"],
        version=definition["version"],
        indicator=indicators[definition["indicator"]],
        token_class=classes[definition["token_class"]],
        title_en=definition["en"],
        title_fr=definition["fr"],
        description=definition.get("description", ""),
        formula=definition["formula"],
        digest=methodology_digest(definition),
    )
    parameters = {}
    for position, row in enumerate(definition["parameters"]):
        parameters[row["name"]] = models.Parameter.objects.create(
            methodology=methodology,
            name=row["name"],
            label_en=row["en"],
            label_fr=row["fr"],
            unit=row["unit"],
            kind=row["kind"],
            min_value=Decimal(row["min"]) if row.get("min") is not None else None,
            max_value=Decimal(row["max"]) if row.get("max") is not None else None,
            position=position,
        )
    for row in definition["factors"]:
        models.EmissionFactor.objects.create(
            methodology=methodology,
            name=row["name"],
            value=Decimal(row["value"]),
            unit=row["unit"],
            source=row["source"],
            source_url=row.get("url", ""),
            year=row.get("year"),
        )
    for position, row in enumerate(definition["requirements"]):
        requirement = models.Requirement.objects.create(
            methodology=methodology,
            code=row["code"],
            title_en=row["en"],
            title_fr=row["fr"],
            position=position,
        )
        for evidence in row["evidence_types"]:
            models.EvidenceType.objects.create(
                requirement=requirement,
                code=evidence["code"],
                title_en=evidence["en"],
                title_fr=evidence["fr"],
                kind=evidence["kind"],
            )
        for concept in row["concepts"]:
            models.InformationConcept.objects.create(
                requirement=requirement,
                code=concept["code"],
                title_en=concept["en"],
                title_fr=concept["fr"],
                unit=concept["unit"],
                parameter=parameters.get(concept.get("parameter")),
            )
    return methodology


MODEL_NAMES = (
    "Goal",
    "Target",
    "Indicator",
    "TokenClass",
    "Methodology",
    "Parameter",
    "EmissionFactor",
    "Requirement",
    "EvidenceType",
    "InformationConcept",
)


def live_models() -> SimpleNamespace:
    from . import models

    return SimpleNamespace(**{name: getattr(models, name) for name in MODEL_NAMES})

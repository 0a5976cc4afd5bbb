"""The methodology versions the claims name: here, or in the catalogue this instance ships
with the same definition (as `impact.simulation.portability` does for scenarios)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from smartb.portability import ImportRefused
from smartb.portability.registry import Tables

from ..catalogue import catalogue_data, methodology_digest
from ..models import Methodology, TokenClass
from .tables import TABLES


def methodologies_named(tables: Tables) -> dict[tuple[str, int], Methodology | None]:
    """The methodology versions the claims name, here (None: only in the shipped catalogue,
    loaded by the import). A version unknown here, or with another definition, refuses."""
    here = {
        (m.code, m.version): m
        for m in Methodology.objects.select_related("indicator", "token_class").prefetch_related(
            "parameters", "factors", "requirements__evidence_types"
        )
    }
    shipped = None
    found: dict[tuple[str, int], Methodology | None] = {}
    for row in tables.get("claims", []):
        key = (row["methodology"], row["methodology_version"])
        if key in found:
            continue
        if key in here:
            digest = here[key].digest
        else:
            if shipped is None:
                shipped = {
                    (m["code"], m["version"]): methodology_digest(m)
                    for m in catalogue_data()["methodologies"]
                }
            digest = shipped.get(key)
        if digest != row["methodology_digest"]:
            raise ImportRefused(
                _(
                    "The claims use the methodology %(code)s v%(version)s, which this "
                    "instance does not have with the same definition."
                )
                % {"code": key[0], "version": key[1]}
            )
        found[key] = here.get(key)
    return found


def catalogue_loaded(tables: Tables) -> None:
    """Load the shipped catalogue when the claims need a methodology it holds and this
    instance does not (the check found it there with the same definition)."""
    wanted = {(row["methodology"], row["methodology_version"]) for row in tables.get("claims", [])}
    classes = {
        row["token_class"]
        for table in TABLES
        if table.classed
        for row in tables.get(table.name, [])
    }
    classes.discard(None)
    have = set(Methodology.objects.values_list("code", "version"))
    if not wanted <= have or not classes <= set(TokenClass.objects.values_list("code", flat=True)):
        from ..services import impact_load_catalogue

        impact_load_catalogue()

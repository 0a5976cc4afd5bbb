"""Reads of witnessing: who watches what, the cosignatures of a checkpoint, the evidence."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from governance.models import City
from ledger.models import Chain
from ledger.signing import checkpoint_origin

from .errors import NotWitnessed
from .models import Cosignature, Inconsistency, WitnessRelation


def relation_get(*, city: City, public_id: str) -> WitnessRelation:
    relation = WitnessRelation.objects.filter(witness=city, public_id=public_id).first()
    if relation is None:
        raise Http404("no such witness relation")
    return relation


def relations_watched_by(*, city: City) -> QuerySet[WitnessRelation]:
    """The logs `city` witnesses (active first, then the ones it stopped)."""
    return (
        WitnessRelation.objects.filter(witness=city)
        .select_related("chain")
        .order_by("removed_at", "origin")
    )


def relations_watching(*, chain: Chain) -> QuerySet[WitnessRelation]:
    """The cities of this deployment that witness `chain`."""
    return (
        WitnessRelation.objects.filter(chain=chain, removed_at=None)
        .select_related("witness")
        .order_by("witness__name")
    )


def inconsistencies_about(*, city: City) -> QuerySet[Inconsistency]:
    """Evidence `city` found as a witness, and evidence others found about its chain."""
    return (
        Inconsistency.objects.filter(Q(relation__witness=city) | Q(relation__chain=city.chain_id))
        .select_related("relation__witness")
        .order_by("-detected_at", "-pk")
    )


@dataclass(frozen=True)
class WitnessedCheckpoint:
    origin: str
    tree_size: int
    root: str
    text: str  # the log's checkpoint with every cosignature line appended
    cosignatures: list[Cosignature]


def latest_witnessed(*, chain: Chain, tree_size: int | None = None) -> WitnessedCheckpoint | None:
    """The largest cosigned checkpoint of `chain` (or the one at `tree_size`), with the
    cosignature lines of every witness appended to the log's signed note (C2SP lets
    cosignatures follow the log's own signature lines). Two queries."""
    origin = checkpoint_origin(chain.slug)
    # By relation, not by origin: another deployment may use the same origin prefix.
    rows = Cosignature.objects.filter(relation__chain=chain)
    if tree_size is None:
        tree_size = rows.order_by("-tree_size").values_list("tree_size", flat=True).first()
        if tree_size is None:
            return None
    cosignatures = list(
        rows.filter(tree_size=tree_size)
        .select_related("relation__witness")
        .order_by("created_at", "pk")
    )
    if not cosignatures:
        return None
    # The log signed one root per size (a witness refuses any other), so the rows agree.
    base = cosignatures[-1].checkpoint
    if not base.endswith("\n"):
        base += "\n"
    lines = [c.line for c in cosignatures if c.line not in base]
    return WitnessedCheckpoint(
        origin=origin,
        tree_size=tree_size,
        root=cosignatures[-1].root,
        text=base + "".join(lines),
        cosignatures=cosignatures,
    )


def witnessed_checkpoint(*, chain: Chain) -> WitnessedCheckpoint:
    found = latest_witnessed(chain=chain)
    if found is None:
        raise NotWitnessed()
    return found


def cosignature_list(*, chain: Chain, limit: int = 50) -> QuerySet[Cosignature]:
    return (
        Cosignature.objects.filter(relation__chain=chain)
        .select_related("relation__witness")
        .order_by("-tree_size", "created_at")[:limit]
    )

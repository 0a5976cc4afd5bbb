"""The holdings: replaying the ledger's token transactions (issue, transfer, retire, offer,
withdraw, redeem) in ledger order, serial range by serial range; each batch's holdings must
partition its serials exactly as the replay says (holder, state, offer, retirement,
redemption)."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from smartb.portability import ImportContext, ImportRefused
from smartb.portability.registry import Tables

from ..models import HoldingState


class _Ranges:
    """Who holds each serial of each batch, as disjoint ranges (first, last, owner)."""

    def __init__(self) -> None:
        self.by_batch: dict[str, list[list]] = {}

    def issue(self, batch: str, first: int, last: int, owner: tuple) -> None:
        if batch in self.by_batch:
            raise ImportRefused(_("A batch of the export was issued twice on the ledger."))
        self.by_batch[batch] = [[first, last, owner]]

    def move(self, batch: str, first: int, last: int, allowed, owner: tuple) -> None:
        """Give serials first..last of `batch` to `owner`; each must be held as `allowed`
        says (a predicate on the current owner)."""
        spans = self.by_batch.get(batch)
        if spans is None or last < first:
            raise ImportRefused(_("The ledger moves serials of a batch it never issued."))
        result, covered = [], 0
        for lo, hi, current in spans:
            if hi < first or lo > last:
                result.append([lo, hi, current])
                continue
            if not allowed(current):
                raise ImportRefused(_("The ledger moves serials their holder did not hold."))
            if lo < first:
                result.append([lo, first - 1, current])
            result.append([max(lo, first), min(hi, last), owner])
            covered += min(hi, last) - max(lo, first) + 1
            if hi > last:
                result.append([last + 1, hi, current])
        if covered != last - first + 1:
            raise ImportRefused(_("The ledger moves serials outside their batch."))
        self.by_batch[batch] = result

    def release(self, offer: str) -> None:
        for spans in self.by_batch.values():
            for span in spans:
                holder, state, tag = span[2]
                if state == HoldingState.ESCROW and tag == offer:
                    span[2] = (holder, HoldingState.AVAILABLE, None)


def _merged(spans) -> list[tuple]:
    merged: list[list] = []
    for lo, hi, owner in sorted(spans, key=lambda s: s[0]):
        if merged and merged[-1][2] == owner and merged[-1][1] + 1 == lo:
            merged[-1][1] = hi
        else:
            merged.append([lo, hi, owner])
    return [tuple(span) for span in merged]


def _replay(ctx: ImportContext) -> _Ranges:
    ranges = _Ranges()
    available = HoldingState.AVAILABLE
    for tx in sorted(ctx.bundle.get("transactions", []), key=lambda t: t["index"]):
        kind, payload = tx.get("kind"), tx.get("payload")
        if not isinstance(payload, dict) or not str(kind).startswith("impact."):
            continue
        if kind == "impact.batch.issue":
            ranges.issue(
                payload["batch"],
                payload["first"],
                payload["last"],
                (payload["portfolio"], available, None),
            )
        elif kind == "impact.token.transfer":
            sender = payload["from"]
            for batch, first, last in payload["serials"]:
                ranges.move(
                    batch,
                    first,
                    last,
                    lambda o, sender=sender: (
                        o[0] == sender and o[1] in (available, HoldingState.ESCROW)
                    ),
                    (payload["to"], available, None),
                )
        elif kind in ("impact.token.retire", "impact.offer.create", "impact.token.redeem"):
            holder = payload["portfolio"]
            state, tag = {
                "impact.token.retire": (HoldingState.RETIRED, tx["index"]),
                "impact.offer.create": (HoldingState.ESCROW, payload.get("offer")),
                "impact.token.redeem": (HoldingState.REDEEMED, payload.get("redemption")),
            }[kind]
            for batch, first, last in payload["serials"]:
                ranges.move(
                    batch,
                    first,
                    last,
                    lambda o, holder=holder: o[0] == holder and o[1] == available,
                    (holder, state, tag),
                )
        elif kind == "impact.offer.withdraw":
            ranges.release(payload.get("offer"))
    return ranges


def check_holdings(ctx: ImportContext, tables: Tables, batches: dict[str, dict]) -> None:
    """Each batch's holdings partition its serials, and say who holds what exactly as the
    ledger's token transactions, replayed in order, leave it."""
    retirement_entry = {row["public_id"]: row["entry"] for row in tables.get("retirements", [])}
    offers = {row["public_id"] for row in tables.get("sell_offers", [])}
    redemptions = {row["public_id"] for row in tables.get("redemptions", [])}
    rows: dict[str, list] = defaultdict(list)
    for row in tables.get("holdings", []):
        batch = batches.get(row["batch"])
        state = row["state"]
        tag = {
            HoldingState.AVAILABLE: None,
            HoldingState.ESCROW: row["offer"],
            HoldingState.RETIRED: retirement_entry.get(row["retirement"]),
            HoldingState.REDEEMED: row["redemption"],
        }.get(state, "?")
        links = (row["offer"], row["retirement"], row["redemption"])
        expected_links = {
            HoldingState.AVAILABLE: (None, None, None),
            HoldingState.ESCROW: (row["offer"], None, None),
            HoldingState.RETIRED: (None, row["retirement"], None),
            HoldingState.REDEEMED: (None, None, row["redemption"]),
        }.get(state)
        if (
            batch is None
            or links != expected_links
            or (state == HoldingState.ESCROW and row["offer"] not in offers)
            or (state == HoldingState.RETIRED and tag is None)
            or (state == HoldingState.REDEEMED and row["redemption"] not in redemptions)
            or row["quantity"] < 1
            or row["last_serial"] != row["first_serial"] + row["quantity"] - 1
        ):
            raise ImportRefused(
                _("A holding of the batch %(batch)s is malformed.") % {"batch": row["batch"]}
            )
        owner = (row["portfolio"], state, tag)
        rows[row["batch"]].append([row["first_serial"], row["last_serial"], owner])
    replayed = _replay(ctx)
    if set(replayed.by_batch) != set(batches):
        raise ImportRefused(_("The batches of the export are not those the ledger issued."))
    for public_id, batch in batches.items():
        spans = sorted(rows.get(public_id, []), key=lambda s: s[0])
        expected_first = batch["first_serial"]
        for lo, hi, _owner in spans:
            if lo != expected_first:
                raise ImportRefused(
                    _("The holdings of the batch %(batch)s overlap or leave serials out.")
                    % {"batch": public_id}
                )
            expected_first = hi + 1
        if expected_first != batch["last_serial"] + 1:
            raise ImportRefused(
                _("The holdings of the batch %(batch)s overlap or leave serials out.")
                % {"batch": public_id}
            )
        if _merged(spans) != _merged(replayed.by_batch[public_id]):
            raise ImportRefused(
                _("The holdings of the batch %(batch)s are not what the ledger says.")
                % {"batch": public_id}
            )


# --- import -------------------------------------------------------------------------------

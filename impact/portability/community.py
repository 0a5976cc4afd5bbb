"""The check of the market and the community: purchases, forward orders and their fills,
merchant offers and redemptions, projects and contributions, participation calls and
participations, each against its transaction (titles and descriptions against the content
digest signed), the transfer that carried its tokens, the payable that owes its money and
the treasury movement that paid it in; statuses, fills, stocks and collected amounts are
recomputed from the ledger."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from smartb.portability import ImportContext, ImportRefused
from smartb.portability.registry import Tables

from ..models import (
    ForwardStatus,
    MerchantSettlement,
    ParticipationStatus,
    PayableKind,
    ProjectStatus,
    RetireReason,
)
from ..services._common import sha256_json
from .common import disagrees, signed


class _Seen:
    """What the community rows are checked against: the export's other rows, the treasury
    movements of the governance section, and the closings the ledger recorded."""

    CLOSINGS = (
        ("impact.forward.cancel", "order"),
        ("impact.merchant.close", "offer"),
        ("impact.project.close", "project"),
        ("impact.call.close", "call"),
    )

    def __init__(self, ctx: ImportContext, tables: Tables, member_did: dict) -> None:
        self.member_did = member_did
        self.transfers = {row["public_id"]: row for row in tables.get("transfers", [])}
        self.payables = {row["public_id"]: row for row in tables.get("payables", [])}
        self.retirements = {row["public_id"]: row for row in tables.get("retirements", [])}
        self.portfolios = {row["public_id"] for row in tables.get("portfolios", [])}
        self.offers = {row["public_id"]: row for row in tables.get("sell_offers", [])}
        self.batches = {row["public_id"] for row in tables.get("batches", [])}
        self.movements = {
            row.get("public_id") for row in ctx.tables.get("governance", {}).get("movements", [])
        }
        self.happened: dict[str, set] = defaultdict(set)
        for tx in ctx.bundle.get("transactions", []):
            payload = tx.get("payload") if isinstance(tx.get("payload"), dict) else {}
            for kind, key in self.CLOSINGS:
                if tx.get("kind") == kind:
                    self.happened[kind].add(payload.get(key))

    def moved(self, public_id, quantity, purpose, sender=None, recipient=None) -> bool:
        """The transfer `public_id` carried `quantity` tokens for `purpose` (between these
        portfolios, when given)."""
        transfer = self.transfers.get(public_id)
        return (
            transfer is not None
            and transfer["quantity"] == quantity
            and transfer["purpose"] == purpose
            and (sender is None or transfer["sender"] == sender)
            and (recipient is None or transfer["recipient"] == recipient)
        )

    def owed(self, public_id, kind, amount) -> bool:
        """The payable `public_id` owes `amount` cents, of `kind`."""
        payable = self.payables.get(public_id)
        return payable is not None and payable["kind"] == kind and payable["amount_cents"] == amount


def check_community(ctx: ImportContext, tables: Tables, member_did: dict) -> None:
    """Each market and community row says what its transaction signed, and points at the
    transfers, payables and treasury movements that carried its tokens and money (their
    columns and public ids were checked with the other tables, `check._check_shape`)."""
    seen = _Seen(ctx, tables, member_did)
    _check_purchases(ctx, tables, seen)
    _check_forward_orders(ctx, tables, seen)
    _check_merchants(ctx, tables, seen)
    _check_projects(ctx, tables, seen)
    _check_calls(ctx, tables, seen)


def _check_purchases(ctx: ImportContext, tables: Tables, seen: _Seen) -> None:
    for row in tables.get("purchases", []):
        payload = signed(ctx, row, "impact.offer.buy", "purchase")["payload"]
        offer = seen.offers.get(row["offer"])
        if (
            offer is None
            or row["movement"] not in seen.movements
            or row["amount_cents"] != row["quantity"] * offer["unit_price_cents"]
            or not seen.moved(
                row["transfer"], row["quantity"], "sale", offer["seller"], row["buyer"]
            )
            or not seen.owed(row["payable"], PayableKind.SALE, row["amount_cents"])
            or payload
            != {
                "purchase": row["public_id"],
                "offer": row["offer"],
                "buyer": row["buyer"],
                "quantity": row["quantity"],
                "amount_cents": row["amount_cents"],
                "movement": row["movement"],
                "payable": row["payable"],
            }
        ):
            raise disagrees("purchase", row["entry"])


def _check_forward_orders(ctx: ImportContext, tables: Tables, seen: _Seen) -> None:
    """A forward order is filled by the fills its transfers and payables carried, and open,
    filled or cancelled as the ledger says."""
    filled: dict[str, int] = defaultdict(int)
    orders = {row["public_id"]: row for row in tables.get("forward_orders", [])}
    for row in tables.get("forward_fills", []):
        order = orders.get(row["order"])
        if (
            order is None
            or row["batch"] not in seen.batches
            or not seen.moved(row["transfer"], row["quantity"], "forward", None, order["investor"])
            or not seen.owed(
                row["payable"], PayableKind.FORWARD, row["quantity"] * order["unit_price_cents"]
            )
        ):
            raise ImportRefused(
                _("A fill of the forward order %(id)s disagrees with its transfer.")
                % {"id": row["order"]}
            )
        filled[row["order"]] += row["quantity"]
    for row in orders.values():
        payload = signed(ctx, row, "impact.forward.create", "forward order")["payload"]
        status = (
            ForwardStatus.CANCELLED
            if row["public_id"] in seen.happened["impact.forward.cancel"]
            else ForwardStatus.FILLED
            if filled[row["public_id"]] == row["quantity"]
            else ForwardStatus.OPEN
        )
        if (
            row["investor"] not in seen.portfolios
            or row["movement"] not in seen.movements
            or row["filled"] != filled[row["public_id"]]
            or row["status"] != status
            or payload
            != {
                "order": row["public_id"],
                "portfolio": row["investor"],
                "token_class": row["token_class"],
                "quantity": row["quantity"],
                "unit_price_cents": row["unit_price_cents"],
                "movement": row["movement"],
            }
        ):
            raise disagrees("forward order", row["entry"])


def _check_merchants(ctx: ImportContext, tables: Tables, seen: _Seen) -> None:
    """A merchant redemption is settled by a transfer or a retirement; an offer's stock is
    what its redemptions left."""
    spent: dict[str, int] = defaultdict(int)
    merchant_offers = {row["public_id"]: row for row in tables.get("merchant_offers", [])}
    for row in tables.get("merchant_redemptions", []):
        payload = signed(ctx, row, "impact.merchant.redeem", "merchant redemption")["payload"]
        offer = merchant_offers.get(row["offer"])
        retirement = seen.retirements.get(row.get("retirement")) if row.get("retirement") else None
        settled = (
            offer is not None
            and row["quantity"] == row["items"] * offer["price_quantity"]
            and (
                seen.moved(
                    row["transfer"], row["quantity"], "merchant", row["buyer"], offer["merchant"]
                )
                if offer["settlement"] == MerchantSettlement.TRANSFER
                else retirement is not None
                and retirement["quantity"] == row["quantity"]
                and retirement["portfolio"] == row["buyer"]
                and retirement["reason_code"] == RetireReason.MERCHANT
            )
        )
        if not settled or payload != {
            "redemption": row["public_id"],
            "offer": row["offer"],
            "items": row["items"],
            "quantity": row["quantity"],
        }:
            raise disagrees("merchant redemption", row["entry"])
        spent[row["offer"]] += row["items"]
    for row in merchant_offers.values():
        payload = signed(ctx, row, "impact.merchant.offer", "merchant offer")["payload"]
        stock = payload.get("stock")
        if (
            row["merchant"] not in seen.portfolios
            or row["settlement"] not in MerchantSettlement.values
            or row["stock"] != (None if stock is None else stock - spent[row["public_id"]])
            or row["active"] == (row["public_id"] in seen.happened["impact.merchant.close"])
            or payload
            != {
                "offer": row["public_id"],
                "merchant": row["merchant"],
                "token_class": row["token_class"],
                "price_quantity": row["price_quantity"],
                "settlement": row["settlement"],
                "stock": stock,
                "content": sha256_json({"title": row["title"], "description": row["description"]}),
            }
        ):
            raise disagrees("merchant offer", row["entry"])


def _check_projects(ctx: ImportContext, tables: Tables, seen: _Seen) -> None:
    """A contribution carried its tokens and money; a project collected what they sum to."""
    collected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    projects = {row["public_id"]: row for row in tables.get("projects", [])}
    for row in tables.get("contributions", []):
        payload = signed(ctx, row, "impact.project.contribute", "contribution")["payload"]
        project = projects.get(row["project"])
        if (
            project is None
            or (
                row["quantity"]
                and not seen.moved(
                    row["transfer"],
                    row["quantity"],
                    "project",
                    row["contributor"],
                    project["owner"],
                )
            )
            or (not row["quantity"] and row.get("transfer"))
            or (
                row["amount_cents"]
                and (
                    row["movement"] not in seen.movements
                    or not seen.owed(row["payable"], PayableKind.PROJECT, row["amount_cents"])
                )
            )
            or (not row["amount_cents"] and (row.get("movement") or row.get("payable")))
            or payload
            != {
                "contribution": row["public_id"],
                "project": row["project"],
                "quantity": row["quantity"],
                "amount_cents": row["amount_cents"],
            }
        ):
            raise disagrees("contribution", row["entry"])
        collected[row["project"]][0] += row["quantity"]
        collected[row["project"]][1] += row["amount_cents"]
    for row in projects.values():
        payload = signed(ctx, row, "impact.project.create", "project")["payload"]
        closed = row["public_id"] in seen.happened["impact.project.close"]
        if (
            row["owner"] not in seen.portfolios
            or [row["collected_quantity"], row["collected_cents"]] != collected[row["public_id"]]
            or row["status"] != (ProjectStatus.CLOSED if closed else ProjectStatus.OPEN)
            or payload
            != {
                "project": row["public_id"],
                "owner": row["owner"],
                "token_class": row["token_class"],
                "goal_quantity": row["goal_quantity"],
                "goal_cents": row["goal_cents"],
                "content": sha256_json({"title": row["title"], "description": row["description"]}),
            }
        ):
            raise disagrees("project", row["entry"])


def _check_calls(ctx: ImportContext, tables: Tables, seen: _Seen) -> None:
    """A participation call is open or closed as the ledger says; a rewarded participation
    was paid by its transfer."""
    calls = {row["public_id"]: row for row in tables.get("participation_calls", [])}
    for row in calls.values():
        payload = signed(ctx, row, "impact.call.create", "participation call")["payload"]
        closed = row["public_id"] in seen.happened["impact.call.close"]
        if (
            row["created_by"] not in seen.member_did
            or row["status"] != (ProjectStatus.CLOSED if closed else ProjectStatus.OPEN)
            or {k: payload.get(k) for k in ("call", "token_class", "reward_quantity", "places")}
            != {
                "call": row["public_id"],
                "token_class": row["token_class"],
                "reward_quantity": row["reward_quantity"],
                "places": row["places"],
            }
            or payload.get("content")
            != sha256_json({"title": row["title"], "description": row["description"]})
        ):
            raise disagrees("participation call", row["entry"])
    for row in tables.get("participations", []):
        payload = signed(ctx, row, "impact.call.register", "participation")["payload"]
        call = calls.get(row["call"])
        rewarded = row["status"] == ParticipationStatus.REWARDED
        if (
            call is None
            or row["status"] not in ParticipationStatus.values
            or rewarded != bool(row.get("transfer"))
            or (
                rewarded
                and not seen.moved(row["transfer"], call["reward_quantity"], "participation")
            )
            or payload != {"call": row["call"], "membership": row["membership"]}
        ):
            raise disagrees("participation", row["entry"])

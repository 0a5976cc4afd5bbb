"""The check that runs before anything is written. It refuses the import when a row is
malformed or exists here already, names a token class or methodology this instance does not
know, is not what its ledger transaction signed (every payload is recomputed from the rows),
when a transaction of the kinds in `ONE_ROW_PER_TX` has no row, when serial ranges overlap,
or when the holdings are not what replaying the ledger leaves (`holdings.py`)."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.utils.translation import gettext as _

from smartb.portability import ImportContext, ImportRefused
from smartb.portability.registry import Tables
from smartb.portability.rows import require_fields

from ..catalogue import catalogue_data
from ..compute import compute_quantity
from ..models import (
    ClaimState,
    Decision,
    EvidenceKind,
    OfferStatus,
    PayableKind,
    PayableStatus,
    RetireReason,
    TokenClass,
)
from ..services._common import sha256_json, sha256_text
from .common import disagrees, evidence_content, signed, units
from .community import check_community
from .holdings import check_holdings
from .methodologies import methodologies_named
from .tables import EVIDENCE_KIND, ONE_ROW_PER_TX, TABLES


def check_impact(ctx: ImportContext, tables: Tables) -> None:
    """Rows are well formed and new here, each says what its transaction signed, every
    impact transaction of the chain has its row, serial ranges do not overlap, and the
    holdings are exactly what replaying the ledger's token transactions leaves."""
    _check_shape(tables)
    methodologies_named(tables)
    governance = ctx.tables.get("governance", {})
    identity = ctx.tables.get("identity", {})
    member_did = {m["public_id"]: m["identity"] for m in governance.get("memberships", [])}
    credentials = {c["public_id"]: c for c in identity.get("credentials", [])}
    city = ctx.manifest["city"]

    portfolios = _check_portfolios(tables, identity)
    curators = _check_curators(ctx, tables, member_did)
    claims = _check_claims(ctx, tables, member_did, city)
    _check_evidence(ctx, tables, claims)
    _check_verifications(ctx, tables, claims, curators, member_did, credentials)
    batches = _check_batches(ctx, tables, claims, portfolios, credentials, city)
    payables = _check_payables(ctx, tables, portfolios)
    _check_spends(ctx, tables, portfolios, payables, member_did, city)
    check_community(ctx, tables, member_did)
    _check_complete(ctx, tables)
    check_holdings(ctx, tables, batches)


def _check_shape(tables: Tables) -> None:
    """Every table's rows carry their required columns; rows with a public id are new here
    (and once in the export); token classes are known here or to the shipped catalogue."""
    for table in TABLES:
        require_fields(tables.get(table.name, []), table.required, table.name)
    for table in TABLES:
        if table.unique:
            _check_new(table.model, table.name, tables)
    known = set(TokenClass.objects.values_list("code", flat=True)) | {
        c["code"] for c in catalogue_data()["token_classes"]
    }
    for table in TABLES:
        if table.classed and any(
            row["token_class"] not in known | {None} for row in tables.get(table.name, [])
        ):
            raise ImportRefused(
                _("A row of %(table)s names a token class this instance does not know.")
                % {"table": table.name}
            )


def _check_new(model, name: str, tables: Tables) -> None:
    ids = [row["public_id"] for row in tables.get(name, [])]
    if len(set(ids)) != len(ids) or model.objects.filter(public_id__in=ids).exists():
        raise ImportRefused(_("A row of %(table)s exists here already.") % {"table": name})


def _check_portfolios(tables: Tables, identity: dict) -> dict[str, dict]:
    """A portfolio's account and DID leave with the identity section, and belong together."""
    accounts = {u["public_id"] for u in identity.get("users", [])}
    dids = {i["did"]: i["account"] for i in identity.get("identities", [])}
    portfolios = {}
    for row in tables.get("portfolios", []):
        if row["account"] not in accounts or dids.get(row["identity"]) != row["account"]:
            raise ImportRefused(
                _("The portfolio %(id)s names an account or a DID the export does not hold.")
                % {"id": row["public_id"]}
            )
        portfolios[row["public_id"]] = row
    return portfolios


def _check_curators(ctx, tables, member_did) -> dict[str, dict]:
    revoked = {
        tx["payload"].get("curator")
        for tx in ctx.bundle.get("transactions", [])
        if tx.get("kind") == "impact.curator.revoke" and isinstance(tx.get("payload"), dict)
    }
    curators = {}
    for row in tables.get("curators", []):
        payload = signed(ctx, row, "impact.curator.grant", "curator")["payload"]
        if (
            payload.get("curator") != row["public_id"]
            or payload.get("membership") != row["membership"]
            or payload.get("member") != member_did.get(row["membership"])
            or (row.get("revoked_at") is not None) != (row["public_id"] in revoked)
        ):
            raise disagrees("curator", row["entry"])
        curators[row["public_id"]] = row
    return curators


def _check_claims(ctx, tables, member_did, city) -> dict[str, dict]:
    methodologies = methodologies_named(tables)
    evidence_of: dict[str, list[dict]] = defaultdict(list)
    for row in tables.get("evidence", []):
        evidence_of[row["claim"]].append(row)
    claims: dict[str, dict] = {}
    items_of: dict[str, list[dict]] = defaultdict(list)
    for row in tables.get("claims", []):
        if (
            row["state"] not in ClaimState.values
            or row["parameters_digest"] != sha256_json(row["parameters"])
            or type(row["quantity"]) is not int
            or row["quantity"] < 0
        ):
            raise disagrees("claim", row["entry"])
        methodology = methodologies[(row["methodology"], row["methodology_version"])]
        if methodology is not None and (
            compute_quantity(methodology, row["parameters"]) != row["quantity"]
            or methodology.indicator.code != row["indicator"]
            or methodology.token_class.code != row["token_class"]
        ):
            raise disagrees("claim", row["entry"])
        ledger_item = {
            "claimant": member_did.get(row["claimant"]),
            "methodology": row["methodology_ref"],
            "parameters": row["parameters_digest"],
            "quantity": row["quantity"],
            "period": [row["period_start"], row["period_end"]],
            "district": row.get("district_code") or None,
        }
        if row.get("batch"):
            ledger_item["evidence"] = [
                [e["type"], e["dataset_ref"], e["sha256"]]
                for e in evidence_of.get(row["public_id"], [])
                if e["entry"] == row["entry"]
            ]
            items_of[row["batch"]].append(ledger_item)
        else:
            payload = signed(ctx, row, "impact.claim.create", "claim")["payload"]
            expected = {
                **ledger_item,
                "claim": row["public_id"],
                "city": city,
                "indicator": row["indicator"],
                "methodology_digest": row["methodology_digest"],
                "token_class": row["token_class"],
                "service": row.get("service_ref") or None,
            }
            if payload != expected:
                raise disagrees("claim", row["entry"])
        claims[row["public_id"]] = row
    _check_claim_batches(ctx, tables, items_of, city)
    return claims


def _check_claim_batches(ctx, tables, items_of: dict[str, list[dict]], city) -> None:
    """A service's batch signed the digest of its claims' items (each claim as its ledger
    item, with the evidence it cites); every batched claim has its batch."""
    for row in tables.get("claim_batches", []):
        payload = signed(ctx, row, "impact.claim.batch", "service's batch of claims")["payload"]
        items = items_of.pop(row["public_id"], [])
        digest = sha256_json(items)
        if (
            row["digest"] != digest
            or row["count"] != len(items)
            or ctx.transaction(row["entry"])["actor"] != row["provider_did"]
            or payload
            != {
                "city": city,
                "service": row["service_ref"],
                "reference": row["reference"],
                "count": len(items),
                "items": digest,
            }
        ):
            raise disagrees("service's batch of claims", row["entry"])
    if items_of:
        raise ImportRefused(_("A claim names a batch of claims the export does not contain."))


def _check_evidence(ctx, tables, claims) -> None:
    """A file is what its SHA-256 says, a dataset is named by id and digest, and each
    piece says what its transaction (or its service's batch) signed."""
    for row in tables.get("evidence", []):
        claim = claims.get(row["claim"])
        if claim is None or row["kind"] not in EvidenceKind.values:
            raise disagrees("evidence", row["entry"])
        if row["kind"] == EvidenceKind.FILE:
            content = evidence_content(row)
            if (
                hashlib.sha256(content).hexdigest() != row["sha256"]
                or len(content) != row.get("size")
                or row.get("dataset_ref")
            ):
                raise disagrees("evidence", row["entry"])
        elif row.get("content") is not None or not row.get("dataset_ref"):
            raise disagrees("evidence", row["entry"])
        if claim.get("batch") and row["entry"] == claim["entry"]:
            continue  # cited in the service's batch: its items digest covers it
        payload = signed(ctx, row, EVIDENCE_KIND, "evidence")["payload"]
        if payload != {
            "claim": row["claim"],
            "evidence": row["public_id"],
            "type": row["type"],
            "sha256": row["sha256"],
            "dataset": row.get("dataset_ref") or None,
        }:
            raise disagrees("evidence", row["entry"])


def _check_verifications(ctx, tables, claims, curators, member_did, credentials) -> None:
    last: dict[str, str] = {}
    for row in tables.get("verifications", []):
        tx = signed(ctx, row, "impact.claim.verify", "verification")
        claim = claims.get(row["claim"])
        curator = curators.get(row["curator"])
        credential = credentials.get(row.get("credential")) if row.get("credential") else None
        subject = (credential or {}).get("document", {}).get("credentialSubject", {})
        if (
            claim is None
            or curator is None
            or row["decision"] not in Decision.values
            or tx["actor"] != member_did.get(curator["membership"])
            or (row["decision"] == Decision.APPROVE) != (credential is not None)
            or (
                credential is not None
                and (
                    credential["issuer"] != tx["actor"]
                    or subject.get("impactClaim") != row["claim"]
                    or subject.get("quantity") != claim["quantity"]
                )
            )
            or tx["payload"]
            != {
                "claim": row["claim"],
                "verification": row["public_id"],
                "decision": row["decision"],
                "reason": row.get("reason_code") or None,
                "quantity": row["recomputed_quantity"],
                "credential": credential["digest"] if credential else None,
            }
        ):
            raise disagrees("verification", row["entry"])
        last[row["claim"]] = row["decision"]
    states = {
        Decision.APPROVE: ClaimState.APPROVED,
        Decision.REJECT: ClaimState.REJECTED,
        Decision.DISPUTE: ClaimState.DISPUTED,
    }
    for public_id, claim in claims.items():
        decided = last.get(public_id)
        if (decided is None and claim["state"] not in (ClaimState.DRAFT, ClaimState.SUBMITTED)) or (
            decided is not None and claim["state"] != states[decided]
        ):
            raise disagrees("claim", claim["entry"])


def _check_batches(ctx, tables, claims, portfolios, credentials, city) -> dict[str, dict]:
    batches = {}
    ranges: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
    for row in tables.get("batches", []):
        payload = signed(ctx, row, "impact.batch.issue", "batch")["payload"]
        claim = claims.get(row["claim"])
        portfolio = portfolios.get(row["portfolio"])
        credential = credentials.get(row["credential"])
        if (
            claim is None
            or portfolio is None
            or credential is None
            or claim["state"] != ClaimState.APPROVED
            or claim["quantity"] != row["quantity"]
            or claim["token_class"] != row["token_class"]
            or int(claim["period_end"][:4]) != row["vintage"]
            or row["quantity"] < 1
            or row["first_serial"] < 1
            or row["last_serial"] != row["first_serial"] + row["quantity"] - 1
            or payload
            != {
                "batch": row["public_id"],
                "claim": row["claim"],
                "city": city,
                "token_class": row["token_class"],
                "vintage": row["vintage"],
                "number": row["number"],
                "first": row["first_serial"],
                "last": row["last_serial"],
                "quantity": row["quantity"],
                "portfolio": row["portfolio"],
                "holder": portfolio["identity"],
                "credential": credential["digest"],
            }
        ):
            raise disagrees("batch", row["entry"])
        batches[row["public_id"]] = row
        ranges[(row["token_class"], row["vintage"])].append(
            (row["first_serial"], row["last_serial"], row["number"])
        )
    if len({row["claim"] for row in batches.values()}) != len(batches):
        raise ImportRefused(_("Two batches of the export were issued for one claim."))
    counters = {(c["token_class"], c["vintage"]): c for c in tables.get("serial_counters", [])}
    for key, spans in ranges.items():
        spans.sort()
        numbers = [number for _first, _last, number in spans]
        if len(set(numbers)) != len(numbers) or any(
            spans[i][0] <= spans[i - 1][1] for i in range(1, len(spans))
        ):
            raise ImportRefused(
                _("Serial ranges of %(code)s vintage %(vintage)s overlap.")
                % {"code": key[0], "vintage": key[1]}
            )
        counter = counters.get(key)
        if (
            counter is None
            or counter["next_serial"] <= spans[-1][1]
            or counter["next_batch"] <= max(numbers)
        ):
            raise ImportRefused(
                _("The serial counter of %(code)s vintage %(vintage)s would issue serials again.")
                % {"code": key[0], "vintage": key[1]}
            )
    return batches


def _check_payables(ctx, tables, portfolios) -> dict[str, dict]:
    payables = {}
    for row in tables.get("payables", []):
        payload = signed(ctx, row, "impact.payable.create", "payable")["payload"]
        portfolio = portfolios.get(row["payee"])
        paid = row.get("paid_entry")
        if (
            portfolio is None
            or row["kind"] not in PayableKind.values
            or row["status"] not in PayableStatus.values
            or portfolio["identity"] != row["payee_did"]
            or {k: payload.get(k) for k in ("payable", "kind", "payee", "amount_cents")}
            != {
                "payable": row["public_id"],
                "kind": row["kind"],
                "payee": row["payee_did"],
                "amount_cents": row["amount_cents"],
            }
            or (row["status"] == PayableStatus.PAID) != (paid is not None)
        ):
            raise disagrees("payable", row["entry"])
        if paid is not None:
            settle = ctx.transaction(paid)
            if settle["kind"] != "impact.payable.settle" or settle["payload"] != {
                "payable": row["public_id"],
                "proposal": row.get("proposal"),
            }:
                raise disagrees("payable", paid)
        payables[row["public_id"]] = row
    return payables


def _check_spends(ctx, tables, portfolios, payables, member_did, city) -> None:
    """Transfers, retirements, sell offers, redemptions and rates each say what their
    transaction signed, between portfolios of the export."""

    def portfolio(public_id, row, what):
        found = portfolios.get(public_id)
        if found is None:
            raise disagrees(what, row["entry"])
        return found

    _check_transfers(ctx, tables, portfolio, city)
    _check_retirements(ctx, tables, portfolio, city)
    _check_sell_offers(ctx, tables, portfolio)
    _check_redemptions(ctx, tables, portfolio, payables, member_did)
    _check_redemption_rates(ctx, tables)


def _check_transfers(ctx, tables, portfolio, city) -> None:
    for row in tables.get("transfers", []):
        payload = signed(ctx, row, "impact.token.transfer", "transfer")["payload"]
        portfolio(row["sender"], row, "transfer")
        portfolio(row["recipient"], row, "transfer")
        if units(row["serials"]) != row["quantity"] or payload != {
            "city": city,
            "from": row["sender"],
            "to": row["recipient"],
            "token_class": row["token_class"],
            "quantity": row["quantity"],
            "serials": row["serials"],
            "purpose": row["purpose"],
        }:
            raise disagrees("transfer", row["entry"])


def _check_retirements(ctx, tables, portfolio, city) -> None:
    for row in tables.get("retirements", []):
        payload = signed(ctx, row, "impact.token.retire", "retirement")["payload"]
        holder = portfolio(row["portfolio"], row, "retirement")
        name = row.get("beneficiary_name") or ""
        beneficiary = row.get("beneficiary_did") or (sha256_text(name) if name else None)
        if (
            row["reason_code"] not in RetireReason.values
            or units(row["serials"]) != row["quantity"]
            or payload
            != {
                "city": city,
                "portfolio": row["portfolio"],
                "holder": holder["identity"],
                "token_class": row["token_class"],
                "quantity": row["quantity"],
                "serials": row["serials"],
                "reason": row["reason_code"],
                "beneficiary": beneficiary,
            }
        ):
            raise disagrees("retirement", row["entry"])


def _check_sell_offers(ctx, tables, portfolio) -> None:
    """An offer's remaining quantity and status are what the ledger's purchases and
    withdrawals leave."""
    sold: dict[str, int] = defaultdict(int)
    withdrawn = set()
    for tx in ctx.bundle.get("transactions", []):
        payload = tx.get("payload") if isinstance(tx.get("payload"), dict) else {}
        if tx.get("kind") == "impact.offer.buy":
            sold[payload.get("offer")] += payload.get("quantity") or 0
        elif tx.get("kind") == "impact.offer.withdraw":
            withdrawn.add(payload.get("offer"))
    for row in tables.get("sell_offers", []):
        payload = signed(ctx, row, "impact.offer.create", "sell offer")["payload"]
        portfolio(row["seller"], row, "sell offer")
        remaining = row["quantity"] - sold[row["public_id"]]
        status = (
            OfferStatus.WITHDRAWN
            if row["public_id"] in withdrawn
            else OfferStatus.SOLD
            if remaining == 0
            else OfferStatus.OPEN
        )
        if (
            row["remaining"] != remaining
            or row["status"] != status
            or {k: payload.get(k) for k in ("offer", "portfolio", "token_class", "quantity")}
            != {
                "offer": row["public_id"],
                "portfolio": row["seller"],
                "token_class": row["token_class"],
                "quantity": row["quantity"],
            }
            or payload.get("unit_price_cents") != row["unit_price_cents"]
            or units(payload.get("serials") or []) != row["quantity"]
        ):
            raise disagrees("sell offer", row["entry"])


def _check_redemptions(ctx, tables, portfolio, payables, member_did) -> None:
    for row in tables.get("redemptions", []):
        payload = signed(ctx, row, "impact.token.redeem", "redemption")["payload"]
        portfolio(row["portfolio"], row, "redemption")
        payable = payables.get(row["payable"])
        if (
            payable is None
            or payable["amount_cents"] != row["amount_cents"]
            or row["membership"] not in member_did
            or units(row["serials"]) != row["quantity"]
            or payload
            != {
                "redemption": row["public_id"],
                "portfolio": row["portfolio"],
                "token_class": row["token_class"],
                "quantity": row["quantity"],
                "serials": row["serials"],
                "amount_cents": row["amount_cents"],
                "payable": row["payable"],
            }
        ):
            raise disagrees("redemption", row["entry"])


def _check_redemption_rates(ctx, tables) -> None:
    """A rate's row is the last rate the ledger set for its token class."""
    for row in tables.get("redemption_rates", []):
        payload = signed(ctx, row, "impact.redemption.rate", "redemption rate")["payload"]
        later = [
            tx
            for tx in ctx.bundle.get("transactions", [])
            if tx.get("kind") == "impact.redemption.rate"
            and tx["index"] > row["entry"]
            and tx["payload"].get("token_class") == row["token_class"]
        ]
        if later or payload != {
            "token_class": row["token_class"],
            "cents_per_unit": row["cents_per_unit"],
        }:
            raise disagrees("redemption rate", row["entry"])


def _check_complete(ctx: ImportContext, tables: Tables) -> None:
    """Every impact transaction of these kinds on the chain has its row (a removed row is
    a refusal, not a silent loss); evidence after the others."""
    _check_one_row_each(ctx, tables, ONE_ROW_PER_TX)
    _check_one_row_each(ctx, tables, {EVIDENCE_KIND: "evidence"})


def _check_one_row_each(ctx: ImportContext, tables: Tables, kinds: dict[str, str]) -> None:
    rows = {table: {row["entry"] for row in tables.get(table, [])} for table in kinds.values()}
    for tx in ctx.bundle.get("transactions", []):
        table = kinds.get(tx.get("kind"))
        if table is not None and tx["index"] not in rows[table]:
            raise ImportRefused(
                _("Ledger transaction %(index)s (%(kind)s) has no row in the export's %(table)s.")
                % {"index": tx["index"], "kind": tx["kind"], "table": table}
            )

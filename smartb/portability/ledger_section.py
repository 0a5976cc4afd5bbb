"""The ledger's section: the city's chain (rows rebuilt from the verified bundle, with their
indexes, hashes, blocks, signatures and subtree tiles), the status of its actors, and the
network-chain transactions about the city as evidence.

The bundle itself (`ledger/<chain>.json`, the `ledger.export` format) is written and verified
by `smartb.portability.services`; this section reads it from the import context.

Network-chain transactions (the city's and its chain's creation, its members' DID
registrations and revocations) leave with their signature and an inclusion proof up to the
network's checkpoint, and are verified on the way in; they are NOT written into the new
instance's network chain: that log has its own indexes and Merkle tree, and inserting another
log's entries into it would break every proof of it.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _

from ledger import merkle
from ledger.canonical import UnsafeJson, jcs_stdlib
from ledger.didkey import InvalidDid, public_key_from_did
from ledger.export import chain_actors, transaction_dict
from ledger.models import (
    NETWORK_CHAIN_SLUG,
    Actor,
    Block,
    BlockSignature,
    Chain,
    MerkleNode,
    Transaction,
)
from ledger.receipts import verify_receipt
from ledger.selectors import receipt_for
from ledger.signing import checkpoint_origin

from .errors import ImportRefused
from .registry import ExportContext, ImportContext, Tables, register_section
from .rows import BATCH, insert_rows, moment, require_fields, stamp

KIND_CHAIN_CREATE = "ledger.chain.create"


def export_ledger(ctx: ExportContext) -> Tables:
    chain = ctx.chain
    network = Chain.objects.filter(slug=NETWORK_CHAIN_SLUG).first()
    if network is not None:
        created = Transaction.objects.filter(
            chain=network, kind=KIND_CHAIN_CREATE, payload__chain=chain.slug
        ).values_list("pk", flat=True)
        for pk in created:
            ctx.include_network_entry(pk)
    dids = set(chain_actors(chain)) | ctx.dids
    actors = Actor.objects.filter(did__in=dids).order_by("did")
    evidence = (
        Transaction.objects.filter(pk__in=ctx.network_entries).select_related("chain")
        if network is not None
        else Transaction.objects.none()
    )
    return {
        "chain": [{"slug": chain.slug, "name": chain.name, "created_at": stamp(chain.created_at)}],
        "actors": [
            {
                "did": actor.did,
                "public_key": actor.public_key,
                "active": actor.active,
                "registered_at": stamp(actor.registered_at),
                "deactivated_at": stamp(actor.deactivated_at),
            }
            for actor in actors
        ],
        "network": [
            {**transaction_dict(tx), "receipt": receipt_for(entry=tx)}
            for tx in evidence.order_by("index")
        ],
    }


def check_ledger(ctx: ImportContext, tables: Tables) -> None:
    require_fields(tables.get("chain", []), ("slug", "name", "created_at"), "chain")
    require_fields(tables.get("actors", []), ("did", "public_key", "active"), "actors")
    if [row["slug"] for row in tables.get("chain", [])] != [ctx.bundle["chain"]["slug"]]:
        raise ImportRefused(_("The ledger section describes another chain than the bundle."))
    for actor in tables.get("actors", []):
        try:
            same = public_key_from_did(actor["did"]).hex() == actor["public_key"]
        except InvalidDid:
            same = False
        if not same:
            raise ImportRefused(
                _("The actor %(did)s does not carry its DID's key.") % {"did": actor["did"][:60]}
            )
    trusted = [
        (checkpoint_origin(NETWORK_CHAIN_SLUG), bytes.fromhex(key), did)
        for did, key in ctx.validators.items()
    ]
    for entry in tables.get("network", []):
        _check_network_entry(entry, trusted)


def _check_network_entry(entry: dict, trusted: list[tuple[str, bytes, str]]) -> None:
    """A network transaction holds on its own: its actor's signature over its canonical
    bytes, its hashes, and (once sealed) its inclusion under a trusted network checkpoint."""
    index = entry.get("index") if isinstance(entry, dict) else None
    refused = ImportRefused(
        _("Network transaction %(index)s of the export does not verify.") % {"index": index}
    )
    try:
        body = jcs_stdlib(
            {
                "chain": NETWORK_CHAIN_SLUG,
                "kind": entry["kind"],
                "actor": entry["actor"],
                "payload": entry["payload"],
                "created_at": entry["created_at"],
            }
        )
        signature = bytes.fromhex(entry["signature"])
        key = Ed25519PublicKey.from_public_bytes(public_key_from_did(entry["actor"]))
        key.verify(signature, body)
    except (KeyError, TypeError, ValueError, UnsafeJson, InvalidDid, InvalidSignature) as error:
        raise refused from error
    raw = body + signature
    if hashlib.sha256(raw).hexdigest() != entry.get("tx_hash") or merkle.leaf_hash(
        raw
    ).hex() != entry.get("leaf_hash"):
        raise refused
    receipt = entry.get("receipt")
    if receipt is None:
        return  # not sealed on the origin yet: the signature is all there is to check
    same_entry = isinstance(receipt, dict) and (
        receipt.get("chain") == NETWORK_CHAIN_SLUG
        and receipt.get("tx_hash") == entry["tx_hash"]
        and receipt.get("leaf_hash") == entry["leaf_hash"]
        and receipt.get("leaf_index") == index
    )
    result = verify_receipt(
        receipt, trusted_keys=trusted, origin_prefix=settings.SMARTB_LEDGER_ORIGIN
    )
    if not same_entry or not result.holds:
        raise refused


def import_ledger(ctx: ImportContext, tables: Tables) -> None:
    bundle = ctx.bundle
    transactions = bundle.get("transactions", [])
    blocks = bundle.get("blocks", [])
    meta = tables["chain"][0]
    chain = insert_rows(
        Chain,
        [
            Chain(
                slug=bundle["chain"]["slug"],
                name=bundle["chain"]["name"],
                size=len(transactions),
                sealed_size=blocks[-1]["tree_size"] if blocks else 0,
                block_count=len(blocks),
                head_block_hash=blocks[-1]["block_hash"] if blocks else "",
                created_at=moment(meta["created_at"]),
            )
        ],
    )[0]
    ctx.chain = chain
    _import_actors(bundle, tables.get("actors", []))
    frontier = merkle.Frontier()
    for start in range(0, len(transactions), BATCH):
        rows, nodes = [], []
        for tx in transactions[start : start + BATCH]:
            rows.append(
                Transaction(
                    chain=chain,
                    index=tx["index"],
                    kind=tx["kind"],
                    actor=tx["actor"],
                    payload=tx["payload"],
                    created_at=moment(tx["created_at"]),
                    signature=tx["signature"],
                    tx_hash=tx["tx_hash"],
                    leaf_hash=tx["leaf_hash"],
                )
            )
            # The tiles are derived from the leaves exactly as appends store them.
            for (level, index), node in frontier.append(bytes.fromhex(tx["leaf_hash"])):
                nodes.append(MerkleNode(chain=chain, level=level, index=index, hash=node.hex()))
        Transaction.objects.bulk_create(rows)
        MerkleNode.objects.bulk_create(nodes)
        ctx.entry_pks.update((row.index, row.pk) for row in rows)
    created = Block.objects.bulk_create(
        Block(
            chain=chain,
            height=block["height"],
            prev_hash=block["prev_hash"],
            tree_size=block["tree_size"],
            root=block["root"],
            sealed_at=moment(block["sealed_at"]),
            block_hash=block["block_hash"],
        )
        for block in blocks
    )
    BlockSignature.objects.bulk_create(
        BlockSignature(
            block=row,
            validator=sig["validator"],
            key_name=sig["key_name"],
            header_signature=sig["header_signature"],
            note_signature=sig["note_signature"],
        )
        for row, block in zip(created, blocks, strict=True)
        for sig in block["signatures"]
    )


def _import_actors(bundle: dict, rows: list[dict]) -> None:
    """The chain's actors (and the exported identities'), with their status at the origin.
    An actor this instance knows already stays as it is: a did:key names one key."""
    wanted = {row["did"]: row for row in rows}
    for actor in bundle.get("actors", []):
        wanted.setdefault(actor["did"], {**actor, "active": True})
    known = set(Actor.objects.filter(did__in=wanted).values_list("did", flat=True))
    insert_rows(
        Actor,
        [
            Actor(
                did=did,
                public_key=row["public_key"],
                active=bool(row["active"]),
                registered_at=moment(row.get("registered_at")) or moment(bundle_time(bundle)),
                deactivated_at=moment(row.get("deactivated_at")),
            )
            for did, row in sorted(wanted.items())
            if did not in known
        ],
    )


def bundle_time(bundle: dict) -> str:
    """A registration time for an actor the section did not describe: the chain's first
    transaction (never the import's own time)."""
    transactions = bundle.get("transactions") or []
    return transactions[0]["created_at"] if transactions else "1970-01-01T00:00:00.000000Z"


register_section("ledger", exporter=export_ledger, importer=import_ledger, checker=check_ledger)

"""The server's receipt check: the pure check with the keys this server trusts, plus whether
the transaction is recorded here at that position."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .didkey import public_key_from_did
from .models import BlockSignature
from .receipts import verify_receipt
from .selectors import entry_by_hash
from .signing import platform_validator

CHECK_LABELS = {
    "tree_size": _("The checkpoint is for the receipt's tree size"),
    "origin": _("The checkpoint names the receipt's chain"),
    "inclusion": _("The audit path leads from the transaction's leaf to the checkpoint's root"),
    "signature": _("A validator of the chain signed the checkpoint"),
}


def trusted_checkpoint_keys(chain_slug: str) -> list[tuple[str, bytes, str]]:
    """(key name, public key, validator DID) of every key that sealed blocks of the chain."""
    validator = platform_validator()
    keys = {(f"{settings.SMARTB_LEDGER_ORIGIN}/{chain_slug}", validator.did)}
    keys.update(
        BlockSignature.objects.filter(block__chain__slug=chain_slug)
        .values_list("key_name", "validator")
        .distinct()
    )
    return [(name, public_key_from_did(did), did) for name, did in sorted(keys)]


def receipt_check(receipt) -> dict:
    chain = receipt.get("chain") if isinstance(receipt, dict) else None
    keys = trusted_checkpoint_keys(chain) if isinstance(chain, str) and len(chain) < 65 else []
    result = verify_receipt(receipt, trusted_keys=keys, origin_prefix=settings.SMARTB_LEDGER_ORIGIN)
    recorded = False
    if result.holds:
        entry = entry_by_hash(tx_hash=receipt["tx_hash"])
        recorded = bool(
            entry
            and entry.chain.slug == receipt["chain"]
            and entry.index == receipt["leaf_index"]
            and entry.leaf_hash == receipt["leaf_hash"]
        )
    return {
        "holds": result.holds,
        "reason": result.reason,
        "checks": [
            {"check": name, "label": str(CHECK_LABELS[name]), "ok": ok}
            for name, ok in result.checks
        ],
        "signer": result.signer,
        "recorded_here": recorded,
    }

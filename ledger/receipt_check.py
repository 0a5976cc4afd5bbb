"""The server's receipt check: the pure check with the keys this server trusts, plus whether
the transaction is recorded here at that position."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .didkey import public_key_from_did
from .models import ValidatorChange
from .receipts import verify_receipt
from .selectors import entry_by_hash
from .signing import checkpoint_origin, trusted_validators

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")

CHECK_LABELS = {
    "tree_size": _("The checkpoint is for the receipt's tree size"),
    "origin": _("The checkpoint names the receipt's chain"),
    "inclusion": _("The audit path leads from the transaction's leaf to the checkpoint's root"),
    "signature": _("A validator of the chain signed the checkpoint"),
}


def trusted_checkpoint_keys(chain_slug: str) -> list[tuple[str, bytes, str]]:
    """(key name, public key, validator DID) of every key that sealed blocks of the chain."""
    return all_checkpoint_keys(chain_slugs=[chain_slug]).get(chain_slug, [])


def all_checkpoint_keys(*, chain_slugs: list[str]) -> dict[str, list[tuple[str, bytes, str]]]:
    """The checkpoint keys a receipt may be signed by, per chain: the validators this server
    trusts (from its settings), and the validators each chain's own signed
    `ledger.validators.*` transactions named since (one query), never whatever key happens to
    sit in a block signature."""
    validators = trusted_validators()
    later: dict[str, set[str]] = {}
    rows = ValidatorChange.objects.filter(chain__slug__in=chain_slugs).values_list(
        "chain__slug", "members", "successor"
    )
    for slug, members, successor in rows:
        later.setdefault(slug, set()).update(
            [*(members or []), *([successor] if successor else [])]
        )
    keys = {}
    for slug in chain_slugs:
        dids = dict(validators)
        for did in sorted(later.get(slug, ())):
            dids.setdefault(did, public_key_from_did(did).hex())
        keys[slug] = [
            (checkpoint_origin(slug), bytes.fromhex(key), did) for did, key in dids.items()
        ]
    return keys


def receipt_check(receipt) -> dict:
    chain = receipt.get("chain") if isinstance(receipt, dict) else None
    # Only a slug can name a chain; other text (a NUL byte breaks PostgreSQL) trusts no key.
    is_slug = isinstance(chain, str) and _SLUG.fullmatch(chain) is not None
    keys = trusted_checkpoint_keys(chain) if is_slug else []
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
    failed = next((name for name, ok in result.checks if not ok), None)
    if failed:
        reason = _("This check fails: %(check)s") % {"check": CHECK_LABELS[failed]}
    elif not result.holds:  # the receipt could not be read: say so, with the technical detail
        reason = _("The receipt is malformed: %(detail)s") % {"detail": result.reason}
    else:
        reason = result.reason
    return {
        "holds": result.holds,
        "reason": reason,
        "checks": [
            {"check": name, "label": str(CHECK_LABELS[name]), "ok": ok}
            for name, ok in result.checks
        ],
        "signer": result.signer,
        "recorded_here": recorded,
    }

"""Checking a receipt: does this transaction sit in the log a signed checkpoint commits to?

Standard library and `cryptography` only, so the same check runs on the server, in the
offline verifier, and in tests. A receipt is `{"chain", "tx_hash", "leaf_index", "leaf_hash",
"tree_size", "audit_path", "checkpoint"}` (see DESIGN.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import merkle
from .checkpoint import CheckpointError, key_id, parse_checkpoint, verify_checkpoint

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Each check's code, and the English sentence that says what it means.
CHECKS = {
    "tree_size": "the checkpoint is for the receipt's tree size",
    "origin": "the checkpoint names the receipt's chain",
    "inclusion": "the audit path leads from the leaf to the checkpoint's root",
    "signature": "a trusted validator signed the checkpoint",
}


@dataclass
class ReceiptResult:
    holds: bool
    reason: str
    checks: list[tuple[str, bool]] = field(default_factory=list)
    signer: str | None = None


def _shape_error(receipt) -> str | None:
    if not isinstance(receipt, dict):
        return "a receipt is a JSON object"
    wanted = {
        "chain": str,
        "tx_hash": str,
        "leaf_index": int,
        "leaf_hash": str,
        "tree_size": int,
        "audit_path": list,
        "checkpoint": str,
    }
    for name, kind in wanted.items():
        value = receipt.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"field {name!r} is missing or not a {kind.__name__}"
    for name in ("tx_hash", "leaf_hash"):
        if not _HEX64.match(receipt[name]):
            return f"field {name!r} is not a lowercase hex SHA-256"
    if not all(isinstance(h, str) and _HEX64.match(h) for h in receipt["audit_path"]):
        return "every audit path entry is a lowercase hex SHA-256"
    if len(receipt["audit_path"]) > 64:
        return "the audit path is longer than any tree allows"
    return None


def verify_receipt(
    receipt, *, trusted_keys: list[tuple[str, bytes, str]], origin_prefix: str | None = None
) -> ReceiptResult:
    """Check `receipt` against the checkpoint keys we trust: (key name, public key, label)."""
    shape = _shape_error(receipt)
    if shape:
        return ReceiptResult(False, shape)
    checks: list[tuple[str, bool]] = []
    try:
        checkpoint = parse_checkpoint(receipt["checkpoint"])
    except CheckpointError as error:
        return ReceiptResult(False, f"checkpoint: {error}")
    same_size = checkpoint.tree_size == receipt["tree_size"]
    checks.append(("tree_size", same_size))
    if origin_prefix is not None:
        expected_origin = f"{origin_prefix}/{receipt['chain']}"
        checks.append(("origin", checkpoint.origin == expected_origin))
    included = merkle.verify_inclusion(
        bytes.fromhex(receipt["leaf_hash"]),
        receipt["leaf_index"],
        receipt["tree_size"],
        [bytes.fromhex(h) for h in receipt["audit_path"]],
        checkpoint.root,
    )
    checks.append(("inclusion", included))
    signer = None
    by_id = {(name, key_id(name, key)): (name, key, label) for name, key, label in trusted_keys}
    for note_sig in checkpoint.signatures:
        candidate = by_id.get((note_sig.name, note_sig.key_id))
        if candidate is None:
            continue
        try:
            verify_checkpoint(receipt["checkpoint"], name=candidate[0], public_key=candidate[1])
        except CheckpointError:
            continue
        signer = candidate[2]
        break
    checks.append(("signature", signer is not None))
    failed = [name for name, ok in checks if not ok]
    if failed:
        return ReceiptResult(False, CHECKS[failed[0]], checks, signer)
    return ReceiptResult(True, "ok", checks, signer)

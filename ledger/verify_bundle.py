"""Check an exported ledger bundle offline: `python -m ledger.verify_bundle FILE`.

Runs with the standard library and `cryptography` only: no Django, no database. Exits 0 when
every signature, hash, Merkle root, block link and checkpoint signature holds; otherwise
exits 1 naming the first bad block height or transaction index and the reason.
"""

from __future__ import annotations

import argparse
import json
import sys

from .didkey import public_key_from_did
from .verification import ChainVerifier, VerificationFailed, default_workers, verify_stream

BUNDLE_FORMAT = "smartb-ledger-bundle/1"


def verify_bundle(
    bundle: dict, *, trusted: list[str] | None = None, workers: int | None = None
) -> ChainVerifier:
    """Verify a parsed bundle; raises VerificationFailed or ValueError.

    `trusted`: validator DIDs the reader trusts (e.g. published by the city). Without it the
    bundle's own validator list is used, and the caller should show whose keys those are.
    """
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"not a {BUNDLE_FORMAT} file")
    chain = bundle["chain"]
    actors = {a["did"]: a["public_key"] for a in bundle.get("actors", [])}
    validators = {v["did"]: v["public_key"] for v in bundle.get("validators", [])}
    if trusted is not None:
        validators = {did: public_key_from_did(did).hex() for did in trusted}
    transactions = bundle.get("transactions", [])
    verifier = ChainVerifier(
        slug=chain["slug"],
        origin=chain["origin"],
        known_actors=actors,
        workers=default_workers(len(transactions)) if workers is None else workers,
    )
    verify_stream(verifier, transactions, bundle.get("blocks", []), validators=validators)
    return verifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.verify_bundle", description=__doc__)
    parser.add_argument("file", help="a bundle written by `manage.py ledger_export`")
    parser.add_argument(
        "--validator",
        action="append",
        metavar="DID",
        help="a validator DID you trust (repeatable); default: the bundle's own list",
    )
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            bundle = json.load(handle)
        verifier = verify_bundle(bundle, trusted=args.validator)
    except VerificationFailed as error:
        print(f"FAILED {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"FAILED unreadable bundle: {error!r}", file=sys.stderr)
        return 1
    print(
        f"OK {bundle['chain']['slug']}: {verifier.transactions} transactions, "
        f"{verifier.blocks} blocks, root {verifier.tree.root().hex()}"
    )
    if not args.validator:
        for validator in bundle.get("validators", []):
            print(f"  sealed by {validator['did']} (compare with the DID the city publishes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
from .quorum import InvalidValidatorSet, ValidatorSet, check_set
from .verification import ChainVerifier, VerificationFailed, default_workers, verify_stream

BUNDLE_FORMAT = "smartb-ledger-bundle/1"


def verify_bundle(
    bundle: dict,
    *,
    trusted: list[str] | None = None,
    workers: int | None = None,
    require_final: bool = False,
) -> ChainVerifier:
    """Verify a parsed bundle; raises VerificationFailed or ValueError.

    `trusted`: the chain's first validator set as the reader knows it (e.g. published by the
    city), quorum 1. Without it the bundle's own `validator_genesis` is used (or, in bundles
    written before quorums, its validator list), and the caller should show whose keys those
    are. Later sets are rebuilt from the chain's own transactions; every block needs a quorum
    of the set in force at its height, except blocks marked awaiting signatures (listed in
    `verifier.awaiting`), unless `require_final`.
    """
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"not a {BUNDLE_FORMAT} file")
    chain = bundle["chain"]
    actors = {a["did"]: a["public_key"] for a in bundle.get("actors", [])}
    validators = {v["did"]: v["public_key"] for v in bundle.get("validators", [])}
    if trusted is not None:
        for did in trusted:
            public_key_from_did(did)
        genesis = ValidatorSet(tuple(trusted), 1)
        validators = None  # later members come from the chain; each did:key holds its key
    elif isinstance(bundle.get("validator_genesis"), dict):
        recorded = bundle["validator_genesis"]
        try:
            genesis = check_set(recorded.get("members"), recorded.get("quorum"))
        except InvalidValidatorSet as error:
            raise ValueError(f"validator_genesis: {error}") from error
    else:
        genesis = ValidatorSet(tuple(sorted(validators)), 1)
    transactions = bundle.get("transactions", [])
    verifier = ChainVerifier(
        slug=chain["slug"],
        origin=chain["origin"],
        known_actors=actors,
        workers=default_workers(len(transactions)) if workers is None else workers,
        genesis=genesis,
        require_final=require_final,
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
        help="a first-set validator DID you trust (repeatable); default: the bundle's own",
    )
    parser.add_argument(
        "--require-final",
        action="store_true",
        help="fail on blocks still awaiting a quorum of signatures (default: list them)",
    )
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            bundle = json.load(handle)
        verifier = verify_bundle(bundle, trusted=args.validator, require_final=args.require_final)
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
    if verifier.awaiting:
        heights = ", ".join(str(h) for h in verifier.awaiting)
        print(f"  not final yet (short of the validators' quorum): block heights {heights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

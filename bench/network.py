"""Network benchmark: validator quorums, against the raw Ed25519 limits of the same run.

Run from the repository root:

    .venv/bin/python bench/network.py            # 1,000,000-transaction chain (minutes)
    .venv/bin/python bench/network.py --quick    # 100,000 transactions

Prints, each with its ratio to raw `cryptography` Ed25519 measured in the same run:

1. blocks sealed per second with a 3-of-4 quorum (`chain_seal` on a fresh SQLite database:
   the platform validator and three custodial validators sign every header and checkpoint
   note, 8 signatures a block), beside the same with the genesis set (1 of 1);
2. offline verification with quorum checks of a synthetic chain (one `ledger.validators.set`
   making 3 of 4 validators the set from height 1, then blocks of 1,000 transactions, each
   signed by 3 of the 4): the same `ChainVerifier` and `verify_stream` that
   `python -m ledger.verify_bundle` runs, fed from a JSON-lines file on disk;
3. the witnesses' round trip, when `bench/network_witness.py` exists.

Nothing here asserts on time. Progress goes to stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from bench._common import log, raw_ed25519, setup_django  # noqa: E402

SIZES = {  # (full, quick)
    "seal_blocks": (200, 100),
    "tx_per_block_sealed": (10, 10),
    "verify_transactions": (1_000_000, 100_000),
    "verify_block_size": (1_000, 1_000),
}


def size(name: str, quick: bool) -> int:
    return SIZES[name][1 if quick else 0]


# ---------------------------------------------------------------------------------------------
# 1. Sealing with a 3-of-4 quorum
# ---------------------------------------------------------------------------------------------


def bench_seal(quick: bool, workdir: Path) -> dict:
    setup_django(f"sqlite:///{workdir / 'network.sqlite3'}")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger import signing
    from ledger.services import actor_register, chain_create, chain_seal, ledger_append_many
    from ledger.signing import KeySigner, platform_validator
    from ledger.validators import validator_set_schedule

    custodial = [KeySigner(Ed25519PrivateKey.generate()) for _ in range(3)]
    by_did = {signer.did: signer for signer in custodial}
    # As identity's resolver does for custodial Identities (which decrypt their key first).
    signing.register_custodial_resolver(lambda dids: {d: by_did[d] for d in dids if d in by_did})
    actor = KeySigner(Ed25519PrivateKey.generate())
    actor_register(did=actor.did)
    per_block = size("tx_per_block_sealed", quick)
    blocks = size("seal_blocks", quick)

    def run(slug: str, members: list[str] | None) -> dict:
        chain = chain_create(slug=slug, name=slug)
        if members:
            validator_set_schedule(chain=chain, members=members, quorum=3, actor=actor)
        chain_seal(chain=chain)  # height 0 (the change, under the genesis set)
        seconds, final = 0.0, 0
        for n in range(blocks):
            entries = [(actor, "bench.thing.record", {"n": n, "i": i}) for i in range(per_block)]
            ledger_append_many(chain=chain, entries=entries)
            start = time.perf_counter()
            block = chain_seal(chain=chain)
            seconds += time.perf_counter() - start
            final += block.final_at is not None
        signatures = block.signatures.count()
        log(f"sealed {blocks} blocks on {slug}: {blocks / seconds:.0f} /s, {final} final")
        return {
            "blocks": blocks,
            "blocks_per_s": blocks / seconds,
            "ms_per_block": seconds / blocks * 1000,
            "final": final,
            "signatures_per_block": signatures,
        }

    members = [platform_validator().did, *by_did]
    return {"quorum_3_of_4": run("bench-quorum", members), "genesis_1_of_1": run("bench-one", None)}


# ---------------------------------------------------------------------------------------------
# 2. Offline verification of a 1,000,000-transaction chain with quorum checks
# ---------------------------------------------------------------------------------------------


def write_synthetic_chain(path: Path, count: int, block_size: int) -> tuple[list[dict], dict]:
    """Sign `count` transactions into `path` (JSON lines) and return the blocks and the
    genesis set. Standard library and `cryptography` only, like the offline verifier."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from ledger import merkle
    from ledger.canonical import jcs_stdlib
    from ledger.checkpoint import key_id, note_body
    from ledger.didkey import did_from_public_key
    from ledger.quorum import SET_KIND
    from ledger.verification import GENESIS_PREV_HASH

    def keypair():
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return key, raw, did_from_public_key(raw)

    slug, origin = "bench-offline", "bench.example/ledger/bench-offline"
    actor_key, _, actor_did = keypair()
    validators = [keypair() for _ in range(4)]
    genesis = validators[0]
    created_at = "2026-11-25T10:00:00.000000Z"
    tree = merkle.Frontier()
    blocks: list[dict] = []
    prev_hash = GENESIS_PREV_HASH
    members = [did for _, _, did in validators]

    def seal(height: int, signers) -> None:
        nonlocal prev_hash
        root = tree.root().hex()
        header = {
            "chain": slug,
            "height": height,
            "prev_hash": prev_hash,
            "tree_size": tree.size,
            "root": root,
            "sealed_at": created_at,
        }
        header_bytes = jcs_stdlib(header)
        note = note_body(origin, tree.size, bytes.fromhex(root)).encode()
        signatures = [
            {
                "validator": did,
                "key_name": origin,
                "header_signature": key.sign(header_bytes).hex(),
                "note_signature": base64.b64encode(key_id(origin, raw) + key.sign(note)).decode(),
            }
            for key, raw, did in signers
        ]
        block_hash = hashlib.sha256(header_bytes).hexdigest()
        blocks.append({**header, "block_hash": block_hash, "final": True, "signatures": signatures})
        prev_hash = block_hash

    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            if index == 0:
                kind = SET_KIND
                payload = {"members": members, "quorum": 3, "effective_height": 1}
            else:
                kind, payload = "bench.thing.record", {"n": index}
            fields = {
                "chain": slug,
                "kind": kind,
                "actor": actor_did,
                "payload": payload,
                "created_at": created_at,
            }
            body = jcs_stdlib(fields)
            signature = actor_key.sign(body)
            raw = body + signature
            leaf = merkle.leaf_hash(raw)
            tree.append(leaf)
            tx = {
                "index": index,
                "kind": kind,
                "actor": actor_did,
                "payload": payload,
                "created_at": created_at,
                "signature": signature.hex(),
                "tx_hash": hashlib.sha256(raw).hexdigest(),
                "leaf_hash": leaf.hex(),
            }
            out.write(json.dumps(tx) + "\n")
            if tree.size % block_size == 0 or tree.size == count:
                height = len(blocks)
                seal(height, [genesis] if height == 0 else validators[:3])
            if index and index % 100_000 == 0:
                log(f"  signed {index:,} transactions")
    return blocks, {"slug": slug, "origin": origin, "genesis": genesis[2], "actor": actor_did}


def bench_verify(quick: bool, workdir: Path) -> dict:
    from ledger.quorum import ValidatorSet
    from ledger.verification import ChainVerifier, default_workers, verify_stream

    count = size("verify_transactions", quick)
    path = workdir / "chain.jsonl"
    log(f"writing a synthetic chain of {count:,} signed transactions")
    start = time.perf_counter()
    blocks, meta = write_synthetic_chain(path, count, size("verify_block_size", quick))
    written = time.perf_counter() - start
    log(f"written in {written:.0f} s ({count / written:,.0f} tx/s); verifying")

    def transactions():
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)

    workers = default_workers(count)
    verifier = ChainVerifier(
        slug=meta["slug"],
        origin=meta["origin"],
        known_actors=None,
        workers=workers,
        genesis=ValidatorSet((meta["genesis"],), 1),
        require_final=True,
    )
    start = time.perf_counter()
    verify_stream(verifier, transactions(), blocks)
    seconds = time.perf_counter() - start
    block_signatures = sum(len(b["signatures"]) for b in blocks)
    log(
        f"verified {verifier.transactions:,} transactions, {verifier.blocks} blocks "
        f"in {seconds:.1f} s"
    )
    return {
        "transactions": verifier.transactions,
        "blocks": verifier.blocks,
        "block_signatures": block_signatures,
        "workers": workers,
        "seconds": seconds,
        "tx_per_s": verifier.transactions / seconds,
        "generation_tx_per_s": count / written,
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 transactions, fewer blocks")
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    raw = raw_ed25519(2.0)
    with tempfile.TemporaryDirectory(prefix="smartb-network-") as tmp:
        workdir = Path(tmp)
        seal = bench_seal(args.quick, workdir)
        verify = bench_verify(args.quick, workdir)
        witness = run_witness(args.quick)
    again = raw_ed25519(2.0)
    load.append(os.getloadavg()[0])
    sign = max(raw["sign_per_s"], again["sign_per_s"])
    check = max(raw["verify_per_s"], again["verify_per_s"])

    print(f"\nSMART B network benchmark ({'quick' if args.quick else 'full'} run)")
    print(f"load average {load[0]:.1f} -> {load[1]:.1f}, {os.cpu_count()} cores")
    print(f"raw Ed25519: {sign:,.0f} signatures/s, {check:,.0f} verifications/s\n")
    print("| figure | rate | ratio to raw (same run) |")
    print("|---|---:|---|")
    for label, figures in (
        ("seal, 3-of-4 quorum (8 signatures a block)", seal["quorum_3_of_4"]),
        ("seal, genesis set 1-of-1 (2 signatures a block)", seal["genesis_1_of_1"]),
    ):
        per_block = figures["signatures_per_block"] * 2  # header and checkpoint note
        ratio = figures["blocks_per_s"] * per_block / sign
        print(
            f"| {label} | {figures['blocks_per_s']:,.0f} blocks/s "
            f"({figures['ms_per_block']:.1f} ms; {figures['final']}/{figures['blocks']} final) "
            f"| {ratio:.1%} of raw signing, counting its {per_block} signatures |"
        )
    print(
        f"| offline verification with quorum checks, {verify['transactions']:,} tx, "
        f"{verify['blocks']:,} blocks ({verify['block_signatures']:,} validator signatures), "
        f"{verify['workers']} worker processes | {verify['tx_per_s']:,.0f} tx/s "
        f"({verify['seconds']:.1f} s) | {verify['tx_per_s'] / check:.1%} of raw verification |"
    )
    print(f"\n(synthetic chain written at {verify['generation_tx_per_s']:,.0f} tx/s)")
    if witness is None:
        print("bench/network_witness.py not found: witness round trip skipped")
    return 0


def run_witness(quick: bool):
    """The witnesses' round trip (bench/network_witness.py), on this run's database."""
    try:
        from bench.network_witness import main as witness_main
    except ImportError:
        return None
    log("witness round trip (bench/network_witness.py)")
    return witness_main(["--quick"] if quick else [])


if __name__ == "__main__":
    sys.exit(main())

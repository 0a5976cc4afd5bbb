"""`manage.py ledger_export` and `python -m ledger.verify_bundle`: checked offline, no Django."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ledger.canonical import jcs_stdlib
from ledger.checkpoint import note_body, signature_line
from ledger.export import BUNDLE_FORMAT
from ledger.signing import checkpoint_origin, platform_validator
from ledger.timefmt import format_timestamp, parse_timestamp
from ledger.verification import VerificationFailed
from ledger.verify_bundle import verify_bundle
from tests.ledger.helpers import memory_tree

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def environment(**extra) -> dict[str, str]:
    """The environment of a shell on a machine with no Django project configured."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    env.update(extra)
    return env


def run_verifier(path: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify_bundle", str(path)],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def bundle_path(sealed_chain, tmp_path) -> Path:
    path = tmp_path / "bundle.json"
    out = StringIO()
    call_command("ledger_export", "--chain", sealed_chain.slug, "-o", str(path), stdout=out)
    assert "12 transactions, 2 blocks" in out.getvalue()
    return path


def edited(path: Path, edit) -> Path:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    edit(bundle)
    target = path.with_name("edited.json")
    target.write_text(json.dumps(bundle), encoding="utf-8")
    return target


def test_the_bundle_is_self_contained(bundle_path, sealed_chain):
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    assert bundle["format"] == BUNDLE_FORMAT
    assert bundle["chain"] == {
        "slug": sealed_chain.slug,
        "name": sealed_chain.name,
        "origin": checkpoint_origin(sealed_chain.slug),
    }
    assert [tx["index"] for tx in bundle["transactions"]] == list(range(12))
    assert [b["height"] for b in bundle["blocks"]] == [0, 1]
    assert len(bundle["actors"]) == 1
    validator = platform_validator()
    assert bundle["validators"] == [
        {"did": validator.did, "public_key": validator.public_key.hex()}
    ]


def test_a_good_bundle_verifies_offline(bundle_path, sealed_chain):
    result = run_verifier(bundle_path)
    assert result.returncode == 0, result.stderr
    root = memory_tree(sealed_chain).root(12).hex()
    first, *rest = result.stdout.strip().splitlines()
    assert first == f"OK {sealed_chain.slug}: 12 transactions, 2 blocks, root {root}"
    assert rest == [
        f"  sealed by {platform_validator().did} (compare with the DID the city publishes)"
    ]


def test_the_verifier_runs_where_django_cannot_be_imported(bundle_path, tmp_path):
    blocker = tmp_path / "no-django"
    (blocker / "django").mkdir(parents=True)
    (blocker / "django" / "__init__.py").write_text("raise ImportError('no Django here')\n")
    result = run_verifier(bundle_path, PYTHONPATH=str(blocker))
    assert result.returncode == 0, result.stderr


def test_importing_the_verifier_does_not_import_django():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ledger.verify_bundle; assert 'django' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith('django'))",
        ],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def one_microsecond_later(timestamp: str) -> str:
    moment = parse_timestamp(timestamp) + timedelta(microseconds=1)
    return format_timestamp(moment)


def _set(bundle, section, position, field, value):
    bundle[section][position][field] = value


EDITS = {
    "tx-payload": (
        lambda b: _set(b, "transactions", 3, "payload", {"n": 4, "ref": "ref-3"}),
        r"transaction index 3\b",
    ),
    "tx-kind": (
        lambda b: _set(b, "transactions", 3, "kind", "test.thing.other"),
        r"transaction index 3\b",
    ),
    "tx-created-at": (
        lambda b: _set(
            b,
            "transactions",
            3,
            "created_at",
            one_microsecond_later(b["transactions"][3]["created_at"]),
        ),
        r"transaction index 3\b",
    ),
    "tx-leaf-hash": (
        lambda b: _set(b, "transactions", 3, "leaf_hash", "0" * 64),
        r"transaction index 3\b",
    ),
    "tx-signature": (
        lambda b: _set(b, "transactions", 3, "signature", "00" * 64),
        r"transaction index 3\b",
    ),
    "tx-removed": (lambda b: b["transactions"].pop(3), r"transaction index 4\b"),
    "tx-reordered": (
        lambda b: b["transactions"].insert(2, b["transactions"].pop(3)),
        r"transaction index 3\b",
    ),
    "block-root": (lambda b: _set(b, "blocks", 1, "root", "ab" * 32), r"block height 1\b"),
    "block-prev-hash": (lambda b: _set(b, "blocks", 1, "prev_hash", "0" * 64), r"block height 1\b"),
    "block-tree-size": (lambda b: _set(b, "blocks", 0, "tree_size", 4), r"block height 0\b"),
    "block-sealed-at": (
        lambda b: _set(b, "blocks", 0, "sealed_at", "2000-01-01T00:00:00.000000Z"),
        r"block height 0\b",
    ),
    "block-signature": (
        lambda b: b["blocks"][1]["signatures"][0].update(header_signature="00" * 64),
        r"block height 1\b",
    ),
    "block-unsigned": (lambda b: _set(b, "blocks", 1, "signatures", []), r"block height 1\b"),
    "actor-key": (lambda b: b["actors"][0].update(public_key="00" * 32), r"transaction index 0\b"),
    "validator-key": (
        lambda b: b["validators"][0].update(public_key="00" * 32),
        r"block height 0\b",
    ),
}


def resealed(bundle: dict, height: int, **header) -> None:
    """Change a block's header and sign it again with the validator's key, as someone holding
    that key would: only the link to the previous block can then give it away."""
    block = bundle["blocks"][height]
    block.update(header)
    slug, validator = bundle["chain"]["slug"], platform_validator()
    header_bytes = jcs_stdlib(
        {
            "chain": slug,
            **{k: block[k] for k in ("height", "prev_hash", "tree_size", "root", "sealed_at")},
        }
    )
    block["block_hash"] = hashlib.sha256(header_bytes).hexdigest()
    note = note_body(bundle["chain"]["origin"], block["tree_size"], bytes.fromhex(block["root"]))
    line = signature_line(
        bundle["chain"]["origin"], validator.public_key, validator.sign(note.encode())
    )
    block["signatures"] = [
        {
            "validator": validator.did,
            "key_name": bundle["chain"]["origin"],
            "header_signature": validator.sign(header_bytes).hex(),
            "note_signature": line.rstrip("\n").rsplit(" ", 1)[1],
        }
    ]


def test_a_block_resealed_after_its_header_changed_still_verifies_when_nothing_else_did(
    bundle_path,
):
    result = run_verifier(edited(bundle_path, lambda b: resealed(b, 1)))
    assert result.returncode == 0, result.stderr


def test_a_resealed_block_that_breaks_the_link_fails(bundle_path):
    result = run_verifier(edited(bundle_path, lambda b: resealed(b, 1, prev_hash="ab" * 32)))
    assert result.returncode == 1
    assert re.search(r"block height 1\b.*does not link", result.stderr), result.stderr


def test_a_resealed_first_block_breaks_the_link_of_the_next(bundle_path):
    moved = "2001-01-01T00:00:00.000000Z"
    result = run_verifier(edited(bundle_path, lambda b: resealed(b, 0, sealed_at=moved)))
    assert result.returncode == 1
    assert re.search(r"block height 1\b.*does not link", result.stderr), result.stderr


@pytest.mark.parametrize("name", EDITS)
def test_an_edited_bundle_fails_naming_where(bundle_path, name):
    edit, where = EDITS[name]
    result = run_verifier(edited(bundle_path, edit))
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED ")
    assert re.search(where, result.stderr), result.stderr


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"format": "something-else/1"}', json.dumps({"format": BUNDLE_FORMAT})],
)
def test_an_unreadable_bundle_fails_cleanly(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run_verifier(path)
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED")
    assert "Traceback" not in result.stderr


def test_a_missing_file_fails_cleanly(tmp_path):
    result = run_verifier(tmp_path / "absent.json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_the_in_process_verifier_agrees(bundle_path):
    verifier = verify_bundle(json.loads(bundle_path.read_text(encoding="utf-8")))
    assert (verifier.transactions, verifier.blocks) == (12, 2)


def test_exporting_an_unknown_chain_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="atlantis"):
        call_command("ledger_export", "--chain", "atlantis", "-o", str(tmp_path / "x.json"))


def test_a_reader_can_pin_the_validators_they_trust(bundle_path):
    bundle = json.loads(bundle_path.read_text())
    platform = platform_validator().did
    assert verify_bundle(bundle, trusted=[platform]).blocks == 2
    stranger = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    with pytest.raises(VerificationFailed, match="block height 0: .* not a validator"):
        verify_bundle(bundle, trusted=[stranger])

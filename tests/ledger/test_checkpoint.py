"""C2SP tlog-checkpoint signed notes: format, key ids, parsing, verification, and a block's note."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import (
    CheckpointError,
    checkpoint_text,
    key_id,
    note_body,
    parse_checkpoint,
    signature_line,
    verify_checkpoint,
)
from ledger.selectors import block_checkpoint
from ledger.services import chain_seal
from ledger.signing import KeySigner, checkpoint_origin, platform_validator
from tests.ledger.helpers import append_many, memory_tree

ORIGIN = "smartb.example/ledger/lyon"
ROOT = hashlib.sha256(b"a root").digest()


@pytest.fixture
def key() -> KeySigner:
    return KeySigner(Ed25519PrivateKey.generate())


def signed_note(key: KeySigner, *, origin=ORIGIN, size=12, root=ROOT, name=ORIGIN) -> str:
    body = note_body(origin, size, root)
    return checkpoint_text(body, [signature_line(name, key.public_key, key.sign(body.encode()))])


def test_the_note_has_the_c2sp_layout(key):
    text = signed_note(key)
    lines = text.split("\n")
    assert lines[:4] == [ORIGIN, "12", base64.b64encode(ROOT).decode(), ""]
    assert lines[4].startswith("\u2014 " + ORIGIN + " ")
    assert text.endswith("\n")
    blob = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64
    assert blob[:4] == key_id(ORIGIN, key.public_key)


def test_the_key_id_is_the_c2sp_ed25519_key_hash(key):
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + key.public_key).digest()[:4]
    assert key_id(ORIGIN, key.public_key) == expected


def test_a_signed_note_parses_and_verifies(key):
    checkpoint = verify_checkpoint(signed_note(key), name=ORIGIN, public_key=key.public_key)
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root) == (ORIGIN, 12, ROOT)
    assert checkpoint.body == note_body(ORIGIN, 12, ROOT)
    (signature,) = checkpoint.signatures
    assert signature.name == ORIGIN


def test_a_cosigned_note_verifies_for_each_signer(key):
    witness = KeySigner(Ed25519PrivateKey.generate())
    body = note_body(ORIGIN, 3, ROOT)
    text = checkpoint_text(
        body,
        [
            signature_line(ORIGIN, key.public_key, key.sign(body.encode())),
            signature_line("witness.example", witness.public_key, witness.sign(body.encode())),
        ],
    )
    verify_checkpoint(text, name=ORIGIN, public_key=key.public_key)
    verify_checkpoint(text, name="witness.example", public_key=witness.public_key)


def test_a_note_signed_by_another_key_does_not_verify(key):
    other = KeySigner(Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match="no signature"):
        verify_checkpoint(signed_note(other), name=ORIGIN, public_key=key.public_key)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda t: t.replace("\n12\n", "\n13\n"), id="tree-size"),
        pytest.param(lambda t: t.replace(ORIGIN + "\n", "evil.example/log\n", 1), id="origin"),
        pytest.param(
            lambda t: t.replace(
                base64.b64encode(ROOT).decode(),
                base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
            ),
            id="root",
        ),
    ],
)
def test_a_note_whose_body_changed_does_not_verify(key, edit):
    text = edit(signed_note(key))
    with pytest.raises(CheckpointError):
        verify_checkpoint(text, name=ORIGIN, public_key=key.public_key)


def test_a_note_whose_signature_changed_does_not_verify(key):
    text = signed_note(key)
    head, blob = text.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    tampered = f"{head} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(tampered, name=ORIGIN, public_key=key.public_key)


GOOD_ROOT = base64.b64encode(ROOT).decode()
GOOD_SIG = "\u2014 name " + base64.b64encode(bytes(68)).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no blank line",
        f"{ORIGIN}\n12\n\n{GOOD_SIG}\n",
        f"\n12\n{GOOD_ROOT}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n012\n{GOOD_ROOT}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n-1\n{GOOD_ROOT}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n\u00b2\n{GOOD_ROOT}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n\u0661\u0662\n{GOOD_ROOT}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n12\nnot base64!\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n12\n{base64.b64encode(b'short').decode()}\n\n{GOOD_SIG}\n",
        f"{ORIGIN}\n12\n{GOOD_ROOT}\n\n",
        f"{ORIGIN}\n12\n{GOOD_ROOT}\n\n- name AAAAAAAA\n",
        f"{ORIGIN}\n12\n{GOOD_ROOT}\n\n\u2014 name n\u00f6t-base64\n",
        f"{ORIGIN}\n12\n{GOOD_ROOT}\n\n\u2014 name AAAA\n",
        f"{ORIGIN}\n12\n{GOOD_ROOT}\n\n\u2014 AAAAAAAA\n",
        None,
        12,
    ],
)
def test_a_malformed_note_is_refused_with_a_checkpoint_error(text):
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_an_empty_tree_has_a_checkpoint(key):
    assert parse_checkpoint(signed_note(key, size=0)).tree_size == 0


@pytest.mark.django_db
def test_a_block_checkpoint_is_signed_by_the_platform_validator(chain, signer):
    append_many(chain, signer, 6)
    block = chain_seal(chain=chain)
    text = block_checkpoint(block=block)
    validator = platform_validator()
    checkpoint = verify_checkpoint(
        text, name=checkpoint_origin(chain.slug), public_key=validator.public_key
    )
    assert checkpoint.origin == checkpoint_origin(chain.slug)
    assert checkpoint.tree_size == 6
    assert checkpoint.root == memory_tree(chain).root(6)

"""C2SP checkpoints (`ledger.checkpoint`) and receipts (`ledger.receipts`), as a stranger
hands them to the verifier: any text parses or is refused with `CheckpointError`, any JSON is
answered (never an exception), what is rendered parses back to itself, and a signed note or
a receipt altered in one byte no longer verifies."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from identity.crypto import public_key_raw
from ledger import merkle
from ledger.checkpoint import (
    CheckpointError,
    checkpoint_text,
    note_body,
    parse_checkpoint,
    signature_line,
    verify_checkpoint,
)
from ledger.receipts import verify_receipt

from .support import BOUNDED, mutate, mutations

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = public_key_raw(KEY)
ORIGIN = "smartb.example/ledger/bourg"

# Text fields of a note: no newline (a line each), not empty.
line_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1
)
key_names = st.from_regex(r"[a-z0-9.\-/]{1,30}", fullmatch=True)
roots = st.binary(min_size=32, max_size=32)
sizes = st.integers(min_value=0, max_value=2**63)


def signed(body: str, *, name: str = ORIGIN, key=KEY) -> str:
    return checkpoint_text(
        body, [signature_line(name, public_key_raw(key), key.sign(body.encode()))]
    )


@BOUNDED
@given(text=st.one_of(st.text(), st.builds(lambda b: signed(b), st.text())))
def test_any_text_parses_or_is_refused_with_a_checkpoint_error(text):
    with contextlib.suppress(CheckpointError):
        parse_checkpoint(text)


@BOUNDED
@given(
    origin=line_text,
    size=sizes,
    root=roots,
    extensions=st.lists(line_text, max_size=3),
    name=key_names,
)
def test_a_rendered_checkpoint_parses_back_to_itself(origin, size, root, extensions, name):
    body = note_body(origin, size, root, tuple(extensions))
    text = signed(body, name=name)

    checkpoint = parse_checkpoint(text)

    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root) == (origin, size, root)
    assert checkpoint.extensions == tuple(extensions)
    assert checkpoint.body == body
    assert verify_checkpoint(text, name=name, public_key=PUBLIC) == checkpoint


BODY = note_body(ORIGIN, 12, hashlib.sha256(b"root").digest())
CHECKPOINT = signed(BODY)
ROOT_LINE = BODY.split("\n")[2]
# The root's last base64 digit before "=": 4 bits of the root and 2 padding bits.
PADDED_DIGIT = BODY.index(ROOT_LINE) + len(ROOT_LINE) - 2


def _verifies(text: str) -> bool:
    try:
        verify_checkpoint(text, name=ORIGIN, public_key=PUBLIC)
    except CheckpointError:
        return False
    return True


SIGNATURE_LINE = CHECKPOINT.split("\n")[4]
# Last base64 digits before "=", whose low bits are padding: the root's and the signature's
# (positions in the text: the signature line starts with a multi-byte em dash).
PADDED_DIGITS = {PADDED_DIGIT, len(CHECKPOINT) - 3}


@BOUNDED
@given(change=mutations(CHECKPOINT.encode()))
def test_a_checkpoint_altered_in_one_byte_never_verifies(change):
    """Any byte: the signed text and the signature line (base64 digits included: only the
    canonical spelling parses)."""
    try:
        text = mutate(CHECKPOINT.encode(), *change).decode()
    except UnicodeDecodeError:
        return  # not text any more: no note
    assert not _verifies(text)


def _twin(text: str, position: int) -> str:
    """`text` whose base64 digit at `position` is changed in its padding bit only."""
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = digits[digits.index(text[position]) ^ 1]
    return text[:position] + twin + text[position + 1 :]


@pytest.mark.parametrize("position", sorted(PADDED_DIGITS), ids=["root", "signature"])
def test_a_checkpoint_in_non_canonical_base64_does_not_verify(position):
    altered = _twin(CHECKPOINT, position)
    assert altered != CHECKPOINT
    assert not _verifies(altered)


@BOUNDED
@given(change=mutations(BODY.encode()))
def test_a_checkpoint_whose_signed_text_is_altered_never_verifies(change):
    """Every byte the signature covers: origin, size and root lines."""
    try:
        text = mutate(CHECKPOINT.encode(), *change).decode()
    except UnicodeDecodeError:
        return  # not text any more: no note
    assert not _verifies(text)


# --- receipts ---------------------------------------------------------------------------------


def _tree(leaves: list[bytes]):
    """A `merkle.Fetch` over in-memory leaves: the hash of every aligned subtree asked."""

    def subtree(level: int, index: int) -> bytes:
        if level == 0:
            return merkle.leaf_hash(leaves[index])
        return merkle.node_hash(subtree(level - 1, 2 * index), subtree(level - 1, 2 * index + 1))

    return lambda keys: {key: subtree(*key) for key in keys}


def receipt_make(leaves: list[bytes], index: int, key=KEY) -> dict:
    size = len(leaves)
    fetch = _tree(leaves)
    root = merkle.root(size, fetch)
    return {
        "chain": "bourg",
        "tx_hash": hashlib.sha256(leaves[index]).hexdigest(),
        "leaf_index": index,
        "leaf_hash": merkle.leaf_hash(leaves[index]).hex(),
        "tree_size": size,
        "audit_path": [h.hex() for h in merkle.inclusion_proof(index, size, fetch)],
        "checkpoint": signed(note_body(ORIGIN, size, root), key=key),
    }


TRUSTED = [(ORIGIN, PUBLIC, "did:key:validator")]


def verify(receipt):
    return verify_receipt(receipt, trusted_keys=TRUSTED, origin_prefix="smartb.example/ledger")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
RECEIPT = receipt_make([bytes([n]) * 3 for n in range(11)], 6)


@BOUNDED
@given(
    receipt=st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(sorted(RECEIPT)), json_values),
        st.builds(
            lambda field, value: {**RECEIPT, field: value},
            st.sampled_from(sorted(RECEIPT)),
            json_values,
        ),
    )
)
def test_any_json_gets_an_answer_never_an_exception(receipt):
    result = verify(receipt)
    assert result.holds is False
    assert isinstance(result.reason, str) and result.reason


@BOUNDED
@given(
    leaves=st.lists(st.binary(max_size=8), min_size=1, max_size=40),
    data=st.data(),
)
def test_a_receipt_of_any_leaf_of_any_tree_holds(leaves, data):
    index = data.draw(st.integers(min_value=0, max_value=len(leaves) - 1))
    receipt = receipt_make(leaves, index)
    result = verify(receipt)
    assert result.holds, result
    assert result.signer == "did:key:validator"
    assert json.loads(json.dumps(receipt)) == receipt  # what a voter keeps is plain JSON


def _flip_hex(value: str, position: int) -> str:
    digit = "0123456789abcdef"
    return value[:position] + digit[(digit.index(value[position]) + 1) % 16] + value[position + 1 :]


@BOUNDED
@given(
    field=st.sampled_from(["leaf_hash", "audit_path", "leaf_index", "tree_size"]),
    position=st.integers(min_value=0, max_value=63),
    step=st.integers(min_value=1, max_value=5),
)
def test_a_receipt_altered_anywhere_it_is_bound_does_not_hold(field, position, step):
    receipt = dict(RECEIPT)
    if field == "leaf_hash":
        receipt["leaf_hash"] = _flip_hex(receipt["leaf_hash"], position)
    elif field == "audit_path":
        path = list(receipt["audit_path"])
        which = position % len(path)
        path[which] = _flip_hex(path[which], position)
        receipt["audit_path"] = path
    else:
        receipt[field] = receipt[field] + step
    assert not verify(receipt).holds


def test_a_receipt_signed_by_an_untrusted_key_does_not_hold():
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    result = verify(receipt_make([b"a", b"b", b"c"], 1, key=other))
    assert not result.holds and dict(result.checks)["signature"] is False


def test_the_receipt_under_test_holds():
    assert verify(RECEIPT).holds
    assert base64.b64decode(RECEIPT["checkpoint"].split("\n")[2])

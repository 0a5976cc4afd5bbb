"""Receipts: what a voter keeps holds against the signed checkpoint; anything altered does not."""

from __future__ import annotations

import base64
import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Transaction
from ledger.receipt_check import receipt_check, trusted_checkpoint_keys
from ledger.receipts import verify_receipt
from ledger.selectors import receipt_for
from ledger.services import chain_seal
from ledger.signing import KeySigner, checkpoint_origin, platform_validator
from tests.factories import ChainFactory
from tests.ledger.helpers import append_many, flip_hex

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(sealed_chain) -> dict:
    entry = Transaction.objects.get(chain=sealed_chain, index=6)
    return receipt_for(entry=entry)


def altered(receipt: dict, **fields) -> dict:
    changed = copy.deepcopy(receipt)
    changed.update(fields)
    return changed


def test_a_receipt_holds_and_is_recorded_here(receipt, sealed_chain):
    entry = Transaction.objects.get(chain=sealed_chain, index=6)
    assert set(receipt) == {
        "chain",
        "tx_hash",
        "leaf_index",
        "leaf_hash",
        "tree_size",
        "audit_path",
        "checkpoint",
    }
    assert (receipt["chain"], receipt["tx_hash"]) == (sealed_chain.slug, entry.tx_hash)
    assert (receipt["leaf_index"], receipt["leaf_hash"]) == (6, entry.leaf_hash)
    assert receipt["tree_size"] == 12
    result = receipt_check(receipt)
    assert result["holds"] is True, result
    assert result["recorded_here"] is True
    assert result["signer"] == platform_validator().did
    assert all(check["ok"] for check in result["checks"])


def test_every_transaction_of_the_chain_has_a_receipt_that_holds(sealed_chain):
    for entry in Transaction.objects.filter(chain=sealed_chain):
        result = receipt_check(receipt_for(entry=entry))
        assert result["holds"] and result["recorded_here"], (entry.index, result)


def test_no_receipt_before_the_transaction_is_sealed(sealed_chain, signer):
    (entry,) = append_many(sealed_chain, signer, 1, start=12)
    assert receipt_for(entry=entry) is None
    chain_seal(chain=sealed_chain)
    assert receipt_check(receipt_for(entry=entry))["holds"] is True


def test_an_old_receipt_still_holds_after_more_blocks(receipt, sealed_chain, signer):
    append_many(sealed_chain, signer, 4, start=12)
    chain_seal(chain=sealed_chain)
    assert receipt_check(receipt)["holds"] is True


def _flip_signature(checkpoint: str) -> str:
    body, _, line = checkpoint.rstrip("\n").rpartition("\n")
    head, blob = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    return f"{body}\n{head} {base64.b64encode(bytes(raw)).decode()}\n"


def _replace_root(checkpoint: str) -> str:
    lines = checkpoint.split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    return "\n".join(lines)


def _other_size(checkpoint: str) -> str:
    lines = checkpoint.split("\n")
    lines[1] = "11"
    return "\n".join(lines)


TAMPERINGS = {
    "leaf-hash": lambda r: altered(r, leaf_hash=flip_hex(r["leaf_hash"], 5)),
    "leaf-index": lambda r: altered(r, leaf_index=r["leaf_index"] + 1),
    "audit-path-element": lambda r: altered(
        r, audit_path=[r["audit_path"][0], flip_hex(r["audit_path"][1], 7), *r["audit_path"][2:]]
    ),
    "audit-path-dropped": lambda r: altered(r, audit_path=r["audit_path"][:-1]),
    "audit-path-added": lambda r: altered(r, audit_path=[*r["audit_path"], "0" * 64]),
    "tree-size": lambda r: altered(r, tree_size=r["tree_size"] + 1),
    "checkpoint-signature": lambda r: altered(r, checkpoint=_flip_signature(r["checkpoint"])),
    "checkpoint-root": lambda r: altered(r, checkpoint=_replace_root(r["checkpoint"])),
    "checkpoint-size": lambda r: altered(r, checkpoint=_other_size(r["checkpoint"]), tree_size=11),
    "chain": lambda r: altered(r, chain="network"),
    "unknown-chain": lambda r: altered(r, chain="atlantis"),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_a_tampered_receipt_does_not_hold(receipt, name):
    result = receipt_check(TAMPERINGS[name](receipt))
    assert result["holds"] is False, result
    assert result["recorded_here"] is False
    assert result["reason"]


def test_a_receipt_for_a_transaction_that_is_not_here_holds_but_is_not_recorded(receipt):
    result = receipt_check(altered(receipt, tx_hash="ab" * 32))
    assert (result["holds"], result["recorded_here"]) == (True, False)


def test_a_receipt_signed_by_a_key_we_do_not_trust_does_not_hold(signer):
    chain = ChainFactory()
    append_many(chain, signer, 3)
    rogue = KeySigner(Ed25519PrivateKey.generate())
    chain_seal(chain=chain, validator=rogue)
    trusted = trusted_checkpoint_keys(chain.slug)
    assert (
        checkpoint_origin(chain.slug),
        platform_validator().public_key,
        platform_validator().did,
    ) in trusted
    receipt = receipt_for(entry=Transaction.objects.get(chain=chain, index=1))
    result = verify_receipt(
        receipt,
        trusted_keys=[(checkpoint_origin(chain.slug), platform_validator().public_key, "platform")],
    )
    assert result.holds is False
    # Only the signature check fails: the proof itself is sound, the signer is not trusted.
    assert [ok for _, ok in result.checks].count(False) == 1
    assert result.checks[-1][1] is False


def test_the_pure_check_needs_no_database(receipt):
    validator = platform_validator()
    keys = [(checkpoint_origin(receipt["chain"]), validator.public_key, "platform")]
    assert verify_receipt(receipt, trusted_keys=keys).holds
    assert not verify_receipt(receipt, trusted_keys=[]).holds


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
GARBAGE = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@GARBAGE
@given(json_values)
def test_garbage_never_raises(value):
    result = receipt_check(value)
    assert result["holds"] is False
    assert result["recorded_here"] is False


RECEIPT_FIELDS = [
    "chain",
    "tx_hash",
    "leaf_index",
    "leaf_hash",
    "tree_size",
    "audit_path",
    "checkpoint",
]


@GARBAGE
@given(st.data())
def test_a_receipt_with_any_field_replaced_by_garbage_never_raises(receipt, data):
    field = data.draw(st.sampled_from(RECEIPT_FIELDS))
    value = data.draw(json_values)
    result = receipt_check(altered(receipt, **{field: value}))
    if value != receipt[field]:
        assert result["holds"] is False or field == "tx_hash"


@pytest.mark.parametrize(
    "checkpoint_edit",
    [
        lambda c: c.replace("\n12\n", "\n\u00b2\n"),
        lambda c: c.replace("\n12\n", "\n\u0661\u0662\n"),
        lambda c: c.replace("\u2014", "-"),
        lambda c: c.split("\n\n")[0],
        lambda c: c.replace("\n\n", "\n\n\u2014 x \u00e9\u00e9\n"),
    ],
)
def test_a_malformed_checkpoint_is_a_clear_no(receipt, checkpoint_edit):
    result = receipt_check(altered(receipt, checkpoint=checkpoint_edit(receipt["checkpoint"])))
    assert result["holds"] is False
    assert result["reason"]


@pytest.mark.parametrize("chain", ["", "\x00", "a\x00b", "x" * 70, "city-0\n"])
def test_odd_chain_names_are_a_clear_no(receipt, chain):
    result = receipt_check(altered(receipt, chain=chain))
    assert result["holds"] is False

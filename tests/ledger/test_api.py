"""The public ledger API (`/api/v1/ledger/`): the design's wire formats, JSON errors, never 500."""

from __future__ import annotations

import pytest

from ledger import merkle
from ledger.checkpoint import parse_checkpoint, verify_checkpoint
from ledger.models import Block, Transaction
from ledger.selectors import receipt_for
from ledger.signing import checkpoint_origin, platform_validator
from tests.factories import ChainFactory
from tests.ledger.helpers import append_many, memory_tree

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger"


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def chain(sealed_chain, signer):
    """12 transactions sealed in blocks of sizes 5 and 12, then 2 waiting (size 14)."""
    append_many(sealed_chain, signer, 2, start=12)
    sealed_chain.refresh_from_db()
    return sealed_chain


def test_the_chain_list(client, chain):
    response = client.get(f"{API}/chains/")
    assert response.status_code == 200
    listed = {item["slug"]: item for item in response.json()}
    block = Block.objects.get(chain=chain, height=1)
    assert listed[chain.slug] == {
        "slug": chain.slug,
        "name": chain.name,
        "size": 14,
        "sealed_size": 12,
        "block_count": 2,
        "head_block_hash": block.block_hash,
    }


def test_the_checkpoint_is_a_signed_note_in_plain_text(client, chain):
    response = client.get(f"{API}/chains/{chain.slug}/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    checkpoint = parse_checkpoint(text)
    assert checkpoint.origin == checkpoint_origin(chain.slug)
    assert checkpoint.tree_size == 12
    assert checkpoint.root == memory_tree(chain).root(12)
    verify_checkpoint(
        text, name=checkpoint_origin(chain.slug), public_key=platform_validator().public_key
    )


def test_a_chain_without_a_block_has_no_checkpoint_yet(client, signer):
    fresh = ChainFactory()
    append_many(fresh, signer, 1)
    assert_error(client.get(f"{API}/chains/{fresh.slug}/checkpoint"), 400)


def test_a_block(client, chain):
    response = client.get(f"{API}/chains/{chain.slug}/blocks/1")
    assert response.status_code == 200
    body = response.json()
    block = Block.objects.get(chain=chain, height=1)
    assert body["chain"] == chain.slug
    assert (body["height"], body["tree_size"], body["root"]) == (1, 12, block.root)
    assert body["prev_hash"] == Block.objects.get(chain=chain, height=0).block_hash
    assert body["block_hash"] == block.block_hash
    assert body["signatures"][0]["validator"] == platform_validator().did


def test_an_entry(client, chain):
    entry = Transaction.objects.get(chain=chain, index=7)
    body = client.get(f"{API}/chains/{chain.slug}/entries/7").json()
    assert body == {
        "chain": chain.slug,
        "index": 7,
        "kind": entry.kind,
        "actor": entry.actor,
        "payload": entry.payload,
        "created_at": entry.created_at_text,
        "signature": entry.signature,
        "tx_hash": entry.tx_hash,
        "leaf_hash": entry.leaf_hash,
        "block_height": 1,
    }
    assert client.get(f"{API}/chains/{chain.slug}/entries/4").json()["block_height"] == 0
    assert client.get(f"{API}/chains/{chain.slug}/entries/13").json()["block_height"] is None


def test_an_inclusion_proof_in_the_design_wire_format(client, chain):
    tree = memory_tree(chain)
    response = client.get(f"{API}/chains/{chain.slug}/entries/6/proof?tree_size=9")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["chain", "leaf_index", "tree_size", "leaf_hash", "audit_path", "root"]
    assert (body["chain"], body["leaf_index"], body["tree_size"]) == (chain.slug, 6, 9)
    assert body["leaf_hash"] == tree.nodes[(0, 6)].hex()
    assert body["root"] == tree.root(9).hex()
    assert merkle.verify_inclusion(
        bytes.fromhex(body["leaf_hash"]),
        6,
        9,
        [bytes.fromhex(h) for h in body["audit_path"]],
        bytes.fromhex(body["root"]),
    )


def test_an_inclusion_proof_defaults_to_the_latest_checkpoint(client, chain):
    body = client.get(f"{API}/chains/{chain.slug}/entries/3/proof").json()
    assert body["tree_size"] == 12
    assert body["root"] == Block.objects.get(chain=chain, height=1).root


def test_a_consistency_proof_in_the_design_wire_format(client, chain):
    tree = memory_tree(chain)
    response = client.get(f"{API}/chains/{chain.slug}/consistency?first=5&second=12")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["chain", "first", "second", "first_root", "second_root", "proof"]
    assert (body["chain"], body["first"], body["second"]) == (chain.slug, 5, 12)
    assert body["first_root"] == tree.root(5).hex()
    assert body["second_root"] == tree.root(12).hex()
    assert merkle.verify_consistency(
        5, 12, tree.root(5), tree.root(12), [bytes.fromhex(h) for h in body["proof"]]
    )


def test_a_receipt_posted_to_the_api_is_checked(client, chain):
    receipt = receipt_for(entry=Transaction.objects.get(chain=chain, index=2))
    response = client.post(
        f"{API}/receipts/verify", {"receipt": receipt}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["holds"], response.json()["recorded_here"]) == (True, True)
    receipt["leaf_index"] = 3
    response = client.post(
        f"{API}/receipts/verify", {"receipt": receipt}, content_type="application/json"
    )
    assert response.json()["holds"] is False


@pytest.mark.parametrize(
    "body",
    [{"receipt": "nonsense"}, {"receipt": None}, {"receipt": [1, 2]}, {"receipt": {"chain": 5}}],
)
def test_a_garbage_receipt_is_a_clear_no(client, db, body):
    response = client.post(f"{API}/receipts/verify", body, content_type="application/json")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["holds"] is False
    else:
        assert_error(response, 400)


@pytest.mark.parametrize("field", ["chain", "tx_hash", "leaf_hash", "checkpoint"])
def test_a_receipt_with_a_nul_byte_is_a_clear_no(client, chain, field):
    receipt = receipt_for(entry=Transaction.objects.get(chain=chain, index=2))
    receipt[field] = receipt[field][:3] + "\x00" + receipt[field][3:]
    response = client.post(
        f"{API}/receipts/verify", {"receipt": receipt}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["holds"] is False


def test_a_receipt_request_that_is_not_json_is_a_400(client, db):
    response = client.post(f"{API}/receipts/verify", "{not json", content_type="application/json")
    assert_error(response, 400)
    assert_error(client.post(f"{API}/receipts/verify", {}, content_type="application/json"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/chains/atlantis/checkpoint",
        "/chains/atlantis/blocks/0",
        "/chains/atlantis/entries/0",
        "/chains/atlantis/entries/0/proof?tree_size=1",
        "/chains/atlantis/consistency?first=1&second=2",
        "/chains/{slug}/blocks/2",
        "/chains/{slug}/blocks/99999999999999999999999",
        "/chains/{slug}/entries/14",
        "/chains/{slug}/entries/99999999999999999999999",
        "/chains/{slug}/entries/14/proof",
        "/chains/{slug}/entries/99999999999999999999999/proof",
    ],
)
def test_what_does_not_exist_is_a_404(client, chain, path):
    assert_error(client.get(API + path.format(slug=chain.slug)), 404)


@pytest.mark.parametrize(
    "query",
    [
        "entries/3/proof?tree_size=abc",
        "entries/3/proof?tree_size=-1",
        "entries/3/proof?tree_size=0",
        "entries/3/proof?tree_size=3",
        "entries/3/proof?tree_size=15",
        "entries/3/proof?tree_size=1e3",
        "entries/3/proof?tree_size=%C2%B2",
        "entries/3/proof?tree_size=%D9%A1%D9%A2",
        "entries/3/proof?tree_size=" + "9" * 30,
        "entries/3/proof?tree_size=",
        "entries/13/proof",
        "consistency",
        "consistency?first=1",
        "consistency?second=5",
        "consistency?first=0&second=5",
        "consistency?first=6&second=5",
        "consistency?first=1&second=15",
        "consistency?first=x&second=5",
        "consistency?first=%C2%B2&second=5",
        "consistency?first=1&second=" + "9" * 30,
    ],
)
def test_bad_or_out_of_range_sizes_are_a_400(client, chain, query):
    error = assert_error(client.get(f"{API}/chains/{chain.slug}/{query}"), 400)
    assert error["code"] == "proof_unavailable"


def test_the_api_is_public_and_read_only(client, chain):
    for path in [
        "/chains/",
        f"/chains/{chain.slug}/checkpoint",
        f"/chains/{chain.slug}/blocks/0",
        f"/chains/{chain.slug}/entries/0",
    ]:
        assert client.get(API + path).status_code == 200
        assert_error(client.post(API + path, {}), 405)

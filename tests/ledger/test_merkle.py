"""ledger.merkle: RFC 9162 tree heads and proofs from stored tiles, and proof verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
RFC6962 = json.loads((VECTORS / "rfc6962-merkle.json").read_text())
VECTOR_LEAVES = [bytes.fromhex(h) for h in RFC6962["leaf_inputs_hex"]]

PROPERTY = settings(max_examples=60, deadline=None)
EXTRA = 16  # leaves beyond the tree under test, to ask for roots of larger sizes


# --- RFC 9162 section 2.1, written the way the RFC defines it (recursive, no tiles) ---------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 9162 2.1.1)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return merkle.node_hash(naive_mth(hashes[:k]), naive_mth(hashes[k:]))


def naive_path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 2.1.3.1)."""
    if len(hashes) == 1:
        return []
    k = _k(len(hashes))
    if m < k:
        return naive_path(m, hashes[:k]) + [naive_mth(hashes[k:])]
    return naive_path(m - k, hashes[k:]) + [naive_mth(hashes[:k])]


def naive_shape(m: int, n: int) -> list[str]:
    """Which side each sibling of PATH(m, D[n]) sits on, leaf side first: "L" or "R"."""
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return naive_shape(m, k) + ["R"]
    return naive_shape(m - k, n - k) + ["L"]


def naive_subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 9162 2.1.4.1)."""
    n = len(hashes)
    if m == n:
        return [] if complete else [naive_mth(hashes)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, hashes[:k], complete) + [naive_mth(hashes[k:])]
    return naive_subproof(m - k, hashes[k:], False) + [naive_mth(hashes[:k])]


def make_leaves(count: int, salt: bytes = b"") -> list[bytes]:
    """Distinct leaf hashes (distinct leaves: swapping two of them must change the root)."""
    return [merkle.leaf_hash(salt + n.to_bytes(4, "big")) for n in range(count)]


def flipped(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


@st.composite
def tree_and_size(draw):
    size = draw(st.integers(min_value=1, max_value=300))
    salt = draw(st.binary(max_size=4))
    return merkle.MemoryTree(make_leaves(size + EXTRA, salt)), size


# --- Reference vectors -----------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_tree_heads_match_the_reference_vectors(size):
    tree = merkle.MemoryTree(merkle.leaf_hash(data) for data in VECTOR_LEAVES[:size])
    expected = RFC6962["roots_hex"][str(size)]
    assert tree.root().hex() == expected
    assert naive_mth([merkle.leaf_hash(d) for d in VECTOR_LEAVES[:size]]).hex() == expected


def test_the_frontier_gives_every_reference_tree_head():
    frontier = merkle.Frontier()
    assert frontier.root().hex() == RFC6962["roots_hex"]["0"]
    for size, data in enumerate(VECTOR_LEAVES, start=1):
        frontier.append(merkle.leaf_hash(data))
        assert frontier.root().hex() == RFC6962["roots_hex"][str(size)]


@pytest.mark.parametrize("index", range(8))
def test_inclusion_proofs_at_size_8_match_the_reference_vectors(index):
    tree = merkle.MemoryTree(merkle.leaf_hash(data) for data in VECTOR_LEAVES)
    expected = RFC6962["inclusion_proofs_size8"][str(index)]
    proof = merkle.inclusion_proof(index, 8, tree.fetch)
    assert [h.hex() for h in proof] == expected
    leaf = merkle.leaf_hash(VECTOR_LEAVES[index])
    root = bytes.fromhex(RFC6962["roots_hex"]["8"])
    assert merkle.verify_inclusion(leaf, index, 8, [bytes.fromhex(h) for h in expected], root)


def test_the_empty_tree_head_is_the_hash_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == RFC6962["roots_hex"]["0"]
    assert merkle.root(0, lambda keys: pytest.fail("nothing to fetch")) == merkle.EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"ab") == hashlib.sha256(b"\x00ab").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


# --- Properties for random sizes -------------------------------------------------------------


@PROPERTY
@given(tree_and_size(), st.data())
def test_the_root_from_tiles_equals_the_recursive_definition(tree_size, data):
    tree, size = tree_size
    hashes = [tree.nodes[(0, i)] for i in range(size)]
    assert tree.root(size) == naive_mth(hashes)
    smaller = data.draw(st.integers(min_value=0, max_value=size))
    assert tree.root(smaller) == naive_mth(hashes[:smaller])


@PROPERTY
@given(tree_and_size(), st.data())
def test_inclusion_proofs_follow_the_rfc_and_verify(tree_size, data):
    tree, size = tree_size
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.inclusion_proof(index, size, tree.fetch)
    hashes = [tree.nodes[(0, i)] for i in range(size)]
    assert proof == naive_path(index, hashes)
    assert merkle.verify_inclusion(hashes[index], index, size, proof, tree.root(size))


@PROPERTY
@given(tree_and_size(), st.data())
def test_consistency_proofs_follow_the_rfc_and_verify(tree_size, data):
    tree, size = tree_size
    first = data.draw(st.integers(min_value=1, max_value=size))
    proof = merkle.consistency_proof(first, size, tree.fetch)
    hashes = [tree.nodes[(0, i)] for i in range(size)]
    assert proof == naive_subproof(first, hashes, True)
    assert merkle.verify_consistency(first, size, tree.root(first), tree.root(size), proof)


@PROPERTY
@given(tree_and_size(), st.data())
def test_every_tampered_inclusion_proof_fails(tree_size, data):
    tree, size = tree_size
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    byte = data.draw(st.integers(min_value=0, max_value=31))
    leaf, root = tree.nodes[(0, index)], tree.root(size)
    proof = merkle.inclusion_proof(index, size, tree.fetch)
    stranger = merkle.leaf_hash(b"not in the tree")

    def holds(leaf=leaf, index=index, size=size, proof=proof, root=root):
        return merkle.verify_inclusion(leaf, index, size, proof, root)

    assert holds()
    assert not holds(leaf=flipped(leaf, byte))
    for position in range(len(proof)):
        assert not holds(
            proof=[*proof[:position], flipped(proof[position], byte), *proof[position + 1 :]]
        )
        assert not holds(proof=proof[:position] + proof[position + 1 :])
    for position in range(len(proof) + 1):
        assert not holds(proof=[*proof[:position], stranger, *proof[position:]])
    for other in range(-1, size + 1):
        if other != index:
            assert not holds(index=other)
    # A checkpoint commits to a size and its root together: a proof for one size fails for
    # every other size's tree head.
    for other in range(1, size + EXTRA + 1):
        if other != size:
            assert not holds(size=other, root=tree.root(other))
    # With this size's root but another size claimed, RFC 9162 verification can only tell
    # when the claimed tree puts the siblings elsewhere (the size itself is not hashed).
    for other in range(index + 1, size + EXTRA + 1):
        if other != size:
            same_shape = naive_shape(index, other) == naive_shape(index, size)
            assert holds(size=other) == same_shape, other
    assert not holds(size=0)
    assert not holds(root=flipped(root, byte))


@PROPERTY
@given(tree_and_size(), st.data())
def test_every_tampered_consistency_proof_fails(tree_size, data):
    tree, second = tree_size
    first = data.draw(st.integers(min_value=1, max_value=second))
    byte = data.draw(st.integers(min_value=0, max_value=31))
    proof = merkle.consistency_proof(first, second, tree.fetch)
    first_root, second_root = tree.root(first), tree.root(second)
    stranger = merkle.leaf_hash(b"not in the tree")

    def holds(
        first=first, second=second, first_root=first_root, second_root=second_root, proof=proof
    ):
        return merkle.verify_consistency(first, second, first_root, second_root, proof)

    assert holds()
    for position in range(len(proof)):
        assert not holds(
            proof=[*proof[:position], flipped(proof[position], byte), *proof[position + 1 :]]
        )
        assert not holds(proof=proof[:position] + proof[position + 1 :])
    for position in range(len(proof) + 1):
        assert not holds(proof=[*proof[:position], stranger, *proof[position:]])
    for other in range(1, second + 1):
        if other != first:
            assert not holds(first=other, first_root=tree.root(other))
    for other in range(first, second + EXTRA + 1):
        if other != second:
            assert not holds(second=other, second_root=tree.root(other))
    assert not holds(first=0, first_root=merkle.EMPTY_ROOT)
    assert not holds(first_root=flipped(first_root, byte))
    assert not holds(second_root=flipped(second_root, byte))


@PROPERTY
@given(st.integers(min_value=0, max_value=300))
def test_the_frontier_root_equals_the_memory_tree_root_at_every_size(size):
    leaves = make_leaves(size)
    tree, frontier = merkle.MemoryTree(), merkle.Frontier()
    assert frontier.root() == tree.root()
    for leaf in leaves:
        tree.append_leaf_hash(leaf)
        closed = frontier.append(leaf)
        assert frontier.root() == tree.root()
        # What the leaf closes is exactly what the stored tiles gain.
        assert all(tree.nodes[key] == value for key, value in closed)
        assert [key for key, _ in closed] == [
            p for p, _, _ in merkle.new_nodes_for_leaf(tree.size - 1)
        ]
    inner = {key for key in tree.nodes if key[0] > 0}
    assert len(inner) == sum(size >> level for level in range(1, 64))


# --- Edges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 4), (9, 4)])
def test_no_inclusion_proof_outside_the_tree(index, size):
    tree = merkle.MemoryTree(make_leaves(8))
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(index, size, tree.fetch)
    assert not merkle.verify_inclusion(tree.nodes[(0, 0)], index, size, [], tree.root())


@pytest.mark.parametrize(("first", "second"), [(0, 4), (5, 4), (-1, 3)])
def test_no_consistency_proof_between_sizes_that_do_not_grow(first, second):
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(first, second)


def test_a_tree_is_consistent_with_itself_with_an_empty_proof():
    tree = merkle.MemoryTree(make_leaves(7))
    assert merkle.consistency_proof(7, 7, tree.fetch) == []
    assert merkle.verify_consistency(7, 7, tree.root(), tree.root(), [])
    assert not merkle.verify_consistency(7, 7, tree.root(), tree.root(6), [])
    assert not merkle.verify_consistency(7, 7, tree.root(), tree.root(), [tree.root()])


def test_a_missing_stored_tile_is_an_error_not_a_wrong_answer():
    tree = merkle.MemoryTree(make_leaves(8))
    del tree.nodes[(2, 0)]
    with pytest.raises(merkle.ProofError):
        merkle.root(7, tree.fetch)


def test_proofs_fetch_only_a_logarithmic_number_of_tiles():
    tree = merkle.MemoryTree(make_leaves(1000))
    asked: list[int] = []

    def fetch(keys):
        asked.append(len(keys))
        return tree.fetch(keys)

    merkle.inclusion_proof(377, 1000, fetch)
    merkle.consistency_proof(377, 1000, fetch)
    merkle.root(999, fetch)
    assert len(asked) == 3  # one batch each
    assert max(asked) <= 2 * 10

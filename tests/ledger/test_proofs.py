"""Proofs read from the database agree with the in-memory tree, in a constant number of queries."""

from __future__ import annotations

import pytest

from ledger import merkle
from ledger.errors import ProofUnavailable
from ledger.selectors import consistency_proof, inclusion_proof, tree_root
from tests.factories import ChainFactory
from tests.ledger.helpers import append_many, memory_tree

pytestmark = pytest.mark.django_db

SIZE = 40


@pytest.fixture
def forty(signer):
    chain = ChainFactory()
    append_many(chain, signer, SIZE)
    chain.refresh_from_db()
    return chain, memory_tree(chain)


def test_tree_roots_agree_with_the_memory_tree_at_every_size(forty):
    chain, tree = forty
    for size in range(SIZE + 1):
        assert tree_root(chain=chain, size=size) == tree.root(size)


def test_inclusion_proofs_agree_with_the_memory_tree_for_every_index_and_size(forty):
    chain, tree = forty
    for size in range(1, SIZE + 1):
        root = tree.root(size)
        for index in range(size):
            proof = inclusion_proof(chain=chain, index=index, tree_size=size)
            expected = merkle.inclusion_proof(index, size, tree.fetch)
            assert proof.audit_path == [h.hex() for h in expected]
            assert proof.root == root.hex()
            assert proof.leaf_hash == tree.nodes[(0, index)].hex()
            assert (proof.chain, proof.leaf_index, proof.tree_size) == (chain.slug, index, size)
            assert merkle.verify_inclusion(
                bytes.fromhex(proof.leaf_hash), index, size, expected, root
            )


def test_consistency_proofs_agree_with_the_memory_tree_for_every_pair_of_sizes(forty):
    chain, tree = forty
    for second in range(1, SIZE + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(chain=chain, first=first, second=second)
            expected = merkle.consistency_proof(first, second, tree.fetch)
            assert proof == {
                "chain": chain.slug,
                "first": first,
                "second": second,
                "first_root": tree.root(first).hex(),
                "second_root": tree.root(second).hex(),
                "proof": [h.hex() for h in expected],
            }
            assert merkle.verify_consistency(
                first, second, tree.root(first), tree.root(second), expected
            )


def test_the_wire_format_of_an_inclusion_proof(forty):
    chain, _ = forty
    wire = inclusion_proof(chain=chain, index=5, tree_size=17).as_dict()
    assert set(wire) == {"chain", "leaf_index", "tree_size", "leaf_hash", "audit_path", "root"}
    assert all(len(h) == 64 and h == h.lower() for h in [wire["leaf_hash"], *wire["audit_path"]])


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3), (0, SIZE + 1), (40, 40)])
def test_no_inclusion_proof_outside_the_log(forty, index, size):
    chain, _ = forty
    with pytest.raises(ProofUnavailable):
        inclusion_proof(chain=chain, index=index, tree_size=size)


@pytest.mark.parametrize(("first", "second"), [(0, 5), (6, 5), (1, SIZE + 1), (-2, 3)])
def test_no_consistency_proof_between_sizes_that_do_not_exist(forty, first, second):
    chain, _ = forty
    with pytest.raises(ProofUnavailable):
        consistency_proof(chain=chain, first=first, second=second)


@pytest.mark.parametrize("size", [-1, SIZE + 1])
def test_no_root_beyond_the_log(forty, size):
    chain, _ = forty
    with pytest.raises(ProofUnavailable):
        tree_root(chain=chain, size=size)


@pytest.mark.parametrize("entries", [10, 100])
def test_a_proof_costs_the_same_few_queries_whatever_the_chain_length(
    signer, django_assert_max_num_queries, entries
):
    chain = ChainFactory()
    append_many(chain, signer, entries)
    chain.refresh_from_db()
    for index, size in [(0, entries), (entries // 2, entries), (entries - 1, entries), (3, 7)]:
        with django_assert_max_num_queries(2):
            inclusion_proof(chain=chain, index=index, tree_size=size)
    for first, second in [(1, entries), (entries // 3, entries - 1), (7, entries)]:
        with django_assert_max_num_queries(2):
            consistency_proof(chain=chain, first=first, second=second)
    with django_assert_max_num_queries(2):
        tree_root(chain=chain, size=entries)

"""RFC 9162 Merkle tree hashing, proofs and proof verification (standard library only).

The tree is never held in memory. Callers keep the hash of every complete, aligned subtree
("tiles": level k, index i covers leaves i*2^k .. (i+1)*2^k - 1) and hand this module a
`fetch` function that returns the stored hashes of the (level, index) pairs it asks for.
Any root, inclusion proof or consistency proof for any tree size then needs O(log n) stored
hashes, fetched in one call, plus hashing the ragged right edge.

This module is imported by `ledger.verify_bundle`, which must run with no Django installed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

NodeKey = tuple[int, int]  # (level, index)
Fetch = Callable[[set[NodeKey]], dict[NodeKey, bytes]]

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof was asked for sizes or indices that do not exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(length: int) -> int:
    """The largest power of two strictly smaller than `length` (length > 1)."""
    return 1 << ((length - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """The complete aligned subtrees whose right fold is MTH(D[start:end]), left to right.

    `start` must be aligned the way RFC 9162 splits produce it (always true for the ranges
    used by roots and proofs).
    """
    nodes: list[NodeKey] = []
    while end - start > 0:
        length = end - start
        if length & (length - 1) == 0 and start % length == 0:
            nodes.append((length.bit_length() - 1, start // length))
            break
        k = _split(length)
        nodes.append(((k.bit_length() - 1), start // k))
        start += k
    return nodes


def fold_range(keys: Sequence[NodeKey], hashes: dict[NodeKey, bytes]) -> bytes:
    if not keys:
        return EMPTY_ROOT
    result = hashes[keys[-1]]
    for key in reversed(keys[:-1]):
        result = node_hash(hashes[key], result)
    return result


def resolve(ranges: Iterable[tuple[int, int]], fetch: Fetch) -> list[bytes]:
    ranges = list(ranges)
    plans = [range_nodes(a, b) for a, b in ranges]
    wanted = {key for plan in plans for key in plan}
    hashes = fetch(wanted) if wanted else {}
    missing = wanted - hashes.keys()
    if missing:
        raise ProofError(f"missing stored subtree hashes: {sorted(missing)[:4]}")
    return [fold_range(plan, hashes) for plan in plans]


def root(size: int, fetch: Fetch) -> bytes:
    """MTH(D[0:size])."""
    if size == 0:
        return EMPTY_ROOT
    return resolve([(0, size)], fetch)[0]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[0:size]), leaf side first (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 2.1.4.1)."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    return resolve(inclusion_ranges(index, size), fetch)


def consistency_proof(first: int, second: int, fetch: Fetch) -> list[bytes]:
    if first == second:
        return []
    return resolve(consistency_ranges(first, second), fetch)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `proof` lead from `leaf` at `index` to `expected_root`?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of size `second` an append-only extension of `first`?"""
    if first == second:
        return first_root == second_root and not proof
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # first is a power of two: its root starts the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def new_nodes_for_leaf(index: int) -> list[tuple[NodeKey, NodeKey, NodeKey]]:
    """Complete subtrees that leaf `index` closes: (new node, left child, right child)."""
    out = []
    level, position = 0, index
    while position & 1:
        parent = (level + 1, position >> 1)
        out.append((parent, (level, position - 1), (level, position)))
        level, position = level + 1, position >> 1
    return out


class MemoryTree:
    """The whole log in memory, storing tiles the same way the database does.

    Used by the bundle verifier and by tests; the database-backed store lives in
    `ledger.selectors`.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.nodes: dict[NodeKey, bytes] = {}
        self.size = 0
        for leaf in leaves:
            self.append_leaf_hash(leaf)

    def append_leaf_hash(self, leaf: bytes) -> None:
        index = self.size
        self.nodes[(0, index)] = leaf
        for parent, left, right in new_nodes_for_leaf(index):
            self.nodes[parent] = node_hash(self.nodes[left], self.nodes[right])
        self.size += 1

    def fetch(self, keys: set[NodeKey]) -> dict[NodeKey, bytes]:
        return {key: self.nodes[key] for key in keys if key in self.nodes}

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self.fetch)


class Frontier:
    """The right edge of a growing tree: O(log n) memory, for streaming verification.

    `append` returns the complete subtrees the new leaf closes, so a verifier can compare
    them with stored tiles; `root()` is the root of the tree so far.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []  # perfect subtree hashes, largest first

    def append(self, leaf: bytes) -> list[tuple[NodeKey, bytes]]:
        closed = []
        node, level, position = leaf, 0, self.size
        while position & 1:
            node = node_hash(self._stack.pop(), node)
            level, position = level + 1, position >> 1
            closed.append(((level, position), node))
        self._stack.append(node)
        self.size += 1
        return closed

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1]
        for node in reversed(self._stack[:-1]):
            result = node_hash(node, result)
        return result

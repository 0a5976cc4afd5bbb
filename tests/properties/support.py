"""What the property tests of this folder share: their bounds, and one-byte mutations.

Each property is bounded (`BOUNDED`) and derandomized, so that CI sees the same cases on
every run."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every property of this folder: a fixed number of cases, the same ones on every run, no
# deadline (the machine is shared), no example database written into the tree.
BOUNDED = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def mutations(data: bytes):
    """A strategy for (position, new byte): one byte of `data` replaced by another value."""
    return st.tuples(
        st.integers(min_value=0, max_value=len(data) - 1), st.integers(min_value=1, max_value=255)
    ).map(lambda pair: (pair[0], (data[pair[0]] + pair[1]) % 256))


def mutate(data: bytes, position: int, value: int) -> bytes:
    return data[:position] + bytes([value]) + data[position + 1 :]

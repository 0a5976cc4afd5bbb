"""Who may do what with witnessing: one predicate per rule, shared by the pages and the API."""

from __future__ import annotations

from governance.permissions import is_municipality_staff


def can_manage_witnessing(user, city) -> bool:
    """The witnessing city's approved municipality staff add and remove the logs it watches
    (the relation is signed on that city's chain)."""
    return is_municipality_staff(user, city)


def can_see_witnessing(user, city) -> bool:
    """Anyone: checkpoints, cosignatures and inconsistency evidence are public, like the
    ledger they are about (DIDs, sizes, roots and signatures only)."""
    return True

"""Whatever sequence of transfers and retirements happens, the holdings of a batch partition
its serials: every unit exactly once, every balance what the moves say, never below zero,
retired units never moving again."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.errors import InsufficientTokens
from impact.models import Holding
from impact.services import token_retire, token_transfer

from .helpers import issued, portfolio, serials_of, tco2e

moves = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "retire"]),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=1, max_value=80),
    ),
    min_size=1,
    max_size=10,
)


class Rollback(Exception):
    pass


@pytest.fixture
def world(resident, neighbour, provider_member, curator_member):
    batch = issued(resident, curator_member, "1000")  # 193 units
    members = [resident, neighbour, provider_member]
    return batch, members, [portfolio(m) for m in members]


@given(moves)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_holdings_always_partition_the_batch(world, steps):
    batch, members, portfolios = world
    try:
        with transaction.atomic():
            expected = {0: 193, 1: 0, 2: 0}
            retired = {0: 0, 1: 0, 2: 0}
            retired_serials: set = set()
            for action, source, target, quantity in steps:
                try:
                    if action == "transfer" and source != target:
                        token_transfer(
                            sender=portfolios[source],
                            recipient=portfolios[target],
                            by=members[source].user,
                            token_class=tco2e(),
                            quantity=quantity,
                        )
                        expected[source] -= quantity
                        expected[target] += quantity
                    elif action == "retire":
                        retirement = token_retire(
                            portfolio=portfolios[source],
                            by=members[source].user,
                            token_class=tco2e(),
                            quantity=quantity,
                            reason_code="offset",
                        )
                        expected[source] -= quantity
                        retired[source] += quantity
                        for _batch, first, last in retirement.serials:
                            retired_serials |= {(batch.pk, n) for n in range(first, last + 1)}
                except InsufficientTokens:
                    assert expected[source] < quantity
            held = [serials_of(p) for p in portfolios]
            assert sum(len(s) for s in held) == 193
            assert set().union(*held) == {(batch.pk, n) for n in range(1, 194)}
            for index, p in enumerate(portfolios):
                assert len(serials_of(p, "available")) == expected[index] >= 0
                assert len(serials_of(p, "retired")) == retired[index]
            assert set().union(*(serials_of(p, "retired") for p in portfolios)) == retired_serials
            assert not Holding.objects.filter(quantity__lt=1).exists()
            raise Rollback
    except Rollback:
        pass

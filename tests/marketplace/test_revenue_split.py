"""The rounding rule of the revenue split: largest remainder, ties in the fixed order
operator, data owners, local projects; no cent lost or created."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.revenue import split_amount

SHARES = ("operator", "data_owners", "local_projects")


@st.composite
def percents(draw):
    operator = draw(st.integers(0, 100))
    data_owners = draw(st.integers(0, 100 - operator))
    return {
        "operator": operator,
        "data_owners": data_owners,
        "local_projects": 100 - operator - data_owners,
    }


@given(amount=st.integers(0, 10**12), split=percents())
def test_the_shares_sum_to_the_amount_each_within_a_cent_of_exact(amount, split):
    shares = split_amount(amount, split)
    assert sum(shares.values()) == amount
    for name in SHARES:
        exact = Fraction(amount * split[name], 100)
        assert shares[name] >= 0 and abs(shares[name] - exact) < 1
        assert shares[name] in (
            exact.numerator // exact.denominator,
            -(-exact.numerator // exact.denominator),
        )


@given(amount=st.integers(0, 10**9), split=percents())
def test_the_largest_remainders_get_the_leftover_cents(amount, split):
    shares = split_amount(amount, split)
    rounded_up = [n for n in SHARES if shares[n] * 100 > amount * split[n]]
    kept_down = [n for n in SHARES if n not in rounded_up]
    for up in rounded_up:
        for down in kept_down:
            remainder_up = amount * split[up] % 100
            remainder_down = amount * split[down] % 100
            assert remainder_up > remainder_down or (
                remainder_up == remainder_down and SHARES.index(up) < SHARES.index(down)
            )


@pytest.mark.parametrize(
    ("amount", "split", "expected"),
    [
        (25, {"operator": 20, "data_owners": 30, "local_projects": 50}, (5, 8, 12)),
        (1, {"operator": 20, "data_owners": 30, "local_projects": 50}, (0, 0, 1)),
        (1, {"operator": 34, "data_owners": 33, "local_projects": 33}, (1, 0, 0)),
        (2, {"operator": 34, "data_owners": 33, "local_projects": 33}, (1, 1, 0)),
        (100, {"operator": 34, "data_owners": 33, "local_projects": 33}, (34, 33, 33)),
        (3, {"operator": 50, "data_owners": 0, "local_projects": 50}, (2, 0, 1)),
        (0, {"operator": 20, "data_owners": 30, "local_projects": 50}, (0, 0, 0)),
    ],
)
def test_worked_examples(amount, split, expected):
    assert tuple(split_amount(amount, split)[name] for name in SHARES) == expected


@pytest.mark.parametrize(
    ("amount", "split"),
    [
        (-1, {"operator": 20, "data_owners": 30, "local_projects": 50}),
        (1.5, {"operator": 20, "data_owners": 30, "local_projects": 50}),
        (10, {"operator": 20, "data_owners": 30, "local_projects": 40}),
        (10, {"operator": 20, "data_owners": 80}),
    ],
)
def test_nonsense_is_refused(amount, split):
    with pytest.raises(ValueError):
        split_amount(amount, split)

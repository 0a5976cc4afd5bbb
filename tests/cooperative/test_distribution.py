"""The distribution of a year's result: at most 42.5 % to the investors, weighted by shares
and horizon, in integer cents that add up exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cooperative.decisions import computation_digest
from cooperative.distribution import compute_distribution
from cooperative.models import Allocation, Distribution
from cooperative.rules import DEFAULT_SECTION, validate_section
from governance.errors import InvalidInput, InvalidRules
from governance.models import ProposalStatus
from governance.services import proposal_create
from ledger.models import Transaction
from tests.factories import UserFactory

from .helpers import ACCOUNTS_DIGEST, admitted, general_assembly

SCHEDULE = DEFAULT_SECTION["horizon_weights"]


def line(n: int, shares: int, years: int) -> dict:
    return {"holding": f"h{n}", "member": f"did:key:z{n}", "shares": shares, "horizon_years": years}


def test_the_worked_example():
    """1,000.01 € of result, 42.5 %: a cap of 425.00 € (42,500.425 cents floored)."""
    result = compute_distribution(
        result_cents=100_001,
        rate_basis_points=4250,
        schedule=SCHEDULE,
        lines=[line(1, 30, 10), line(2, 10, 5), line(3, 7, 0)],
    )
    assert result["cap_cents"] == 42_500
    # weights: 30 × 100, 10 × 80, 7 × 40 = 3000 + 800 + 280 = 4080
    assert result["total_weight"] == 4080
    lines = result["lines"]
    assert [row["weight"] for row in lines] == [3000, 800, 280]
    assert [row["floor_cents"] for row in lines] == [31_250, 8_333, 2_916]
    assert result["leftover_cents"] == 1
    # remainders 0, 1/3 and 2/3 of a cent: the one cent left goes to the largest
    assert [row["remainder"] for row in lines] == ["0/1", "1/3", "2/3"]
    assert [row["extra_cent"] for row in lines] == [False, False, True]
    assert [row["amount_cents"] for row in lines] == [31_250, 8_333, 2_917]
    assert lines[1]["exact"] == "25000/3"


def test_a_loss_distributes_nothing():
    result = compute_distribution(
        result_cents=-5_000, rate_basis_points=4250, schedule=SCHEDULE, lines=[line(1, 3, 10)]
    )
    assert result["cap_cents"] == 0
    assert [row["amount_cents"] for row in result["lines"]] == [0]


def test_without_investors_the_cap_stays_undistributed():
    result = compute_distribution(
        result_cents=10_000, rate_basis_points=4250, schedule=SCHEDULE, lines=[]
    )
    assert result["cap_cents"] == 4250
    assert result["distributed_cents"] == 0
    assert result["undistributed_cents"] == 4250


LINES = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=30)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(
    result=st.integers(min_value=-(10**12), max_value=10**13),
    rate=st.integers(min_value=0, max_value=4250),
    holdings=LINES,
)
def test_the_distribution_sums_exactly(result, rate, holdings):
    computed = compute_distribution(
        result_cents=result,
        rate_basis_points=rate,
        schedule=SCHEDULE,
        lines=[line(i, shares, years) for i, (shares, years) in enumerate(holdings)],
    )
    cap = computed["cap_cents"]
    assert cap == (max(result, 0) * rate) // 10000
    assert cap * 1000 <= max(result, 0) * 425  # never above 42.5 %
    amounts = [row["amount_cents"] for row in computed["lines"]]
    assert sum(amounts) == cap == computed["distributed_cents"]
    assert all(amount >= 0 for amount in amounts)
    total = computed["total_weight"]
    for row in computed["lines"]:
        exact = Fraction(cap * row["weight"], total)
        assert Fraction(row["exact"]) == exact
        assert row["amount_cents"] - exact < 1 and exact - row["amount_cents"] < 1
        assert row["amount_cents"] == row["floor_cents"] + row["extra_cent"]


@pytest.mark.parametrize(
    "change",
    [
        {"distribution_rate_basis_points": 4251},
        {"admission": "anyone"},
        {"horizon_weights": [{"min_years": 3, "weight_percent": 50}]},
        {
            "horizon_weights": [
                {"min_years": 10, "weight_percent": 40},
                {"min_years": 0, "weight_percent": 100},
            ]
        },
    ],
)
def test_rules_cannot_pass_the_ceiling_or_reverse_the_schedule(change):
    with pytest.raises(InvalidRules):
        validate_section({**DEFAULT_SECTION, **change})


def test_the_general_assembly_approves_the_accounts_and_investors_receive(
    body, operator, board_member, investor, client_member
):
    other = admitted(body, UserFactory(), "investors", shares=10, horizon=3, by=operator)
    proposal = general_assembly(
        board_member,
        "approve_accounts",
        {"year": 2025, "result_cents": 1_234_567, "accounts_digest": ACCOUNTS_DIGEST},
        voters=[board_member, investor, client_member, other],
    )
    assert proposal.status == ProposalStatus.EXECUTED
    distribution = Distribution.objects.get(year=2025)
    assert distribution.cap_cents == 1_234_567 * 4250 // 10000 == 524_690
    amounts = dict(Allocation.objects.values_list("membership__public_id", "amount_cents"))
    assert sum(amounts.values()) == distribution.distributed_cents == 524_690
    # 30 shares × 100 % against 10 shares × 60 %: 3000 / 3600 and 600 / 3600 of the cap
    assert amounts[investor.public_id] == 437_241 or amounts[investor.public_id] == 437_242
    assert board_member.public_id not in amounts  # only the investors college receives
    assert distribution.digest == computation_digest(distribution.computation)
    entry = Transaction.objects.get(kind="cooperative.distribution.record")
    assert entry.payload["computation"] == distribution.digest
    assert entry.actor == body.identity.did


def test_a_year_is_approved_once(body, board_member, investor):
    general_assembly(
        board_member,
        "approve_accounts",
        {"year": 2024, "result_cents": 100, "accounts_digest": ACCOUNTS_DIGEST},
        voters=[board_member, investor],
    )
    with pytest.raises(InvalidInput):
        proposal_create(
            author=board_member,
            kind="approve_accounts",
            title="again",
            parameters={"year": 2024, "result_cents": 100, "accounts_digest": ACCOUNTS_DIGEST},
        )


def test_a_rejected_vote_distributes_nothing(body, board_member, investor):
    proposal = general_assembly(
        board_member,
        "approve_accounts",
        {"year": 2023, "result_cents": 100_000, "accounts_digest": ACCOUNTS_DIGEST},
        voters=[board_member, investor],
        choice="no",
    )
    assert proposal.status == ProposalStatus.REJECTED
    assert not Distribution.objects.exists()

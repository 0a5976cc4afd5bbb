"""Treasury movements: double entry in integer cents (postings sum to zero), each on the
ledger, and money leaves the bank only through an executed fund_project proposal."""

from __future__ import annotations

import pytest

from governance.errors import InsufficientFunds, InvalidRules, NotAllowed
from governance.models import Movement, Posting, Proposal
from governance.services import proposal_execute, sha256_text, treasury_move, vote_cast

from .helpers import (
    balance,
    city_transactions,
    close,
    draft,
    fund,
    open_vote,
    writes_nothing,
)

pytestmark = pytest.mark.django_db

PAYOUT = [("project-payouts", 5_000), ("bank", -5_000)]


@pytest.fixture
def accepted_project(city, mayor, provider) -> Proposal:
    """A fund_project proposal for 50.00 €, accepted but not executed yet."""
    proposal = open_vote(
        draft(mayor, "fund_project", amount_cents=5_000, recipient=provider.identity.did)
    )
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    accepted = close(proposal)
    assert accepted.status == "accepted"
    return accepted


def test_income_is_a_balanced_movement_on_the_ledger(city):
    movement = treasury_move(
        city=city,
        label="Subvention de la région",
        postings=[("bank", 120_000), ("grants", -100_000), ("impact-funds", -20_000)],
    )
    assert sorted(movement.postings.values_list("account__code", "amount_cents")) == [
        ("bank", 120_000),
        ("grants", -100_000),
        ("impact-funds", -20_000),
    ]
    assert (balance(city, "bank"), balance(city, "grants")) == (120_000, -100_000)
    assert movement.entry.kind == "governance.treasury.move"
    assert movement.entry.actor == city.identity.did
    assert movement.entry.payload == {
        "postings": [
            {"account": "bank", "amount_cents": 120_000},
            {"account": "grants", "amount_cents": -100_000},
            {"account": "impact-funds", "amount_cents": -20_000},
        ],
        "proposal": None,
        "label": sha256_text("Subvention de la région"),
    }


@pytest.mark.parametrize(
    "postings",
    [
        [],
        [("bank", 100), ("grants", -99)],  # does not balance
        [("bank", 100)],
        [("bank", 0), ("grants", 0)],
        [("bank", 100), ("grants", -100), ("fees", 0)],
        [("bank", 100.0), ("grants", -100.0)],  # no float, ever
        [("bank", "100"), ("grants", "-100")],
        [("bank", True), ("grants", -1)],
        [("bank", 100), ("treasure-chest", -100)],  # unknown account
    ],
)
def test_a_movement_must_balance_in_whole_cents_between_known_accounts(city, postings):
    with writes_nothing(), pytest.raises(InvalidRules):
        treasury_move(city=city, label="x", postings=postings)


def test_a_movement_touches_only_its_city_s_accounts(city, other_city):
    fund(city, 1_000)
    assert (balance(city, "bank"), balance(other_city, "bank")) == (1_000, 0)
    assert not city_transactions(other_city, "governance.treasury.move").exists()


def test_money_never_leaves_the_bank_without_a_proposal(city):
    fund(city, 10_000)
    with writes_nothing(), pytest.raises(NotAllowed):
        treasury_move(city=city, label="Retrait", postings=PAYOUT)
    assert balance(city, "bank") == 10_000


@pytest.mark.parametrize("state", ["draft", "open", "rejected"])
def test_money_never_leaves_the_bank_with_a_proposal_that_was_not_accepted(
    city, mayor, provider, state
):
    fund(city, 10_000)
    proposal = draft(mayor, "fund_project", amount_cents=5_000, recipient=provider.identity.did)
    if state != "draft":
        proposal = open_vote(proposal)
    if state == "rejected":
        vote_cast(proposal=proposal, member=mayor, choice="no")
        proposal = close(proposal)
    with writes_nothing(), pytest.raises(NotAllowed):
        treasury_move(city=city, label="Retrait", postings=PAYOUT, proposal=proposal)


def test_money_never_leaves_the_bank_with_another_city_s_proposal(
    city, other_city, accepted_project
):
    fund(other_city, 10_000)
    with writes_nothing(), pytest.raises(NotAllowed):
        treasury_move(city=other_city, label="x", postings=PAYOUT, proposal=accepted_project)


def test_an_accepted_project_is_paid_once(city, accepted_project):
    fund(city, 10_000)
    executed = proposal_execute(proposal=accepted_project)
    assert executed.status == "executed"
    with writes_nothing(), pytest.raises(NotAllowed):
        treasury_move(city=city, label="Encore", postings=PAYOUT, proposal=accepted_project)
    assert balance(city, "bank") == 5_000


def test_a_payout_beyond_the_balance_is_refused(city, accepted_project):
    fund(city, 4_999)
    with writes_nothing(), pytest.raises(InsufficientFunds):
        treasury_move(city=city, label="x", postings=PAYOUT, proposal=accepted_project)


def test_a_payout_of_the_whole_balance_is_allowed(city, accepted_project):
    fund(city, 5_000)
    movement = treasury_move(
        city=city, label="Paiement", postings=PAYOUT, proposal=accepted_project
    )
    assert balance(city, "bank") == 0
    assert balance(city, "project-payouts") == 5_000
    assert movement.proposal == accepted_project
    assert movement.entry.payload["proposal"] == accepted_project.public_id


def test_moving_money_between_other_accounts_needs_no_proposal(city):
    movement = treasury_move(
        city=city, label="Part de l'opérateur", postings=[("operator-share", 300), ("fees", -300)]
    )
    assert movement.proposal is None


def test_every_movement_is_on_the_ledger_and_the_books_balance(city, accepted_project):
    fund(city, 7_000)
    fund(city, 3_000)
    proposal_execute(proposal=accepted_project)
    movements = Movement.objects.filter(city=city)
    assert movements.count() == 3
    assert set(movements.values_list("entry__kind", flat=True)) == {"governance.treasury.move"}
    assert city_transactions(city, "governance.treasury.move").count() == 3
    for movement in movements:
        assert sum(movement.postings.values_list("amount_cents", flat=True)) == 0
    assert sum(Posting.objects.values_list("amount_cents", flat=True)) == 0
    assert balance(city, "bank") == 5_000

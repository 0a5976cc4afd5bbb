"""Executing an accepted proposal: once, recorded on the ledger; fund_project pays from the
treasury (bank -> project-payouts) when funds suffice, else the proposal fails with its reason
on the ledger and no money moves; amend_rules adopts the new rules; become_independent records
the decision; the Celery task does the same by id."""

from __future__ import annotations

import pytest

from governance.errors import InsufficientFunds
from governance.models import Movement, Proposal
from governance.rules import default_rules
from governance.services import proposal_execute, rules_in_force, vote_cast
from governance.tasks import execute_proposal

from .helpers import balance, city_transactions, close, draft, fund, open_vote, writes_nothing

pytestmark = pytest.mark.django_db


def accepted(author, mayor, kind="general", **parameters) -> Proposal:
    proposal = open_vote(draft(author, kind, **parameters), by=mayor)
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    proposal = close(proposal)
    assert proposal.status == "accepted", proposal.tally
    return proposal


def executions(city):
    return city_transactions(city, "governance.proposal.execute")


def test_a_general_proposal_is_executed_without_effect(city, mayor):
    proposal = proposal_execute(proposal=accepted(mayor, mayor))
    assert proposal.status == "executed" and proposal.executed_at is not None
    (entry,) = executions(city)
    assert entry.actor == city.identity.did
    assert entry.payload == {"proposal": proposal.public_id, "effect": "none"}


def test_execution_is_idempotent(city, mayor, provider):
    fund(city, 10_000)
    proposal = accepted(
        mayor, mayor, "fund_project", amount_cents=2_500, recipient=provider.identity.did
    )
    proposal_execute(proposal=proposal)
    with writes_nothing():
        again = proposal_execute(proposal=proposal)
    assert again.status == "executed"
    assert executions(city).count() == 1
    assert Movement.objects.filter(proposal=proposal).count() == 1
    assert balance(city, "bank") == 7_500


@pytest.mark.parametrize("state", ["draft", "open", "rejected"])
def test_only_an_accepted_proposal_is_executed(city, mayor, state):
    proposal = draft(mayor)
    if state != "draft":
        proposal = open_vote(proposal)
    if state == "rejected":
        vote_cast(proposal=proposal, member=mayor, choice="no")
        proposal = close(proposal)
    with writes_nothing():
        assert proposal_execute(proposal=proposal).status == state


def test_a_funded_project_is_paid_from_the_treasury(city, mayor, provider):
    fund(city, 10_000)
    proposal = proposal_execute(
        proposal=accepted(
            mayor, mayor, "fund_project", amount_cents=10_000, recipient=provider.identity.did
        )
    )
    assert proposal.status == "executed"
    (movement,) = Movement.objects.filter(proposal=proposal)
    assert sorted(movement.postings.values_list("account__code", "amount_cents")) == [
        ("bank", -10_000),
        ("project-payouts", 10_000),
    ]
    assert (balance(city, "bank"), balance(city, "project-payouts")) == (0, 10_000)
    (entry,) = executions(city)
    assert entry.payload == {
        "proposal": proposal.public_id,
        "effect": "paid",
        "amount_cents": 10_000,
        "movement": movement.public_id,
        "recipient": provider.identity.did,
    }
    assert movement.entry.index < entry.index


def test_a_project_the_treasury_cannot_pay_fails_and_no_money_moves(city, mayor, provider):
    fund(city, 9_999)
    proposal = accepted(
        mayor, mayor, "fund_project", amount_cents=10_000, recipient=provider.identity.did
    )
    moves = city_transactions(city, "governance.treasury.move").count()
    failed = proposal_execute(proposal=proposal)
    assert failed.status == "failed"
    assert failed.failure_reason == str(InsufficientFunds.default_message)
    assert failed.executed_at is None
    assert not Movement.objects.filter(proposal=proposal).exists()
    assert (balance(city, "bank"), balance(city, "project-payouts")) == (9_999, 0)
    assert city_transactions(city, "governance.treasury.move").count() == moves
    assert not executions(city).exists()
    (entry,) = city_transactions(city, "governance.proposal.fail")
    assert entry.actor == city.identity.did
    assert entry.payload == {"proposal": proposal.public_id, "reason": "insufficient_funds"}
    with writes_nothing():  # failed is final: a retry does not pay later
        assert proposal_execute(proposal=proposal).status == "failed"


def test_an_accepted_amendment_adopts_the_new_rules(city, mayor):
    rules = default_rules()
    rules["approval_threshold_percent"] = 60
    proposal = proposal_execute(proposal=accepted(mayor, mayor, "amend_rules", rules=rules))
    version = rules_in_force(city)
    assert (version.version, version.rules, version.adopted_by) == (2, rules, proposal)
    assert executions(city).get().payload == {
        "proposal": proposal.public_id,
        "effect": "rules_adopted",
        "version": 2,
    }


def test_becoming_independent_is_recorded(city, mayor):
    proposal = proposal_execute(proposal=accepted(mayor, mayor, "become_independent"))
    city.refresh_from_db()
    assert city.independent_at is not None
    assert executions(city).get().payload == {
        "proposal": proposal.public_id,
        "effect": "independent",
        "chain": "bourg",
    }


# deploy_service's effect is the app store's (governance.effects; tests/marketplace).
@pytest.mark.parametrize("kind", ["maintenance_autonomy"])
def test_kinds_whose_effect_lives_elsewhere_are_recorded_as_executed(city, mayor, kind):
    proposal = proposal_execute(proposal=accepted(mayor, mayor, kind))
    assert proposal.status == "executed"
    assert executions(city).get().payload["effect"] == "none"


def test_the_task_executes_by_id_and_ignores_a_missing_proposal(city, mayor, eager_celery):
    proposal = accepted(mayor, mayor)
    assert execute_proposal.delay(proposal.pk).get() == "executed"
    assert execute_proposal.delay(proposal.pk).get() == "executed"
    assert executions(city).count() == 1
    assert execute_proposal.delay(10**9).get() is None

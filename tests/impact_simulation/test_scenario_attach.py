"""A scenario shown with a proposal: on the ledger with its results digest."""

from __future__ import annotations

import pytest

from impact.errors import NotAllowed, NotFound, WrongState
from impact.simulation.selectors import can_see_scenario, scenarios_for_proposal
from impact.simulation.services import scenario_attach
from ledger.models import Transaction
from tests.factories import UserFactory
from tests.governance.helpers import draft, open_vote

from .helpers import known_scenario


@pytest.fixture
def proposal(mayor, resident):
    return draft(mayor, "fund_project", amount_cents=1_000_000, recipient=resident.identity.did)


def test_staff_attach_a_scenario_to_a_proposal_with_its_results_digest(scenario, proposal, staff):
    attachment = scenario_attach(scenario=scenario, proposal=proposal, by=staff)
    entry = Transaction.objects.get(pk=attachment.entry_id)
    assert entry.kind == "impact.scenario.attach"
    assert entry.payload["results"] == scenario.results_digest == attachment.results_digest
    assert entry.payload["proposal"] == proposal.public_id
    assert scenarios_for_proposal(proposal=proposal) == [attachment]


def test_once_the_vote_opens_anyone_may_see_the_attached_scenario(scenario, proposal, staff, mayor):
    stranger = UserFactory()
    assert not can_see_scenario(stranger, scenario)
    scenario_attach(scenario=scenario, proposal=proposal, by=staff)
    assert not can_see_scenario(stranger, scenario)  # the proposal is still a draft
    open_vote(proposal, by=mayor)
    assert can_see_scenario(stranger, scenario)


def test_a_scenario_is_attached_once(scenario, proposal, staff):
    scenario_attach(scenario=scenario, proposal=proposal, by=staff)
    with pytest.raises(WrongState):
        scenario_attach(scenario=scenario, proposal=proposal, by=staff)


def test_a_resident_cannot_attach(scenario, proposal, resident):
    before = Transaction.objects.count()
    with pytest.raises(NotAllowed):
        scenario_attach(scenario=scenario, proposal=proposal, by=resident.user)
    assert Transaction.objects.count() == before


def test_a_proposal_of_another_city_is_not_found(other_city, operator, proposal):
    from tests.governance.helpers import appoint

    other_staff = appoint(other_city, operator).user
    foreign = known_scenario(other_city, other_staff)
    with pytest.raises(NotFound):
        scenario_attach(scenario=foreign, proposal=proposal, by=other_staff)

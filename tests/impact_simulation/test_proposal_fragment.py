"""The fragment the proposal page includes: the attached scenario's expected impact."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from governance.models import Proposal
from impact.simulation.services import scenario_attach
from tests.governance.helpers import draft


def test_the_proposal_fragment_shows_the_attached_scenario(scenario, mayor, resident, staff):
    proposal = draft(mayor, "fund_project", amount_cents=1_000, recipient=resident.identity.did)
    assert (
        render_to_string(
            "impact/simulation/_proposal_scenarios.html", {"proposal": proposal}
        ).strip()
        == ""
    )
    scenario_attach(scenario=scenario, proposal=proposal, by=staff)
    with translation.override("en"):
        html = render_to_string(
            "impact/simulation/_proposal_scenarios.html",
            {"proposal": Proposal.objects.get(pk=proposal.pk)},
        )
    assert "Piste cyclable du centre" in html
    assert "13.2.2" in html
    assert "24,125" in html  # the expected kg CO2e over the schedule
    assert "-5070" in html
    assert scenario.results_digest in html

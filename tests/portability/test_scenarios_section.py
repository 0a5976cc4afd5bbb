"""A city that leaves keeps its impact scenarios: every version, its methodology values and
results, and its attachment to a proposal, each checked against its ledger transaction."""

from __future__ import annotations

import json

import pytest

from governance.models import City, CollegeKind, Membership, Proposal
from impact.services import impact_load_catalogue
from impact.simulation.models import Scenario, ScenarioAttachment, ScenarioImpact
from impact.simulation.selectors import forecast_vs_certified
from impact.simulation.services import scenario_attach
from ledger.services import chain_seal
from smartb.portability import ImportRefused
from smartb.portability.services import city_export, city_import
from tests.impact_simulation.helpers import cycling_impact, known_scenario, renovation_impact

from .helpers import city_view, export_dir, rewrite_json, row_counts, wipe_database


def scenarios_view(slug: str) -> dict:
    """The city's scenarios as the pages read them (no database key)."""
    city = City.objects.get(slug=slug)
    return {
        "scenarios": sorted(
            Scenario.objects.filter(city=city).values_list(
                "public_id",
                "code",
                "version",
                "title",
                "cost_cents",
                "districts",
                "inputs_digest",
                "results_digest",
                "results",
                "created_by__email",
                "entry__tx_hash",
                "created_at",
            )
        ),
        "impacts": sorted(
            ScenarioImpact.objects.filter(scenario__city=city).values_list(
                "scenario__public_id",
                "position",
                "methodology__code",
                "methodology__version",
                "methodology__digest",
                "low",
                "expected",
                "high",
                "fallback_price_cents",
            )
        ),
        "attachments": sorted(
            ScenarioAttachment.objects.filter(scenario__city=city).values_list(
                "public_id",
                "scenario__public_id",
                "proposal__public_id",
                "results_digest",
                "attached_by__email",
                "entry__tx_hash",
                "created_at",
            )
        ),
    }


@pytest.fixture
def city_with_scenarios(city):
    # A transactional test before this one flushed what the data migration loaded.
    impact_load_catalogue()
    staff = Membership.objects.get(
        city=city, status="approved", college__kind=CollegeKind.MUNICIPALITY
    ).user
    first = known_scenario(city, staff, impacts=[cycling_impact(), renovation_impact()])
    known_scenario(city, staff, revises=first, cost_cents=800_000)
    open_vote = Proposal.objects.filter(city=city, status="open").first()
    scenario_attach(scenario=first, proposal=open_vote, by=staff)
    chain_seal(chain=city.chain)
    return City.objects.get(pk=city.pk)


def test_the_imported_city_keeps_its_scenarios(city_with_scenarios, tmp_path):
    before = scenarios_view("bourg")
    forecast = forecast_vs_certified(scenario=Scenario.objects.get(version=1))
    directory = export_dir(tmp_path)
    city_export(city=city_with_scenarios, directory=directory)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"]["scenarios.json"]["rows"] == 2 + 3 + 1  # versions, impacts, attachment
    wipe_database()

    city_import(directory=directory)

    after = scenarios_view("bourg")
    for key in before:
        assert after[key] == before[key], key
    assert len(after["scenarios"]) == 2 and len(after["attachments"]) == 1
    # The forecast reads the same (the methodologies' public ids are this instance's own).
    assert forecast_vs_certified(scenario=Scenario.objects.get(version=1)) == forecast
    assert city_view("bourg")["chain"]["checkpoint"] == manifest["chain"]["checkpoint"]


def test_a_scenario_that_disagrees_with_its_transaction_is_refused(city_with_scenarios, tmp_path):
    directory = export_dir(tmp_path)
    city_export(city=city_with_scenarios, directory=directory)
    wipe_database()

    def inflate(data):
        scenario = data["tables"]["scenarios"][0]
        scenario["results"]["with_impact"]["roi_bp"] = 9000

    rewrite_json(directory, "scenarios.json", inflate, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match="scenario"):
        city_import(directory=directory)
    assert row_counts() == counts
    assert not Scenario.objects.exists()

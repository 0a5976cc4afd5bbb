"""The impact simulation pages: build, read, compare and attach scenarios."""

from __future__ import annotations

import pytest
from django.urls import reverse

from impact.models import Methodology
from impact.simulation.models import Scenario, ScenarioAttachment
from tests.governance.helpers import draft
from tests.impact_simulation.helpers import known_scenario

pytestmark = pytest.mark.django_db


def url(name: str, city, *args) -> str:
    return reverse(f"impact_simulation:{name}", args=[city.slug, *args])


def logged_in(client, user):
    client.force_login(getattr(user, "user", user))
    return client


def cycling() -> Methodology:
    return Methodology.objects.get(code="cycling-instead-of-car", version=1)


CYCLING = "cycling-instead-of-car__"


def form_data(**overrides) -> dict:
    """The scenario form for the cycling methodology; parameter fields are named
    `<methodology code>__<low|expected|high>_<parameter>`."""
    return {
        "methodology": cycling().public_id,
        "title": "Piste cyclable nord",
        "kind": "cycle_lane",
        "cost": "10000",
        "annual_savings": "1000",
        "start_year": "2027",
        "years": "3",
        "ramp_years": "2",
        "districts": "centre",
        f"{CYCLING}low_distance_km": "30000",
        f"{CYCLING}expected_distance_km": "50000",
        f"{CYCLING}high_distance_km": "70000",
        f"{CYCLING}fallback_price_cents": "8",
        **overrides,
    }


def test_staff_build_a_scenario_and_see_its_results(client, city, staff):
    logged_in(client, staff)
    form = client.get(url("create", city), {"methodology": cycling().public_id})
    assert form.status_code == 200
    assert f"{CYCLING}expected_distance_km".encode() in form.content

    response = client.post(url("create", city), form_data())

    scenario = Scenario.objects.get(city=city, title="Piste cyclable nord")
    assert response.status_code == 302
    assert response["Location"] == url("detail", city, scenario.public_id)
    assert scenario.cost_cents == 1_000_000
    assert scenario.annual_savings_cents == 100_000
    assert scenario.districts == ["centre"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "<svg" in text and "2028" in text
    assert 'id="roi-financial">-7,000' in text.replace("\u00a0", "")  # hand-computed
    assert 'id="roi-impact">-5,070' in text.replace("\u00a0", "")


def test_a_missing_parameter_is_a_form_error(client, city, staff):
    logged_in(client, staff)
    response = client.post(url("create", city), form_data(**{f"{CYCLING}high_distance_km": ""}))
    assert response.status_code == 400
    assert not Scenario.objects.filter(city=city).exists()


def test_an_impossible_range_is_the_services_error(client, city, staff):
    logged_in(client, staff)
    response = client.post(url("create", city), form_data(**{f"{CYCLING}low_distance_km": "90000"}))
    assert response.status_code == 400
    assert "low ≤ expected ≤ high" in response.content.decode()
    assert not Scenario.objects.filter(city=city).exists()


def test_a_resident_cannot_build_a_scenario(client, city, resident):
    logged_in(client, resident)
    assert client.get(url("create", city)).status_code == 403
    assert client.post(url("create", city), form_data()).status_code == 403
    assert not Scenario.objects.filter(city=city).exists()


def test_a_resident_reads_the_scenarios_but_cannot_attach(client, city, resident, scenario):
    logged_in(client, resident)
    listing = client.get(url("list", city))
    assert listing.status_code == 200
    assert scenario.title in listing.content.decode()
    detail = client.get(url("detail", city, scenario.public_id))
    assert detail.status_code == 200
    assert b"Attach to the proposal" not in detail.content


def test_anonymous_visitors_are_sent_to_log_in(client, city, scenario):
    response = client.get(url("detail", city, scenario.public_id))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_another_citys_staff_get_403_and_404(client, city, other_city, scenario, foreign_staff):
    logged_in(client, foreign_staff)
    assert client.get(url("detail", city, scenario.public_id)).status_code == 403
    assert client.post(url("create", city), form_data()).status_code == 403
    # Their own city's address does not reveal the scenario either.
    assert client.get(url("detail", other_city, scenario.public_id)).status_code == 404
    assert client.post(url("attach", other_city, scenario.public_id)).status_code == 404


def test_compare_two_scenarios_as_table_and_csv(client, city, staff, scenario):
    other = known_scenario(city, staff, title="Piste longue", years=5)
    logged_in(client, staff)
    query = {"scenarios": [scenario.public_id, other.public_id]}
    page = client.get(url("compare", city), query)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Piste cyclable du centre" in text and "Piste longue" in text
    csv = client.get(url("compare_csv", city), query)
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("scenario,version,title")
    assert len(lines) == 3
    assert scenario.public_id in lines[1] and "24125" in lines[1]  # hand-computed total


def test_compare_needs_two_scenarios(client, city, staff, scenario):
    logged_in(client, staff)
    query = {"scenarios": [scenario.public_id]}
    assert client.get(url("compare", city), query).status_code == 400
    assert client.get(url("compare_csv", city), query).status_code == 400


def test_staff_attach_a_scenario_to_a_draft_proposal(client, city, mayor, staff, scenario):
    proposal = draft(mayor)
    logged_in(client, staff)
    page = client.get(url("detail", city, scenario.public_id))
    assert proposal.title in page.content.decode()
    response = client.post(
        url("attach", city, scenario.public_id), {"proposal": proposal.public_id}
    )
    assert response.status_code == 302
    assert ScenarioAttachment.objects.filter(scenario=scenario, proposal=proposal).exists()
    again = client.post(url("attach", city, scenario.public_id), {"proposal": proposal.public_id})
    assert again.status_code == 409
    assert ScenarioAttachment.objects.filter(scenario=scenario).count() == 1


def test_a_resident_cannot_attach(client, city, mayor, resident, scenario):
    proposal = draft(mayor)
    logged_in(client, resident)
    response = client.post(
        url("attach", city, scenario.public_id), {"proposal": proposal.public_id}
    )
    assert response.status_code == 403
    assert not ScenarioAttachment.objects.exists()


def test_the_impact_navigation_links_to_the_scenarios(client, city, resident):
    logged_in(client, resident)
    page = client.get(reverse("impact:home", args=[city.slug]))
    assert url("list", city).encode() in page.content


def test_staff_build_a_scenario_on_two_methodologies_and_compare_it(client, city, staff, scenario):
    energy = Methodology.objects.get(code="energy-saved", version=1)
    logged_in(client, staff)
    step_one = client.get(
        url("create", city), {"methodology": [cycling().public_id, energy.public_id]}
    )
    assert step_one.status_code == 200
    assert b"energy-saved__low_metered_kwh" in step_one.content
    renovation = "energy-saved__"
    response = client.post(
        url("create", city),
        form_data(
            title="Piste et rénovation",
            methodology=[cycling().public_id, energy.public_id],
            **{
                f"{renovation}low_baseline_kwh": "90000",
                f"{renovation}expected_baseline_kwh": "100000",
                f"{renovation}high_baseline_kwh": "110000",
                f"{renovation}low_metered_kwh": "50000",
                f"{renovation}expected_metered_kwh": "60000",
                f"{renovation}high_metered_kwh": "75000",
                f"{renovation}fallback_price_cents": "2",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    both = Scenario.objects.get(city=city, title="Piste et rénovation")
    assert [i["total"]["expected"] for i in both.results["impacts"]] == [24125, 100_000]
    detail = client.get(response["Location"]).content.decode()
    assert detail.count('class="chart__svg"') == 2
    assert 'id="roi-impact">-3,070' in detail.replace("\u00a0", "")  # hand-computed

    page = client.get(url("compare", city), {"scenarios": [scenario.public_id, both.public_id]})
    text = page.content.decode()
    for chart in ("compare-chart-0", "compare-chart-1", "compare-chart-value"):
        assert f'data-testid="{chart}"' in text
    assert text.count("<svg") == 3 and "3,930.00" in text  # 393,000 cents of token value


def test_choosing_no_methodology_is_a_400(client, city, staff):
    logged_in(client, staff)
    assert client.get(url("create", city), {"methodology": "nope"}).status_code == 400
    assert client.get(url("create", city)).status_code == 200

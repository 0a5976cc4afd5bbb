"""The SDG catalogue and a methodology's page: public, from the shipped data file."""

from __future__ import annotations

from impact.models import Methodology

from .conftest import url


def test_the_catalogue_lists_the_17_goals_and_cites_its_source(client, city):
    response = client.get(url("catalogue", city))
    assert response.status_code == 200
    page = response.content.decode()
    for number in range(1, 18):
        assert f'id="goal-{number}"' in page
    assert "unstats.un.org/sdgs/indicators" in page
    assert "13.2.2" in page and "t CO2e" in page  # an indicator with its unit


def test_a_methodology_shows_its_formula_factors_with_source_and_evidence(client, city):
    methodology = Methodology.objects.get(code="cycling-instead-of-car", version=1)
    response = client.get(url("methodology", city, methodology.public_id))
    assert response.status_code == 200
    page = response.content.decode()
    assert methodology.formula in page
    factor = methodology.factors.first()
    assert factor.name in page and factor.source in page
    assert "trip-log" in page  # the requirement's code
    assert "Claim an impact with this methodology" not in page  # anonymous


def test_an_unknown_methodology_is_404(client, city):
    assert client.get(url("methodology", city, "nope")).status_code == 404

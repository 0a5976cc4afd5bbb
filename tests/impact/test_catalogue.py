"""The SDG catalogue shipped in impact/data/sdg.json: its source cited, idempotent loading,
every indicator with a unit, every methodology computable from its own names."""

from __future__ import annotations

from impact import formulas
from impact.catalogue import catalogue_data
from impact.models import EmissionFactor, Goal, Indicator, Methodology, TokenClass
from impact.services import impact_load_catalogue


def test_the_file_cites_the_un_framework():
    source = catalogue_data()["source"]
    assert "A/RES/71/313" in source["adopted_by"]
    assert source["url"] == "https://unstats.un.org/sdgs/indicators/indicators-list/"


def test_loading_twice_changes_nothing(catalogue):
    before = (Goal.objects.count(), Indicator.objects.count(), Methodology.objects.count())
    impact_load_catalogue()
    after = (Goal.objects.count(), Indicator.objects.count(), Methodology.objects.count())
    assert before == after == (17, len(catalogue_data()["indicators"]), 3)


def test_every_indicator_has_a_unit_and_its_goal(catalogue):
    for indicator in Indicator.objects.select_related("target__goal"):
        assert indicator.unit and indicator.unit_code
        assert indicator.code.startswith(f"{indicator.target.code}.")
        assert indicator.target.goal.number == indicator.goal_number


def test_every_formula_uses_only_its_parameters_and_factors(catalogue):
    for methodology in Methodology.objects.prefetch_related("parameters", "factors"):
        names = {p.name for p in methodology.parameters.all()} | {
            f.name for f in methodology.factors.all()
        }
        assert formulas.names_in(methodology.formula) <= names, methodology.code


def test_the_cycling_factor_comes_from_ademe(catalogue):
    car = EmissionFactor.objects.get(name="car_kgco2e_per_km")
    assert str(car.value.normalize()) == "0.193" and car.unit == "kg CO2e/km"
    assert "ADEME Base Carbone" in car.source
    assert TokenClass.objects.get(code="tco2e-avoided").precision == 3


def test_titles_follow_the_language(catalogue):
    from django.utils import translation

    goal = Goal.objects.get(number=11)
    with translation.override("fr"):
        assert goal.title == "Villes et communautés durables"
    with translation.override("en"):
        assert goal.title == "Sustainable cities and communities"

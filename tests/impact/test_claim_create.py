"""A member's own claim: the quantity is computed from the measured values by the
methodology (never typed in); values are checked against its parameters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from impact.errors import InvalidInput, InvalidParameters, NotAllowed, WrongState
from impact.models import Methodology
from impact.services import claim_create, claim_submit, methodology_publish
from ledger.models import Transaction

from .helpers import PERIOD, cycling, draft_claim, writes_nothing


def test_the_quantity_is_computed_and_recorded(resident):
    claim = draft_claim(resident, "12.5")
    assert claim.parameters == {"distance_km": "12.5"}
    assert claim.quantity == 2  # 12.5 × 0.193 = 2.4125 kg, rounded down
    assert claim.unit == "kg CO2e" and claim.token_class.code == "tco2e-avoided"
    assert claim.indicator.code == "13.2.2" and claim.state == "draft"
    payload = claim.entry.payload
    assert claim.entry.kind == "impact.claim.create"
    assert claim.entry.actor == resident.identity.did
    assert payload["quantity"] == 2 and payload["methodology_digest"] == cycling().digest
    assert payload["parameters"] == claim.parameters_digest


def test_values_are_written_one_way(resident):
    assert draft_claim(resident, "12.50").parameters == {"distance_km": "12.5"}
    assert draft_claim(resident, "100").parameters == {"distance_km": "100"}


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"distance_km": "12", "speed": "3"},
        {"distance": "12"},
        {"distance_km": 12.5},
        {"distance_km": "douze"},
        {"distance_km": "-1"},
        {"distance_km": "100001"},
        {"distance_km": "NaN"},
        {"distance_km": "Infinity"},
        ["distance_km"],
    ],
)
def test_values_outside_the_methodology_are_refused(resident, parameters):
    with writes_nothing(), pytest.raises(InvalidParameters):
        draft_claim(resident, parameters=parameters)


def test_integer_parameters_refuse_fractions(resident):
    energy = Methodology.objects.get(code="energy-saved", version=1)
    with writes_nothing(), pytest.raises(InvalidParameters):
        draft_claim(
            resident, methodology=energy, parameters={"baseline_kwh": "10.5", "metered_kwh": "3"}
        )
    claim = draft_claim(
        resident, methodology=energy, parameters={"baseline_kwh": "1200", "metered_kwh": "900"}
    )
    assert claim.quantity == 300 and claim.unit == "kWh"


def test_a_negative_result_is_refused(resident):
    energy = Methodology.objects.get(code="energy-saved", version=1)
    with writes_nothing(), pytest.raises(InvalidParameters):
        draft_claim(
            resident, methodology=energy, parameters={"baseline_kwh": "100", "metered_kwh": "900"}
        )


def test_periods_are_ordered_and_past(resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        draft_claim(resident, period_start=PERIOD[1], period_end=PERIOD[0])
    tomorrow = timezone.localdate() + timedelta(days=1)
    with writes_nothing(), pytest.raises(InvalidInput):
        draft_claim(resident, period_start=date(2026, 1, 1), period_end=tomorrow)


def test_districts_are_codes(resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        draft_claim(resident, district_code="quartier des Lilas")


def test_only_an_approved_member_claims_for_themselves(resident, neighbour):
    with writes_nothing(), pytest.raises(NotAllowed):
        claim_create(
            claimant=resident,
            by=neighbour.user,
            methodology=cycling(),
            parameters={"distance_km": "10"},
            period_start=PERIOD[0],
            period_end=PERIOD[1],
        )


def test_an_unknown_service_is_refused(resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        draft_claim(resident, service_ref="nope")


def test_a_claim_names_the_service_deployed_in_the_city(resident, deployment):
    claim = draft_claim(resident, service_ref=deployment.public_id)
    assert claim.service_ref == deployment.public_id
    assert claim.entry.payload["service"] == deployment.public_id


def test_a_retired_methodology_version_takes_no_new_claim(resident, operator):
    definition = {
        "code": "cycling-instead-of-car",
        "version": 2,
        "indicator": "13.2.2",
        "token_class": "tco2e-avoided",
        "en": "Kilometres cycled instead of driven",
        "fr": "Kilomètres à vélo au lieu de la voiture",
        "formula": "distance_km * car_kgco2e_per_km / 1000",
        "parameters": [
            {
                "name": "distance_km",
                "en": "d",
                "fr": "d",
                "unit": "km",
                "kind": "decimal",
                "min": "0",
                "max": "1000",
            }
        ],
        "factors": [
            {"name": "car_kgco2e_per_km", "value": "0.2", "unit": "kg CO2e/km", "source": "test"}
        ],
        "requirements": [],
    }
    v2 = methodology_publish(by=operator, definition=definition)
    assert Transaction.objects.filter(kind="impact.methodology.publish").count() == 1
    with writes_nothing(), pytest.raises(WrongState):
        draft_claim(resident)
    claim = draft_claim(resident, methodology=v2)
    assert claim.quantity == 200  # 1000 km × 0.2 kg, no evidence required by this version


def test_submitting_twice_is_refused(resident):
    claim = draft_claim(resident)
    claim_submit(claim=claim, by=resident.user)
    with writes_nothing(), pytest.raises(WrongState):
        claim_submit(claim=claim, by=resident.user)


def test_only_its_claimant_submits(resident, neighbour):
    claim = draft_claim(resident)
    with writes_nothing(), pytest.raises(NotAllowed):
        claim_submit(claim=claim, by=neighbour.user)

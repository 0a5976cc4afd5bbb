"""The forecast-against-certified page of a scenario: its charts, tables and CSV, the
fragment HTMX swaps, who may read it, the methodology version shown, and its query count."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.governance.helpers import join
from tests.impact.helpers import approve, submitted_claim
from tests.impact_simulation.helpers import cycling_impact, known_scenario
from tests.impact_simulation.test_selectors import _publish_cycling_v2

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_member(city, staff):
    from impact.services import curator_grant

    member = join(city, "residents", by=staff)
    curator_grant(city=city, membership=member, by=staff)
    return member


@pytest.fixture
def forecast(city, staff):
    """1000 km a year of cycling from 2026, in the centre and the north: 193 kg a year."""
    return known_scenario(
        city,
        staff,
        start_year=2026,
        years=2,
        ramp_years=1,
        districts=["centre", "nord"],
        impacts=[
            cycling_impact(
                low={"distance_km": "800"},
                expected={"distance_km": "1000"},
                high={"distance_km": "1200"},
            )
        ],
    )


def url(city, scenario, **query) -> str:
    path = reverse("impact_simulation:forecast", args=[city.slug, scenario.public_id])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def certify(member, curator, km: str, district: str, **fields):
    return approve(submitted_claim(member, km, district_code=district, **fields), curator)


def test_the_page_plots_forecast_against_certified_per_district(
    client, city, resident, curator_member, forecast
):
    certify(resident, curator_member, "1000", "centre")
    certify(resident, curator_member, "500", "nord")
    client.force_login(resident.user)

    page = client.get(url(city, forecast))

    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="forecast-chart"' in text and "<svg" in text
    table = text[text.index('id="forecast-table-cycling-instead-of-car"') :]
    # 2026: forecast 193 kg, certified 193 + 96 (500 km → 96.5 → 96 kg) = 289 kg.
    row_2026 = table[table.index('<th scope="row">2026</th>') :].split("</tr>")[0]
    assert "289" in row_2026
    districts = text[text.index('id="district-table-cycling-instead-of-car"') :]
    assert ">centre<" in districts and ">nord<" in districts
    assert "version-mismatch" not in text
    detail = client.get(reverse("impact_simulation:detail", args=[city.slug, forecast.public_id]))
    assert url(city, forecast).encode() in detail.content


def test_both_tables_are_csv(client, city, resident, curator_member, forecast):
    certify(resident, curator_member, "1000", "centre")
    client.force_login(resident.user)

    rows = list(
        csv.DictReader(io.StringIO(client.get(url(city, forecast, format="csv")).content.decode()))
    )
    assert [(r["year"], r["forecast"], r["certified"]) for r in rows] == [
        ("2026", "193", "193"),
        ("2027", "193", "0"),
    ]
    response = client.get(url(city, forecast, format="csv", table="districts"))
    assert response["Content-Type"].startswith("text/csv")
    districts = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["year"], r["district"], r["certified"]) for r in districts] == [
        ("2026", "centre", "193")
    ]


def test_another_methodology_version_is_shown_and_not_counted(
    client, city, operator, resident, curator_member, forecast
):
    v2 = _publish_cycling_v2(operator)
    certify(resident, curator_member, "300", "centre", methodology=v2)
    client.force_login(resident.user)

    text = client.get(url(city, forecast)).content.decode()

    assert 'data-testid="version-mismatch-cycling-instead-of-car"' in text
    rows = list(
        csv.DictReader(io.StringIO(client.get(url(city, forecast, format="csv")).content.decode()))
    )
    assert rows[0]["certified"] == "0"
    assert rows[0]["other_versions"] == "2"
    assert int(rows[0]["certified_other_versions"]) > 0


def test_the_fragment_is_the_figures_only(client, city, resident, forecast):
    client.force_login(resident.user)
    response = client.get(
        url(city, forecast, indicator="cycling-instead-of-car"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="forecast-figures"')
    assert "<html" not in text
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_who_may_read_it(client, city, other_city, forecast, foreign_staff):
    assert client.get(url(city, forecast)).status_code == 302  # to log in
    client.force_login(foreign_staff)
    assert client.get(url(city, forecast)).status_code == 403
    assert client.get(url(other_city, forecast)).status_code == 404


def test_the_query_count_does_not_grow_with_the_claims(
    client, city, resident, neighbour, curator_member, forecast
):
    certify(resident, curator_member, "1000", "centre")
    client.force_login(resident.user)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(city, forecast)).status_code == 200
    certify(neighbour, curator_member, "400", "nord")
    certify(
        neighbour,
        curator_member,
        "700",
        "centre",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
    )
    with CaptureQueriesContext(connection) as three:
        assert client.get(url(city, forecast)).status_code == 200
    assert len(three) == len(one)

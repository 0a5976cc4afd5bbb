"""The SDG dashboard: the municipality's (staff only) and the public one (aggregates only);
charts as server-rendered SVG with their tables, each table as CSV; a constant number of
queries whatever the number of claims, batches and holdings."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from impact import services
from impact.models import Claim
from tests.impact.helpers import approve, cycling, issued, portfolio, submitted_claim, tco2e

from .conftest import HX, logged_in, queries, url


def service_claims(city, deployment, provider_member, member, reference: str, months=(3,)):
    """Claims the deployed service submits for `member` (one per month of 2026)."""
    items = []
    for month in months:
        start, end = date(2026, month, 1), date(2026, month, 28)
        dataset = f"trajets-{month}"
        items.append(
            {
                "claimant": member.public_id,
                "methodology": cycling().public_id,
                "parameters": {"distance_km": "100"},
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "district": f"quartier-{month}",
                "evidence": [
                    {
                        "type": "trip-dataset",
                        "dataset": dataset,
                        "sha256": hashlib.sha256(dataset.encode()).hexdigest(),
                    }
                ],
            }
        )
    batch = services.claim_batch_submit(
        city=city,
        service_ref=deployment.public_id,
        by=provider_member.user,
        reference=reference,
        items=items,
    )
    return list(Claim.objects.filter(batch=batch))


def test_the_public_dashboard_shows_charts_with_their_tables(
    client, city, resident, curator_member
):
    issued(resident, curator_member, "1000", district_code="centre")
    response = client.get(url("dashboard_public", city) + "?period=all")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('role="img"') >= 4  # by month, by district, tokens, inflows
    assert '<title id="chart-month-' in page and "<desc id=" in page
    assert 'id="total-13.2.2"' in page and "193\u00a0kg CO2e" in page
    assert "<caption>" in page  # each chart's data table
    assert "centre" in page
    assert "Claims by state" not in page  # staff only
    assert "Manage impact in the city" not in page


def test_the_staff_dashboard_is_for_municipality_staff_only(client, city, resident, staff):
    assert logged_in(client, resident).get(url("dashboard", city)).status_code == 403
    page = logged_in(client, staff).get(url("dashboard", city)).content.decode()
    assert "Claims by state" in page and "Manage impact in the city" in page


def test_each_table_downloads_as_csv(client, city, resident, curator_member):
    issued(resident, curator_member, "1000", district_code="centre")
    response = client.get(url("dashboard_public", city) + "?period=all&format=csv&table=impact")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["month", "goal", "indicator", "token_class", "unit", "quantity", "claims"]
    assert rows[1] == ["2026-03", "13", "13.2.2", "tco2e-avoided", "kg CO2e", "193", "1"]
    tokens = client.get(url("dashboard_public", city) + "?format=csv&table=tokens")
    rows = list(csv.reader(io.StringIO(tokens.content.decode("utf-8-sig"))))
    assert rows[1] == ["tco2e-avoided", "kg CO2e", "193", "193", "0", "0", "0"]
    assert client.get(url("dashboard_public", city) + "?format=csv&table=nope").status_code == 404
    # Claims by state are the staff's.
    claims = client.get(url("dashboard_public", city) + "?format=csv&table=claims")
    assert claims.status_code == 404


def test_the_period_filter_swaps_the_figures_fragment(client, city, resident, curator_member):
    issued(resident, curator_member, "1000")
    fragment = client.get(url("dashboard_public", city) + "?period=all", **HX).content.decode()
    assert fragment.lstrip().startswith('<div id="dashboard-figures"')
    assert "<html" not in fragment


def test_the_dashboard_asks_the_same_number_of_queries_for_1_or_many_claims(
    client, city, resident, neighbour, curator_member, deployment, provider_member, staff
):
    for claim in service_claims(city, deployment, provider_member, resident, "a"):
        approve(claim, curator_member)
    logged_in(client, staff)
    target = url("dashboard", city) + "?period=all"
    client.get(target)  # the session's first request writes its login time
    few = queries(client, target)
    public_few = queries(client, url("dashboard_public", city) + "?period=all")

    for claim in service_claims(city, deployment, provider_member, neighbour, "b", (1, 2, 4, 5)):
        approve(claim, curator_member)
    for month in (6, 7):
        approve(
            submitted_claim(
                neighbour,
                "50",
                period_start=date(2026, month, 1),
                period_end=date(2026, month, 28),
                district_code=f"d{month}",
            ),
            curator_member,
        )
    offer = services.offer_create(
        seller=portfolio(neighbour),
        by=neighbour.user,
        token_class=tco2e(),
        quantity=10,
        unit_price_cents=3,
    )
    services.offer_buy(offer=offer, buyer=portfolio(resident), by=resident.user, quantity=5)
    services.token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=3,
        reason_code="offset",
    )
    assert Claim.objects.filter(state="approved").count() == 7
    assert queries(client, target) == few
    assert queries(client, url("dashboard_public", city) + "?period=all") == public_few

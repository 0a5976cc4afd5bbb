"""Dashboard figures and lists: right numbers, and the same number of queries with few or
many rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.http import Http404

from impact import selectors
from impact.services import offer_buy, offer_create, token_retire, token_transfer

from .helpers import issued, portfolio, submitted_claim, tco2e


def test_the_dashboard_adds_up(city, resident, neighbour, curator_member):
    issued(resident, curator_member, "1000")
    issued(neighbour, curator_member, "500", district_code="nord")
    issued(
        neighbour,
        curator_member,
        "100",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
    )
    submitted_claim(resident, "2000")  # not approved: not counted
    token_retire(
        portfolio=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=10,
        reason_code="offset",
    )
    offer = offer_create(
        seller=portfolio(resident),
        by=resident.user,
        token_class=tco2e(),
        quantity=20,
        unit_price_cents=7,
    )
    offer_buy(offer=offer, buyer=portfolio(neighbour), by=neighbour.user, quantity=5)

    board = selectors.dashboard(city=city)

    assert [
        (r["month"], r["goal"], r["indicator_code"], r["quantity"]) for r in board.by_month
    ] == [
        (date(2026, 1, 1), 13, "13.2.2", 19),
        (date(2026, 3, 1), 13, "13.2.2", 193 + 96),
    ]
    assert {r["district_code"]: r["quantity"] for r in board.by_district} == {
        "centre": 193 + 19,
        "nord": 96,
    }
    assert [(r["service_ref"], r["quantity"]) for r in board.by_service] == [("", 308)]
    (figures,) = board.tokens
    assert (figures.issued, figures.retired, figures.escrow) == (308, 10, 15)
    assert figures.available + figures.escrow + figures.retired + figures.redeemed == 308
    assert [row["amount_cents"] for row in board.inflows] == [35]
    assert board.claims_by_state["approved"] == 3 and board.claims_by_state["submitted"] == 1


def test_the_dashboard_costs_the_same_with_more_rows(
    city, resident, neighbour, curator_member, django_assert_num_queries
):
    issued(resident, curator_member, "100")
    with django_assert_num_queries(6):
        selectors.dashboard(city=city)
    for _ in range(3):
        issued(neighbour, curator_member, "100", district_code="sud")
    token_transfer(
        sender=portfolio(neighbour),
        recipient=portfolio(resident),
        by=neighbour.user,
        token_class=tco2e(),
        quantity=5,
    )
    with django_assert_num_queries(6):
        selectors.dashboard(city=city)


def test_portfolio_reads_are_constant(
    resident, neighbour, curator_member, django_assert_num_queries
):
    for _ in range(2):
        issued(resident, curator_member, "100")
    mine = portfolio(resident)
    with django_assert_num_queries(3):
        selectors.portfolio_balances(portfolio=mine)
        list(selectors.portfolio_holdings(portfolio=mine))
    for _ in range(3):
        issued(resident, curator_member, "100")
        token_transfer(
            sender=mine,
            recipient=portfolio(neighbour),
            by=resident.user,
            token_class=tco2e(),
            quantity=3,
        )
    with django_assert_num_queries(3):
        balances = selectors.portfolio_balances(portfolio=mine)
        list(selectors.portfolio_holdings(portfolio=mine))
    assert balances[0].available == 5 * 19 - 9


def test_a_claim_is_hidden_from_strangers(resident, neighbour, curator_member, staff):
    claim = submitted_claim(resident)
    for user in (resident.user, curator_member.user, staff):
        assert selectors.claim_get_for_user(public_id=claim.public_id, user=user) == claim
    with pytest.raises(Http404):
        selectors.claim_get_for_user(public_id=claim.public_id, user=neighbour.user)
    with pytest.raises(Http404):
        selectors.claim_get_for_user(public_id="missing", user=resident.user)


def test_the_curator_queue_leaves_out_their_own_claims(city, resident, curator_member):
    theirs = submitted_claim(resident)
    submitted_claim(curator_member)
    queue = selectors.claims_to_verify(user=curator_member.user, city=city)
    assert list(queue) == [theirs]
    assert not selectors.claims_to_verify(user=resident.user, city=city).exists()


def test_the_catalogue_lists_the_17_goals(catalogue, django_assert_num_queries):
    with django_assert_num_queries(3):
        goals = list(selectors.goal_list())
        supported = [i.code for g in goals for t in g.targets.all() for i in t.indicators.all()]
    assert [g.number for g in goals] == list(range(1, 18))
    for code in ("11.6.1", "11.6.2", "7.2.1", "7.3.1", "13.2.2", "12.5.1", "11.2.1", "6.3.1"):
        assert code in supported


def test_dashboard_services_are_named_through_the_app_store(
    city, deployment, resident, curator_member
):
    from impact.marketplace import service_labels

    issued(resident, curator_member, "100", service_ref=deployment.public_id)
    rows = selectors.impact_by_service(city=city)
    labels = service_labels(city=city, refs=[r["service_ref"] for r in rows])
    assert labels == {deployment.public_id: deployment.service.name}

"""The cooperative's pages: anyone reads the overview, the cap table and the distributions;
members subscribe, transfer and withdraw with forms that work without JavaScript; the board
admits newcomers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cooperative.models import Holding, MovementStatus, ShareMovement
from cooperative.services import member_of, total_shares
from governance.models import Proposal, ProposalStatus
from tests.factories import UserFactory
from tests.security.support import totp_activate

from .helpers import ACCOUNTS_DIGEST, admitted, general_assembly


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def board_client(client, operator):
    totp_activate(operator)
    client.force_login(operator)
    return client


def test_without_a_cooperative_the_overview_says_so(client, db):
    response = client.get(reverse("cooperative:overview"))
    assert response.status_code == 200
    assert b"not been set up" in response.content
    assert client.get(reverse("cooperative:cap_table")).status_code == 404


def test_the_overview_shows_colleges_rules_and_proposals(client, body, board_member, investor):
    general_assembly(
        board_member,
        "general",
        {},
        voters=[board_member, investor],
    )
    response = client.get(reverse("cooperative:overview"))
    assert response.status_code == 200
    content = response.content.decode()
    for slug in ("data-providers", "clients", "operators", "investors"):
        assert f'data-testid="college-{slug}"' in content
    assert "general vote" in content
    assert "42.50" in content


def test_the_cap_table_is_public_by_did(client, body, investor, board_member):
    response = client.get(reverse("cooperative:cap_table"))
    content = response.content.decode()
    assert investor.identity.did in content
    assert investor.user.email not in content
    assert "75.00 %" in content  # 30 of 40 shares
    csv = client.get(reverse("cooperative:cap_table_csv")).content.decode()
    assert f"{investor.identity.did},investors,30,300000,75.00,10y:30" in csv


def test_a_newcomer_subscribes_and_the_board_admits(client, body, operator):
    newcomer = UserFactory()
    client.force_login(newcomer)
    response = client.post(
        reverse("cooperative:subscribe"),
        {"shares": "3", "horizon_years": "5", "college": "investors"},
    )
    assert response.status_code == 302
    movement = ShareMovement.objects.get(user=newcomer)
    assert movement.status == MovementStatus.PENDING
    assert b"waits for admission" in client.get(reverse("cooperative:my_shares")).content
    totp_activate(operator)
    client.force_login(operator)
    assert movement.public_id.encode() in client.get(reverse("cooperative:board")).content
    client.post(reverse("cooperative:subscription_admit", args=[movement.public_id]))
    assert total_shares(member_of(newcomer, body)) == 3


def test_the_board_page_is_the_boards(client, body, investor):
    client.force_login(investor.user)
    assert client.get(reverse("cooperative:board")).status_code == 403
    movement = ShareMovement.objects.filter(user=investor.user).first()
    response = client.post(reverse("cooperative:subscription_refuse", args=[movement.public_id]))
    assert response.status_code == 403


def test_a_member_transfers_and_withdraws(client, body, investor, client_member):
    client.force_login(investor.user)
    response = client.post(
        reverse("cooperative:transfer"),
        {"to_did": client_member.identity.did, "shares": "5", "horizon_years": "10"},
    )
    assert response.status_code == 302
    response = client.post(reverse("cooperative:withdraw"), {"shares": "5", "horizon_years": "10"})
    assert response.status_code == 302
    assert total_shares(investor) == 20
    assert total_shares(client_member) == 7


def test_too_many_shares_is_a_form_error(client, body, investor):
    client.force_login(investor.user)
    response = client.post(reverse("cooperative:withdraw"), {"shares": "31", "horizon_years": "10"})
    assert response.status_code == 409
    assert b"do not hold that many" in response.content
    assert Holding.objects.get(membership=investor).shares == 30


def test_a_member_drafts_opens_and_votes_in_pages(client, body, board_member, investor):
    totp_activate(board_member.user)
    client.force_login(board_member.user)
    response = client.post(
        reverse("cooperative:proposal_create"),
        {
            "kind": "approve_accounts",
            "title": "Accounts 2025",
            "parameters": (
                f'{{"year": 2025, "result_cents": 100000, "accounts_digest": "{ACCOUNTS_DIGEST}"}}'
            ),
        },
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(title="Accounts 2025")
    response = client.post(
        reverse("cooperative:proposal_open", args=[proposal.public_id]),
        {"closes_at": "2099-01-01T10:00"},
    )
    assert response.status_code == 400  # beyond the longest voting period of the rules
    assert b"voting period" in response.content
    client.force_login(investor.user)
    response = client.post(
        reverse("cooperative:proposal_create"),
        {"kind": "approve_accounts", "title": "x", "parameters": "{}"},
    )
    assert response.status_code == 400  # investors do not propose the accounts


def test_bad_parameters_are_a_form_error(client, body, board_member):
    totp_activate(board_member.user)
    client.force_login(board_member.user)
    response = client.post(
        reverse("cooperative:proposal_create"),
        {"kind": "approve_accounts", "title": "Accounts", "parameters": '{"year": 2025.5}'},
    )
    assert response.status_code == 400
    assert not Proposal.objects.exists()


def test_the_distribution_page_shows_the_arithmetic(
    client, body, board_member, investor, client_member
):
    proposal = general_assembly(
        board_member,
        "approve_accounts",
        {"year": 2025, "result_cents": 100_001, "accounts_digest": ACCOUNTS_DIGEST},
        voters=[board_member, investor, client_member],
    )
    assert proposal.status == ProposalStatus.EXECUTED
    distribution = proposal.distribution
    client.force_login(investor.user)
    page = client.get(reverse("cooperative:distribution", args=[distribution.public_id]))
    content = page.content.decode()
    assert "floor(100001 × 4250 ÷ 10000) = 42500" in content
    assert 'data-testid="dist-mine"' in content
    assert "30 × 100 = 3000" in content
    csv = client.get(
        reverse("cooperative:distribution_csv", args=[distribution.public_id])
    ).content.decode()
    assert f"{investor.identity.did},30,10,100,3000,42500/1,42500,0/1,0,42500" in csv
    assert client.get(reverse("cooperative:distributions")).status_code == 200
    assert client.get(reverse("cooperative:proposal", args=[proposal.public_id])).status_code == 200


def test_pages_answer_anonymous_readers(client, body, investor):
    for name in ("overview", "cap_table", "distributions"):
        assert client.get(reverse(f"cooperative:{name}")).status_code == 200
    assert client.get(reverse("cooperative:my_shares")).status_code == 302


def test_the_cap_table_and_overview_cost_the_same_queries_with_more_members(
    client, body, operator, investor
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(name: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return len(queries)

    before = {name: count(name) for name in ("cooperative:cap_table", "cooperative:overview")}
    for horizon in (0, 3, 5):
        admitted(body, UserFactory(), "clients", shares=2, horizon=horizon, by=operator)
    after = {name: count(name) for name in ("cooperative:cap_table", "cooperative:overview")}
    assert after == before

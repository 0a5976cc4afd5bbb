"""The participatory budget on the proposal page: the projects with their cost, a checkbox
form that works without JavaScript and swaps the vote panel with HTMX, the ranking after the
close, and the same 403/404 as for other votes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.budget import budget_project_add, budget_vote_cast
from governance.models import Ballot
from ledger.services import chain_seal

from .conftest import logged_in, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PROJECTS = [("Aire de jeux", 60_000), ("Bancs du square", 50_000), ("Composteurs", 30_000)]


def budget_call(author, provider):
    call = services.proposal_create(
        author=author,
        kind="fund_project",
        title="Budget participatif",
        parameters={"budget_cents": 100_000},
    )
    for title, cost in PROJECTS:
        budget_project_add(
            proposal=call,
            by=author,
            title=title,
            cost_cents=cost,
            recipient=provider.identity.did,
        )
    return call


@pytest.fixture
def draft_call(resident, provider):
    return budget_call(resident, provider)


@pytest.fixture
def open_call(draft_call, resident, neighbour, provider, staff):
    return services.proposal_open(
        proposal=draft_call, by=resident, closes_at=timezone.now() + timedelta(hours=48)
    )


def picks(call):
    return list(call.budget_projects.order_by("position").values_list("public_id", flat=True))


def test_the_page_lists_the_projects_and_a_checkbox_form(client, city, open_call, resident):
    logged_in(client, resident.user)
    page = client.get(url("proposal_detail", city, open_call.public_id)).content.decode()
    assert "Participatory budget" in page
    assert "1,000.00\xa0€" in page or "1 000,00\xa0€" in page or "1000" in page
    for title, _cost in PROJECTS:
        assert title in page
    assert 'type="checkbox" name="projects"' in page
    assert url("budget_vote", city, open_call.public_id) in page
    assert 'name="choice"' not in page  # no yes/no radios on a budget call


def test_a_budget_vote_without_javascript_redirects_back(client, city, open_call, resident):
    logged_in(client, resident.user)
    a, _b, c = picks(open_call)
    response = client.post(url("budget_vote", city, open_call.public_id), {"projects": [a, c]})
    assert response.status_code == 302
    assert response["Location"].endswith("#vote-panel")
    ballot = Ballot.objects.get(proposal=open_call, membership=resident)
    assert ballot.selection == sorted([a, c])
    page = client.get(response["Location"]).content.decode()
    assert "Your vote is recorded and signed." in page
    assert "My picks:" in page


def test_an_htmx_budget_vote_swaps_only_the_vote_panel(client, city, open_call, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("budget_vote", city, open_call.public_id), {"projects": picks(open_call)[2:]}, **HX
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="vote-panel"')


def test_a_selection_over_the_budget_is_a_form_error(client, city, open_call, resident):
    logged_in(client, resident.user)
    a, b, _c = picks(open_call)
    response = client.post(
        url("budget_vote", city, open_call.public_id), {"projects": [a, b]}, **HX
    )
    assert response.status_code == 400
    assert "cost more than the budget" in response.content.decode()
    assert not Ballot.objects.filter(proposal=open_call).exists()


def test_an_unknown_project_is_a_form_error(client, city, open_call, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("budget_vote", city, open_call.public_id), {"projects": ["nope"]}, **HX
    )
    assert response.status_code == 400
    assert not Ballot.objects.filter(proposal=open_call).exists()


def test_anonymous_is_sent_to_log_in(client, city, open_call):
    response = client.post(url("budget_vote", city, open_call.public_id), {"projects": []})
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_member_of_another_city_gets_403(client, city, open_call, foreigner):
    logged_in(client, foreigner)
    response = client.post(url("budget_vote", city, open_call.public_id), {"projects": []})
    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_a_hidden_draft_is_404(client, city, draft_call, neighbour):
    logged_in(client, neighbour.user)
    response = client.post(url("budget_vote", city, draft_call.public_id), {"projects": []})
    assert response.status_code == 404


def test_after_the_close_the_ranking_shows_funded_and_not_funded(
    client, city, open_call, resident, neighbour, provider, staff
):
    a, b, c = picks(open_call)
    for member, chosen in [
        (resident, [a, c]),
        (neighbour, [b, c]),
        (provider, [b]),
        (staff, [a]),
    ]:
        budget_vote_cast(proposal=open_call, member=member, project_ids=chosen)
    services.proposal_close(proposal=open_call, now=open_call.closes_at + timedelta(seconds=1))
    page = client.get(url("proposal_detail", city, open_call.public_id)).content.decode()
    assert "Ranking of the projects" in page
    assert "not funded" in page and "funded" in page
    assert "Weighted support" in page


def test_my_votes_lists_my_budget_picks_with_their_receipt(
    client, city, open_call, resident, provider
):
    a, _b, c = picks(open_call)
    budget_vote_cast(proposal=open_call, member=resident, project_ids=[c, a])
    budget_vote_cast(proposal=open_call, member=provider, project_ids=[])
    chain_seal(chain=city.chain)
    logged_in(client, resident.user)
    page = client.get(url("my_votes", city)).content.decode()
    assert "Projects I picked:" in page
    assert "Aire de jeux" in page and "Composteurs" in page
    assert "Bancs du square" not in page  # not picked
    assert url("receipt_download", city, open_call.public_id) in page
    receipt = client.get(url("receipt_download", city, open_call.public_id))
    ballot = Ballot.objects.get(proposal=open_call, membership=resident)
    assert receipt.json()["tx_hash"] == ballot.entry.tx_hash
    logged_in(client, provider.user)
    assert "No project (abstention)" in client.get(url("my_votes", city)).content.decode()

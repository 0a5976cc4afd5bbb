"""Writing, amending, opening and debating a proposal through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.models import Comment, Proposal

from .conftest import logged_in, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_a_resident_writes_a_general_draft(client, city, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("proposal_create", city),
        {"kind": "general", "title": "  More trees  ", "body": "Along the boulevard."},
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("proposal_detail", city, proposal.public_id)
    assert (proposal.title, proposal.status, proposal.author) == ("More trees", "draft", resident)


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1500", 150000), ("1500,50", 150050), ("1500.5", 150050), ("0.01", 1), ("0,1", 10)],
)
def test_a_funded_amount_in_euros_becomes_integer_cents(client, city, resident, typed, cents):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"  # French decimal comma
    logged_in(client, resident.user)
    response = client.post(
        url("proposal_create", city),
        {
            "kind": "fund_project",
            "title": "Gardens",
            "amount": typed,
            "recipient": resident.identity.did,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    parameters = Proposal.objects.get().parameters
    assert parameters == {"amount_cents": cents, "recipient": resident.identity.did}
    assert type(parameters["amount_cents"]) is int


@pytest.mark.parametrize("typed", ["0", "-5", "12.345", "abc", "", "1 000 000 000 000"])
def test_a_bad_amount_is_a_form_error(client, city, resident, typed):
    logged_in(client, resident.user)
    response = client.post(
        url("proposal_create", city),
        {"kind": "fund_project", "title": "G", "amount": typed, "recipient": "did:key:z6Mk"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["amount"]
    assert not Proposal.objects.exists()


def test_a_recipient_must_be_a_did(client, city, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("proposal_create", city),
        {"kind": "fund_project", "title": "G", "amount": "10", "recipient": "Bob"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["recipient"]


def rules_data(**overrides):
    data = {
        "kind": "amend_rules",
        "title": "More weight to residents",
        "weight_residents": "50",
        "quorum_residents": "15",
        "weight_providers": "20",
        "quorum_providers": "10",
        "weight_municipality": "30",
        "quorum_municipality": "10",
        "threshold": "60",
        "vote_changeable": "",
    }
    return {**data, **overrides}


def test_a_rules_amendment_carries_weights_quorums_threshold_and_the_rest(client, city, resident):
    logged_in(client, resident.user)
    response = client.post(url("proposal_create", city), rules_data())
    assert response.status_code == 302
    rules = Proposal.objects.get().parameters["rules"]
    assert rules["colleges"]["residents"] == {"weight": 50, "quorum_percent": 15}
    assert rules["approval_threshold_percent"] == 60
    assert rules["vote_changeable"] is False
    in_force = services.rules_in_force(city).rules
    assert rules["voting_period_hours"] == in_force["voting_period_hours"]
    assert rules["proposers"] == in_force["proposers"]


def test_weights_that_do_not_add_up_to_100_are_refused(client, city, resident):
    logged_in(client, resident.user)
    response = client.post(url("proposal_create", city), rules_data(weight_residents="60"))
    assert response.status_code == 400
    assert "add up to 110" in response.content.decode()
    assert not Proposal.objects.exists()


def test_a_college_only_sees_and_uses_the_kinds_it_may_propose(client, city, provider):
    logged_in(client, provider.user)
    chooser = client.get(url("proposal_create", city)).content.decode()
    assert "?kind=general" in chooser and "?kind=amend_rules" not in chooser
    response = client.post(url("proposal_create", city), rules_data())
    assert response.status_code == 403
    assert not Proposal.objects.exists()


def test_the_author_amends_a_draft(client, city, draft, resident):
    logged_in(client, resident.user)
    form = client.get(url("proposal_amend", city, draft.public_id))
    assert form.status_code == 200
    assert draft.title in form.content.decode()
    response = client.post(
        url("proposal_amend", city, draft.public_id),
        {"kind": "general", "title": "Two benches", "body": "And a tree."},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("Two benches", "And a tree.")


def test_an_open_proposal_cannot_be_amended(client, city, open_proposal, resident):
    logged_in(client, resident.user)
    response = client.post(
        url("proposal_amend", city, open_proposal.public_id), {"kind": "general", "title": "New"}
    )
    assert response.status_code == 409
    assert "Only a draft can be amended" in response.content.decode()
    open_proposal.refresh_from_db()
    assert open_proposal.title == "Close the square to cars on Sundays"


@pytest.mark.parametrize("who", ["resident", "staff"])
def test_the_author_or_staff_open_the_vote(request, client, city, draft, who, neighbour):
    logged_in(client, request.getfixturevalue(who).user)
    closes = timezone.localtime() + timedelta(days=3)
    response = client.post(
        url("proposal_open", city, draft.public_id),
        {"closes_at": closes.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "open"
    assert draft.electorate_sizes == {"residents": 2, "municipality": 1}


def test_a_closing_date_outside_the_rules_is_a_form_error(client, city, draft, resident):
    logged_in(client, resident.user)
    too_soon = timezone.localtime() + timedelta(hours=2)
    response = client.post(
        url("proposal_open", city, draft.public_id),
        {"closes_at": too_soon.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert response.context["open_form"].errors["closes_at"]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_comment_without_javascript_redirects_to_the_debate(client, city, draft, resident):
    logged_in(client, resident.user)
    response = client.post(url("comment_add", city, draft.public_id), {"body": "First!"})
    assert response.status_code == 302
    assert response["Location"].endswith("#debate")
    page = client.get(response["Location"]).content.decode()
    assert "First!" in page


def test_an_htmx_comment_swaps_only_the_debate(client, city, open_proposal, neighbour):
    logged_in(client, neighbour.user)
    response = client.post(
        url("comment_add", city, open_proposal.public_id), {"body": "<b>Yes</b> please"}, **HX
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section id="debate"')
    assert "&lt;b&gt;Yes&lt;/b&gt; please" in fragment  # escaped
    assert Comment.objects.get().membership == neighbour


def test_an_empty_comment_is_a_form_error(client, city, open_proposal, neighbour):
    logged_in(client, neighbour.user)
    response = client.post(url("comment_add", city, open_proposal.public_id), {"body": ""}, **HX)
    assert response.status_code == 400
    assert 'id="debate"' in response.content.decode()
    assert not Comment.objects.exists()


def test_the_debate_of_a_closed_proposal_is_closed(client, city, closed_proposal, neighbour):
    logged_in(client, neighbour.user)
    response = client.post(url("comment_add", city, closed_proposal.public_id), {"body": "Late"})
    assert response.status_code == 409
    assert "The debate is closed" in response.content.decode()
    assert not Comment.objects.exists()

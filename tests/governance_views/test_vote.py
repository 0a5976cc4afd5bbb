"""The vote form: a plain POST without JavaScript redirects back to the proposal with the
receipt shown; an HTMX POST swaps only the #vote-panel fragment; errors from the service
come back as form errors (400/409), never a 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from governance import services
from governance.models import Ballot
from ledger.models import Transaction
from ledger.receipt_check import receipt_check
from ledger.services import chain_seal

from .conftest import join, logged_in, url

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_a_vote_without_javascript_redirects_back_and_shows_the_receipt(
    client, city, open_proposal, resident
):
    logged_in(client, resident.user)
    response = client.post(url("proposal_vote", city, open_proposal.public_id), {"choice": "yes"})

    assert response.status_code == 302
    assert response["Location"] == url("proposal_detail", city, open_proposal.public_id) + (
        "#vote-panel"
    )
    ballot = Ballot.objects.get(proposal=open_proposal, membership=resident)
    assert ballot.choice == "yes"

    page = client.get(response["Location"]).content.decode()
    assert "Your vote is recorded and signed." in page
    assert "My receipt" in page and "You voted “yes”" in page
    assert ballot.entry.tx_hash in page
    assert "Waiting for the block to be sealed" in page  # not sealed yet

    chain_seal(chain=city.chain)
    page = client.get(response["Location"]).content.decode()
    assert 'id="receipt"' in page
    assert url("receipt_download", city, open_proposal.public_id) in page
    assert "/ledger/verify/" in page


def test_an_htmx_vote_swaps_only_the_vote_panel(client, city, open_proposal, resident):
    logged_in(client, resident.user)
    chain_seal(chain=city.chain)
    response = client.post(
        url("proposal_vote", city, open_proposal.public_id), {"choice": "no"}, **HX
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section id="vote-panel"')
    assert "<html" not in fragment and 'id="debate"' not in fragment
    assert "You voted “no”" in fragment
    assert "Waiting for the block to be sealed" in fragment
    assert "HX-Request" in response["Vary"]

    chain_seal(chain=city.chain)
    refreshed = client.get(url("proposal_vote", city, open_proposal.public_id), **HX)
    assert refreshed.status_code == 200
    assert 'id="receipt"' in refreshed.content.decode()


def test_a_plain_get_of_the_vote_url_goes_to_the_proposal(client, city, open_proposal):
    response = client.get(url("proposal_vote", city, open_proposal.public_id))
    assert response.status_code == 302
    assert response["Location"].endswith("#vote-panel")


def test_changing_a_vote_keeps_one_ballot_the_last_one(client, city, open_proposal, resident):
    logged_in(client, resident.user)
    target = url("proposal_vote", city, open_proposal.public_id)
    client.post(target, {"choice": "yes"})
    client.post(target, {"choice": "abstain"})
    (ballot,) = Ballot.objects.filter(proposal=open_proposal)
    assert ballot.choice == "abstain"


def test_a_missing_choice_is_a_form_error_and_writes_nothing(client, city, open_proposal, resident):
    logged_in(client, resident.user)
    before = Transaction.objects.count()
    response = client.post(url("proposal_vote", city, open_proposal.public_id), {}, **HX)
    assert response.status_code == 400
    assert 'id="vote-panel"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    assert Transaction.objects.count() == before

    response = client.post(url("proposal_vote", city, open_proposal.public_id), {"choice": "maybe"})
    assert response.status_code == 400
    assert "<html" in response.content.decode()  # without JS: the whole page, with the error


def test_a_late_joiner_sees_why_they_cannot_vote(client, city, open_proposal, staff):
    late = join(city, "residents", by=staff.user)
    logged_in(client, late.user)
    page = client.get(url("proposal_detail", city, open_proposal.public_id)).content.decode()
    assert "not in its electorate" in page
    assert 'name="choice"' not in page

    response = client.post(
        url("proposal_vote", city, open_proposal.public_id), {"choice": "yes"}, **HX
    )
    assert response.status_code == 400
    assert "You were not a member of a college when this vote opened." in response.content.decode()
    assert not Ballot.objects.filter(membership=late).exists()


def test_a_vote_after_the_deadline_is_409_with_the_services_message(
    client, city, resident, neighbour
):
    proposal = services.proposal_create(author=resident, kind="general", title="Late")
    start = timezone.now() - timedelta(days=3)
    services.proposal_open(
        proposal=proposal, by=resident, closes_at=start + timedelta(days=1), now=start
    )  # past its deadline, not closed by the beat yet
    logged_in(client, neighbour.user)
    response = client.post(url("proposal_vote", city, proposal.public_id), {"choice": "yes"})
    assert response.status_code == 409
    assert "This vote is not open." in response.content.decode()
    assert not Ballot.objects.filter(proposal=proposal).exists()


def test_a_vote_that_may_not_change_says_so(client, city, resident, neighbour, staff):
    rules = services.rules_in_force(city)
    rules.rules = {**rules.rules, "vote_changeable": False}
    rules.save()
    proposal = services.proposal_create(author=resident, kind="general", title="Final answer")
    services.proposal_open(
        proposal=proposal, by=resident, closes_at=timezone.now() + timedelta(hours=30)
    )
    logged_in(client, neighbour.user)
    target = url("proposal_vote", city, proposal.public_id)
    assert client.post(target, {"choice": "yes"}).status_code == 302
    page = client.get(url("proposal_detail", city, proposal.public_id)).content.decode()
    assert "do not allow changing a vote" in page and 'name="choice"' not in page
    response = client.post(target, {"choice": "no"})
    assert response.status_code == 409
    assert Ballot.objects.get(proposal=proposal).choice == "yes"


def test_the_receipt_downloads_as_json_and_holds(client, city, open_proposal, resident):
    logged_in(client, resident.user)
    client.post(url("proposal_vote", city, open_proposal.public_id), {"choice": "yes"})
    download = url("receipt_download", city, open_proposal.public_id)

    waiting = client.get(download)  # not sealed yet: back to the page, with a message
    assert waiting.status_code == 302

    chain_seal(chain=city.chain)
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="receipt-bourg-')
    receipt = json.loads(response.content)
    ballot = Ballot.objects.get(proposal=open_proposal, membership=resident)
    assert receipt["tx_hash"] == ballot.entry.tx_hash
    assert receipt_check(receipt)["holds"] is True


def test_anonymous_visitors_see_a_login_link_instead_of_the_form(client, city, open_proposal):
    page = client.get(url("proposal_detail", city, open_proposal.public_id)).content.decode()
    assert "/accounts/login/?next=" in page
    assert 'name="choice"' not in page

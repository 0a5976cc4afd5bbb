"""Who gets what: anonymous visitors are sent to log in for member actions; a signed-in
non-member, a member of another city and a resident on the municipality portal get 403;
a draft is 404 to everyone but its author and the city's staff."""

from __future__ import annotations

import pytest

from governance import services
from governance.models import Ballot, Comment, Membership, Proposal
from tests.factories import UserFactory

from .conftest import appoint, logged_in, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(city):
    return services.membership_request(
        user=UserFactory(),
        city=city,
        college=city.colleges.get(slug="residents"),
        postal_address="2 rue Basse",
        postal_code="01000",
    )


def member_actions(city, proposal, draft, membership):
    """(method, url, data) of every action reserved to members (and staff)."""
    return [
        ("get", url("proposal_create", city), {}),
        ("post", url("proposal_create", city), {"kind": "general", "title": "x"}),
        ("post", url("proposal_vote", city, proposal.public_id), {"choice": "yes"}),
        ("post", url("comment_add", city, proposal.public_id), {"body": "hello"}),
        ("get", url("admin", city), {}),
        ("post", url("membership_approve", city, membership.public_id), {}),
        ("post", url("membership_refuse", city, membership.public_id), {"reason": "no"}),
    ]


def nothing_written():
    return (Proposal.objects.count(), Ballot.objects.count(), Comment.objects.count())


def test_anonymous_visitors_are_sent_to_log_in(client, city, open_proposal, draft, pending):
    actions = member_actions(city, open_proposal, draft, pending) + [
        ("get", url("join", city), {}),
        ("post", url("join", city), {}),
        ("get", url("my_votes", city), {}),
        ("post", url("proposal_open", city, draft.public_id), {}),
        ("get", url("proposal_amend", city, draft.public_id), {}),
        ("post", url("membership_revoke", city, pending.public_id), {}),
        ("get", url("receipt_download", city, open_proposal.public_id), {}),
    ]
    before = nothing_written()
    for method, target, data in actions:
        response = getattr(client, method)(target, data)
        assert response.status_code == 302, (method, target)
        assert response["Location"].startswith("/accounts/login/?next="), target
    assert nothing_written() == before
    assert Membership.objects.get(pk=pending.pk).status == "pending"


@pytest.mark.parametrize("who", ["outsider", "foreigner"])
def test_non_members_get_403_on_member_actions(
    request, client, who, city, open_proposal, draft, pending
):
    logged_in(client, request.getfixturevalue(who))
    before = nothing_written()
    for method, target, data in member_actions(city, open_proposal, draft, pending):
        response = getattr(client, method)(target, data)
        assert response.status_code == 403, (who, method, target)
    assert nothing_written() == before
    assert Membership.objects.get(pk=pending.pk).status == "pending"


def test_a_pending_request_is_not_a_membership(client, city, open_proposal, pending):
    logged_in(client, pending.user)
    assert client.get(url("proposal_create", city)).status_code == 403
    vote = client.post(url("proposal_vote", city, open_proposal.public_id), {"choice": "yes"})
    assert vote.status_code == 403


def test_a_resident_gets_403_on_the_municipality_portal(client, city, resident, pending, neighbour):
    logged_in(client, resident.user)
    assert client.get(url("admin", city)).status_code == 403
    for action in ("membership_approve", "membership_refuse"):
        response = client.post(url(action, city, pending.public_id), {"reason": "no"})
        assert response.status_code == 403
    assert client.post(url("membership_revoke", city, neighbour.public_id)).status_code == 403
    assert Membership.objects.get(pk=pending.pk).status == "pending"
    assert Membership.objects.get(pk=neighbour.pk).status == "approved"


def test_staff_of_another_city_get_403_on_this_portal(client, city, operator, other_city, pending):
    logged_in(client, appoint(operator, other_city).user)
    assert client.get(url("admin", city)).status_code == 403
    assert client.post(url("membership_approve", city, pending.public_id)).status_code == 403


def test_a_membership_of_another_city_is_404_on_this_portal(client, city, staff, foreigner):
    foreign = Membership.objects.get(user=foreigner)
    logged_in(client, staff.user)
    assert client.post(url("membership_revoke", city, foreign.public_id)).status_code == 404
    assert Membership.objects.get(pk=foreign.pk).status == "approved"


@pytest.mark.parametrize("who", ["anonymous", "outsider", "foreigner", "neighbour", "provider"])
def test_a_draft_is_404_to_all_but_its_author_and_staff(request, client, who, city, draft):
    if who != "anonymous":
        user = request.getfixturevalue(who)
        logged_in(client, getattr(user, "user", user))
    assert client.get(url("proposal_detail", city, draft.public_id)).status_code == 404
    listed = client.get(url("proposal_list", city), {"status": "draft"}).content.decode()
    assert draft.title not in listed


@pytest.mark.parametrize("who", ["resident", "staff"])
def test_the_author_and_staff_see_a_draft(request, client, who, city, draft):
    logged_in(client, request.getfixturevalue(who).user)
    page = client.get(url("proposal_detail", city, draft.public_id)).content.decode()
    assert draft.title in page
    assert url("proposal_open", city, draft.public_id) in page  # both may open it
    assert draft.title in client.get(url("proposal_list", city)).content.decode()


def test_a_neighbour_cannot_comment_or_open_a_draft_they_cannot_see(client, city, draft, neighbour):
    logged_in(client, neighbour.user)
    comment = client.post(url("comment_add", city, draft.public_id), {"body": "psst"})
    opening = client.post(url("proposal_open", city, draft.public_id), {})
    assert (comment.status_code, opening.status_code) == (404, 404)
    assert not Comment.objects.exists()


def test_a_draft_is_404_to_staff_of_another_city_even_with_its_id(
    client, city, other_city, operator, draft
):
    logged_in(client, appoint(operator, other_city).user)
    assert client.get(url("proposal_detail", other_city, draft.public_id)).status_code == 404
    assert client.get(url("proposal_detail", city, draft.public_id)).status_code == 404


def test_only_the_author_amends_a_draft(client, city, draft, staff):
    logged_in(client, staff.user)  # staff see the draft, but may not rewrite it
    assert client.get(url("proposal_amend", city, draft.public_id)).status_code == 403


def test_a_member_may_not_open_someone_elses_open_or_visible_proposal(
    client, city, open_proposal, neighbour
):
    logged_in(client, neighbour.user)
    response = client.post(
        url("proposal_open", city, open_proposal.public_id), {"closes_at": "2099-01-01T10:00"}
    )
    assert response.status_code == 403


def test_my_receipt_is_mine(client, city, open_proposal, resident, neighbour):
    services.vote_cast(proposal=open_proposal, member=resident, choice="yes")
    logged_in(client, neighbour.user)
    assert client.get(url("receipt_download", city, open_proposal.public_id)).status_code == 404

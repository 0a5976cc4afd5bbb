"""Proposals through the API: the list and a proposal (public, drafts hidden), writing a
draft, amending it, opening its vote, debating it, and the results with their arithmetic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import services
from governance.models import Comment, Proposal, ProposalStatus
from ledger.models import Transaction

from .support import assert_error, close, draft, join, open_vote, world

pytestmark = pytest.mark.django_db

PUBLIC_AUTHOR_KEYS = {"college", "did"}


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["public_id"] for p in response.json()["results"]]


def closes_in(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


# --- the list ------------------------------------------------------------------------------


def test_anyone_lists_the_proposals_that_left_the_draft(
    anonymous, city, resident, open_proposal, mayor
):
    staff_draft = draft(mayor)

    response = anonymous.get("cities/bourg/proposals/")

    assert ids(response) == [open_proposal.public_id]
    row = response.json()["results"][0]
    assert row["status"] == "open"
    assert row["author"] == {"college": "residents", "did": resident.identity.did}
    assert staff_draft.public_id not in response.content.decode()


def test_drafts_show_to_their_author_and_to_staff_only(
    as_, city, resident, neighbour, staff, foreigner, proposal
):
    assert ids(as_(resident).get("cities/bourg/proposals/")) == [proposal.public_id]
    assert ids(as_(staff).get("cities/bourg/proposals/")) == [proposal.public_id]
    assert ids(as_(neighbour).get("cities/bourg/proposals/")) == []
    assert ids(as_(foreigner).get("cities/bourg/proposals/")) == []


def test_the_list_filters_by_status_and_kind(anonymous, city, resident, mayor, open_proposal):
    other = open_vote(draft(mayor, "maintenance_autonomy"))

    assert ids(anonymous.get("cities/bourg/proposals/", {"status": "open"})) == [
        other.public_id,
        open_proposal.public_id,
    ]
    assert ids(anonymous.get("cities/bourg/proposals/", {"kind": "general"})) == [
        open_proposal.public_id
    ]
    assert ids(anonymous.get("cities/bourg/proposals/", {"status": "closed"})) == []
    # An empty filter, as a GET form sends it, means all.
    everything = ids(anonymous.get("cities/bourg/proposals/", {"status": "", "kind": ""}))
    assert everything == [other.public_id, open_proposal.public_id]


@pytest.mark.parametrize("params", [{"status": "lost"}, {"kind": "coup"}])
def test_an_unknown_filter_value_is_400(anonymous, city, params):
    assert_error(anonymous.get("cities/bourg/proposals/", params), 400, "invalid")


def test_the_list_is_paginated(anonymous, city, resident):
    made = [open_vote(draft(resident)) for _ in range(3)]

    body = anonymous.get("cities/bourg/proposals/", {"limit": 1, "offset": 1}).json()

    assert body["count"] == 3
    assert [p["public_id"] for p in body["results"]] == [made[1].public_id]
    assert body["next"] and body["previous"]


def test_the_list_costs_the_same_queries_with_more_proposals(as_, city, resident, staff):
    client = as_(staff)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("cities/bourg/proposals/").status_code == 200
        return len(context.captured_queries)

    open_vote(draft(resident))
    few = queries()
    for _ in range(12):
        open_vote(draft(resident))
    assert queries() == few


# --- one proposal ---------------------------------------------------------------------------


def test_a_proposal_shows_its_text_parameters_electorate_and_debate(
    anonymous, city, resident, neighbour, open_proposal
):
    services.comment_add(proposal=open_proposal, member=neighbour, body="Oui, vite.")

    response = anonymous.get(f"cities/bourg/proposals/{open_proposal.public_id}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Rénover le lavoir"
    assert body["body"].startswith("Le lavoir")
    assert body["rules_version"] == 1
    assert body["electorate_sizes"] == {"residents": 2, "providers": 1, "municipality": 1}
    assert body["electorate_digest"] == open_proposal.electorate_digest
    [comment] = body["comments"]
    assert comment["body"] == "Oui, vite."
    assert comment["author"] == {"college": "residents", "did": neighbour.identity.did}
    entry = Transaction.objects.get(chain=city.chain, kind="governance.comment.add")
    assert comment["entry"] == {"chain": "bourg", "index": entry.index, "tx_hash": entry.tx_hash}


def test_a_draft_is_404_except_to_its_author_and_staff(
    anonymous, as_, city, resident, neighbour, staff, foreigner, outsider, proposal
):
    path = f"cities/bourg/proposals/{proposal.public_id}/"
    assert as_(resident).get(path).status_code == 200
    assert as_(staff).get(path).status_code == 200
    for client in (anonymous, as_(neighbour), as_(foreigner), as_(outsider)):
        assert_error(client.get(path), 404, "not_found")


def test_a_proposal_of_another_city_is_404_here(anonymous, city, other_city, open_proposal):
    assert_error(anonymous.get(f"cities/annecy/proposals/{open_proposal.public_id}/"), 404)
    assert_error(anonymous.get("cities/bourg/proposals/nope/"), 404)


# --- writing a draft ------------------------------------------------------------------------


def test_a_member_writes_a_draft(as_, city, resident):
    response = as_(resident).post(
        "cities/bourg/proposals",
        {"kind": "general", "title": "Un banc", "body": "Place du marché."},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    proposal = Proposal.objects.get(public_id=body["public_id"])
    assert (proposal.status, proposal.author) == (ProposalStatus.DRAFT, resident)
    assert body["status"] == "draft" and body["title"] == "Un banc"
    assert body["author"] == {"college": "residents", "did": resident.identity.did}
    entry = Transaction.objects.get(chain=city.chain, kind="governance.proposal.create")
    assert entry.actor == resident.identity.did


def test_a_fund_project_draft_carries_its_amount_in_cents(as_, city, provider):
    response = as_(provider).post(
        "cities/bourg/proposals/",
        {
            "kind": "fund_project",
            "title": "Toit du lavoir",
            "parameters": {"amount_cents": 150_000, "recipient": provider.identity.did},
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["parameters"] == {
        "amount_cents": 150_000,
        "recipient": provider.identity.did,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "general"},
        {"kind": "general", "title": ""},
        {"kind": "general", "title": "x" * 201},
        {"kind": "coup", "title": "Prendre la mairie"},
        {"title": "Sans genre"},
        {"kind": "general", "title": "T", "parameters": [1, 2]},
        {"kind": "fund_project", "title": "T", "parameters": {"amount_cents": 12.5}},
        {"kind": "fund_project", "title": "T", "parameters": {"amount_cents": 100}},
        {"kind": "amend_rules", "title": "T", "parameters": {"rules": {"colleges": {}}}},
    ],
)
def test_a_bad_draft_is_400(as_, city, mayor, data):
    before = world()

    assert_error(as_(mayor).post("cities/bourg/proposals", data), 400)

    assert world() == before


def test_a_college_the_rules_do_not_name_may_not_propose_that_kind(as_, city, resident):
    before = world()

    response = as_(resident).post(
        "cities/bourg/proposals", {"kind": "become_independent", "title": "Indépendance"}
    )

    assert_error(response, 403, "not_allowed")
    assert world() == before


@pytest.mark.parametrize("who", ["applicant", "outsider", "foreigner", "other_mayor"])
def test_only_approved_members_of_the_city_write_drafts(request, as_, city, who):
    client = as_(request.getfixturevalue(who))
    before = world()

    response = client.post("cities/bourg/proposals", {"kind": "general", "title": "T"})

    assert_error(response, 403, "not_allowed")
    assert world() == before


def test_an_anonymous_draft_is_401(anonymous, city):
    assert_error(anonymous.post("cities/bourg/proposals", {"kind": "general", "title": "T"}), 401)


# --- amending --------------------------------------------------------------------------------


def test_the_author_amends_their_draft(as_, city, resident, proposal):
    response = as_(resident).post(
        f"cities/bourg/proposals/{proposal.public_id}/amend",
        {"title": "Rénover le lavoir et la fontaine", "body": "Les deux."},
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Rénover le lavoir et la fontaine"
    proposal.refresh_from_db()
    assert proposal.body == "Les deux."


def test_only_the_author_amends(as_, city, neighbour, staff, proposal):
    path = f"cities/bourg/proposals/{proposal.public_id}/amend"
    assert_error(as_(neighbour).post(path, {"title": "Autre"}), 404)  # a draft they cannot see
    assert_error(as_(staff).post(path, {"title": "Autre"}), 403, "not_allowed")


def test_an_open_proposal_is_not_amended(as_, city, resident, open_proposal):
    path = f"cities/bourg/proposals/{open_proposal.public_id}/amend"
    assert_error(as_(resident).post(path, {"title": "Autre"}), 409, "wrong_state")


# --- opening the vote ---------------------------------------------------------------------


def test_the_author_opens_the_vote(as_, city, resident, mayor, provider, proposal):
    response = as_(resident).post(
        f"cities/bourg/proposals/{proposal.public_id}/open", {"closes_at": closes_in(48)}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["electorate_sizes"] == {"residents": 1, "providers": 1, "municipality": 1}
    assert body["rules_version"] == 1
    entry = Transaction.objects.get(chain=city.chain, kind="governance.proposal.open")
    assert entry.payload["electorate"] == body["electorate_digest"]


def test_staff_open_a_vote_on_someone_elses_draft(as_, city, staff, proposal):
    response = as_(staff).post(
        f"cities/bourg/proposals/{proposal.public_id}/open", {"closes_at": closes_in(30)}
    )

    assert response.status_code == 200, response.content


def test_another_member_may_not_open_it(as_, city, resident, neighbour, mayor):
    public_draft_of_staff = draft(mayor)  # staff's drafts are hidden from residents
    path = f"cities/bourg/proposals/{public_draft_of_staff.public_id}/open"
    assert_error(as_(neighbour).post(path, {"closes_at": closes_in(48)}), 404)

    opened = open_vote(draft(resident))
    # Once open it is public: a member who is neither author nor staff is refused, not hidden.
    path = f"cities/bourg/proposals/{opened.public_id}/open"
    assert_error(as_(neighbour).post(path, {"closes_at": closes_in(48)}), 403, "not_allowed")


@pytest.mark.parametrize("hours", [1, 24 * 31])
def test_a_period_outside_the_rules_is_400(as_, city, resident, proposal, hours):
    before = world()

    response = as_(resident).post(
        f"cities/bourg/proposals/{proposal.public_id}/open", {"closes_at": closes_in(hours)}
    )

    assert_error(response, 400, "invalid_period")
    assert world() == before


@pytest.mark.parametrize("body", [{}, {"closes_at": "demain"}, {"closes_at": 12}])
def test_a_missing_or_bad_date_is_400(as_, city, resident, proposal, body):
    response = as_(resident).post(f"cities/bourg/proposals/{proposal.public_id}/open", body)
    assert_error(response, 400, "invalid")


def test_opening_twice_is_409(as_, city, resident, open_proposal):
    response = as_(resident).post(
        f"cities/bourg/proposals/{open_proposal.public_id}/open", {"closes_at": closes_in(48)}
    )
    assert_error(response, 409, "wrong_state")


def test_opening_needs_an_account_and_a_membership(anonymous, as_, city, foreigner, proposal):
    path = f"cities/bourg/proposals/{proposal.public_id}/open"
    assert_error(anonymous.post(path, {"closes_at": closes_in(48)}), 401)
    assert_error(as_(foreigner).post(path, {"closes_at": closes_in(48)}), 403)


# --- the debate -------------------------------------------------------------------------------


def test_a_member_comments(as_, city, neighbour, open_proposal):
    response = as_(neighbour).post(
        f"cities/bourg/proposals/{open_proposal.public_id}/comments", {"body": "Pour !"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    comment = Comment.objects.get(public_id=body["public_id"])
    assert body["author"] == {"college": "residents", "did": neighbour.identity.did}
    assert body["entry"]["tx_hash"] == comment.entry.tx_hash
    assert "Pour" not in str(comment.entry.payload)


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 5001}])
def test_an_empty_or_huge_comment_is_400(as_, city, neighbour, open_proposal, body):
    path = f"cities/bourg/proposals/{open_proposal.public_id}/comments"
    assert_error(as_(neighbour).post(path, body), 400, "invalid")


@pytest.mark.parametrize("who", ["applicant", "outsider", "foreigner"])
def test_only_members_of_the_city_comment(request, as_, city, open_proposal, who):
    client = as_(request.getfixturevalue(who))
    path = f"cities/bourg/proposals/{open_proposal.public_id}/comments"
    assert_error(client.post(path, {"body": "Contre"}), 403, "not_allowed")
    assert not Comment.objects.exists()


def test_comments_need_an_account(anonymous, city, open_proposal):
    path = f"cities/bourg/proposals/{open_proposal.public_id}/comments"
    assert_error(anonymous.post(path, {"body": "Contre"}), 401)


def test_a_hidden_draft_takes_no_comment(as_, city, neighbour, proposal):
    path = f"cities/bourg/proposals/{proposal.public_id}/comments"
    assert_error(as_(neighbour).post(path, {"body": "Contre"}), 404)


def test_the_debate_closes_with_the_vote(as_, city, neighbour, open_proposal):
    close(open_proposal)
    path = f"cities/bourg/proposals/{open_proposal.public_id}/comments"
    assert_error(as_(neighbour).post(path, {"body": "Trop tard"}), 409, "wrong_state")


# --- results -----------------------------------------------------------------------------------


def test_the_results_show_the_tally_and_its_arithmetic(
    anonymous, city, mayor, resident, neighbour, provider, open_proposal
):
    votes = [(mayor, "yes"), (resident, "yes"), (neighbour, "yes"), (provider, "no")]
    for member, choice in votes:
        services.vote_cast(proposal=open_proposal, member=member, choice=choice)
    closed = close(open_proposal)

    response = anonymous.get(f"cities/bourg/proposals/{open_proposal.public_id}/results")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["proposal"] == open_proposal.public_id
    assert body["status"] == closed.status == "accepted"
    colleges = {c["slug"]: c for c in body["colleges"]}
    assert [c["slug"] for c in body["colleges"]] == ["residents", "providers", "municipality"]
    assert colleges["residents"] | {"label": None} == {
        "slug": "residents",
        "label": None,
        "electorate": 2,
        "yes": 2,
        "no": 0,
        "abstain": 0,
        "voted": 2,
        "turnout_percent": "100.00",
        "quorum_percent": 10,
        "quorum_met": True,
        "counts": True,
        "weight": 40,
        "support_percent": "100.00",
    }
    assert colleges["providers"]["support_percent"] == "0.00"
    assert (body["weighted_result"], body["weighted_result_percent"]) == ("7/10", "70.00")
    assert body["weighted_result"] == closed.tally["weighted_result"]
    assert body["counting_weight"] == 100
    assert body["approval_threshold_percent"] == 50
    assert body["accepted"] is True
    assert body["arithmetic"] == (
        "(40 × 2/2 + 30 × 0/1 + 30 × 1/1) ÷ 100 = 70 ÷ 100 = 7/10 ≈ 70.00 % > 50 %"
    )


def test_a_tie_is_rejected_and_the_arithmetic_says_why(
    anonymous, city, mayor, resident, neighbour, provider, open_proposal
):
    votes = [(mayor, "yes"), (resident, "yes"), (neighbour, "no"), (provider, "no")]
    for member, choice in votes:
        services.vote_cast(proposal=open_proposal, member=member, choice=choice)
    close(open_proposal)

    body = anonymous.get(f"cities/bourg/proposals/{open_proposal.public_id}/results").json()

    assert (body["status"], body["accepted"]) == ("rejected", False)
    assert body["arithmetic"] == (
        "(40 × 1/2 + 30 × 0/1 + 30 × 1/1) ÷ 100 = 50 ÷ 100 = 1/2 ≈ 50.00 % ≤ 50 %"
    )


def test_there_are_no_results_before_the_close(anonymous, as_, city, resident, open_proposal):
    path = f"cities/bourg/proposals/{open_proposal.public_id}/results"
    assert_error(anonymous.get(path), 409, "not_closed")


def test_a_drafts_results_are_hidden_like_the_draft(anonymous, as_, city, resident, proposal):
    path = f"cities/bourg/proposals/{proposal.public_id}/results"
    assert_error(anonymous.get(path), 404)
    assert_error(as_(resident).get(path), 409, "not_closed")


def test_a_vote_where_no_college_counts_says_so(anonymous, city, open_proposal):
    close(open_proposal)

    body = anonymous.get(f"cities/bourg/proposals/{open_proposal.public_id}/results").json()

    assert body["accepted"] is False
    assert body["arithmetic"] == "no college counts: rejected (threshold 50 %)"


def test_late_joiners_change_nothing_in_the_electorate(as_, city, staff, open_proposal):
    join(city, "residents", by=staff)

    body = as_(staff).get(f"cities/bourg/proposals/{open_proposal.public_id}/").json()

    assert body["electorate_sizes"]["residents"] == 2

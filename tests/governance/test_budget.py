"""Participatory budgeting: projects gathered under one budget, knapsack ballots, ranking by
college-weighted support and greedy funding, payout from the treasury."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from governance.budget import (
    ProjectFields,
    budget_call_amend,
    budget_call_create,
    budget_project_add,
    budget_project_remove,
    budget_project_update,
    budget_vote_cast,
    project_digest,
)
from governance.errors import InvalidInput, InvalidRules, NotAllowed, WrongState
from governance.models import Ballot, BudgetProject, Movement
from governance.services import proposal_amend, proposal_create, proposal_execute, vote_cast
from governance.tally import compute_budget_tally
from tests.governance.helpers import (
    balance,
    city_transactions,
    close,
    fund,
    join,
    join_many,
    open_vote,
    writes_nothing,
)

BUDGET = 100_000
# (title, cost): positions 1..4
PROJECTS = [
    ("Aire de jeux", 60_000),
    ("Bancs", 50_000),
    ("Composteurs", 30_000),
    ("Dalles", 10_000),
]


def budget_call(author, budget=BUDGET):
    return proposal_create(
        author=author,
        kind="fund_project",
        title="Budget participatif",
        body="Proposez vos projets.",
        parameters={"budget_cents": budget},
    )


def add_projects(call, recipient_did):
    return [
        budget_project_add(
            proposal=call,
            by=call.author,
            title=title,
            description=f"Description secrète de « {title} »",
            cost_cents=cost,
            recipient=recipient_did,
        )
        for title, cost in PROJECTS
    ]


@pytest.fixture
def call(resident, provider):
    return budget_call(resident)


@pytest.fixture
def projects(call, provider):
    return add_projects(call, provider.identity.did)


@pytest.fixture
def voters(city, staff, resident, provider, mayor):
    """4 residents, 2 providers, 1 municipality member (default weights 40/30/30)."""
    return {
        "residents": [resident, *join_many(city, "residents", 3, by=staff)],
        "providers": [provider, join(city, "providers", by=staff)],
        "municipality": [mayor],
    }


@pytest.fixture
def open_call(call, projects, voters):
    return open_vote(call)


def ids(projects, *letters):
    by_letter = dict(zip("ABCD", projects, strict=True))
    return [by_letter[letter].public_id for letter in letters]


def test_a_budget_call_has_a_positive_budget(resident):
    with writes_nothing(), pytest.raises(InvalidRules):
        budget_call(resident, budget=0)
    with writes_nothing(), pytest.raises(InvalidRules):
        budget_call(resident, budget="100")


def test_the_author_adds_projects_to_the_draft_and_the_ledger_gets_only_a_digest(
    city, call, projects
):
    assert [p.position for p in projects] == [1, 2, 3, 4]
    entries = city_transactions(city, "governance.budget.project.add")
    assert entries.count() == 4
    payload = entries.first().payload
    assert payload["project"] == projects[0].public_id
    assert payload["cost_cents"] == 60_000
    assert len(payload["content"]) == 64
    ledger_text = json.dumps([e.payload for e in city_transactions(city)], ensure_ascii=False)
    for title, _cost in PROJECTS:
        assert title not in ledger_text
        assert "Description secrète" not in ledger_text


def test_only_the_author_adds_projects(city, staff, call, provider):
    other = join(city, "residents", by=staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        budget_project_add(
            proposal=call, by=other, title="X", cost_cents=1, recipient=provider.identity.did
        )
    assert not BudgetProject.objects.exists()


@pytest.mark.parametrize(
    ("title", "cost", "recipient"),
    [("", 1_000, "did:key:z6Mk"), ("X", 0, "did:key:z6Mk"), ("X", BUDGET + 1, "did:key:z6Mk")],
)
def test_a_project_is_refused_when_invalid(call, title, cost, recipient):
    with writes_nothing(), pytest.raises(InvalidInput):
        budget_project_add(
            proposal=call, by=call.author, title=title, cost_cents=cost, recipient=recipient
        )
    assert not BudgetProject.objects.exists()


def test_projects_are_frozen_when_the_vote_opens(open_call, provider):
    with writes_nothing(), pytest.raises(WrongState):
        budget_project_add(
            proposal=open_call,
            by=open_call.author,
            title="Trop tard",
            cost_cents=1_000,
            recipient=provider.identity.did,
        )
    assert BudgetProject.objects.count() == 4


def test_a_budget_call_without_projects_cannot_open(call, mayor):
    with writes_nothing(), pytest.raises(InvalidInput):
        open_vote(call)


def test_a_knapsack_ballot_is_stored_signed_and_on_the_ledger(city, open_call, projects, voters):
    member = voters["residents"][1]
    ballot = budget_vote_cast(
        proposal=open_call, member=member, project_ids=ids(projects, "D", "A")
    )
    assert ballot.choice == "yes"
    assert ballot.selection == sorted(ids(projects, "A", "D"))
    assert ballot.entry.actor == member.identity.did
    assert ballot.entry.kind == "governance.vote.cast"
    assert ballot.entry.payload == {
        "proposal": open_call.public_id,
        "college": "residents",
        "selection": sorted(ids(projects, "A", "D")),
    }
    # Changed (the default rules allow it): the last ballot counts, empty is an abstention.
    ballot = budget_vote_cast(proposal=open_call, member=member, project_ids=[])
    assert (ballot.choice, ballot.selection) == ("abstain", [])
    assert Ballot.objects.filter(proposal=open_call).count() == 1


@pytest.mark.parametrize(
    "picks",
    [
        ["unknown-project"],  # not part of the call
        "duplicate",  # the same project twice
        "over",  # 60,000 + 50,000 > 100,000
    ],
)
def test_an_invalid_knapsack_ballot_is_refused_and_writes_nothing(
    open_call, projects, voters, picks
):
    if picks == "duplicate":
        picks = ids(projects, "C", "C")
    elif picks == "over":
        picks = ids(projects, "A", "B")
    with writes_nothing(), pytest.raises(InvalidInput):
        budget_vote_cast(proposal=open_call, member=voters["residents"][0], project_ids=picks)


def test_a_project_of_another_call_is_refused(open_call, resident, provider, voters):
    other = budget_call(resident)
    stranger = add_projects(other, provider.identity.did)[3]
    with writes_nothing(), pytest.raises(InvalidInput):
        budget_vote_cast(
            proposal=open_call, member=voters["residents"][0], project_ids=[stranger.public_id]
        )


def test_a_yes_no_vote_is_refused_on_a_budget_call(open_call, voters):
    with writes_nothing(), pytest.raises(WrongState):
        vote_cast(proposal=open_call, member=voters["residents"][0], choice="yes")


def test_budget_votes_need_an_open_call(call, projects, voters):
    from governance.errors import VoteClosed

    with writes_nothing(), pytest.raises(VoteClosed):
        budget_vote_cast(proposal=call, member=voters["residents"][0], project_ids=[])


def cast_the_example(call, projects, voters):
    """Residents: AC, AD, BC, (none); providers: BC, BD; municipality: AC."""
    r, p, m = voters["residents"], voters["providers"], voters["municipality"]
    for member, picks in [
        (r[0], "AC"),
        (r[1], "AD"),
        (r[2], "BC"),
        (r[3], ""),
        (p[0], "BC"),
        (p[1], "BD"),
        (m[0], "AC"),
    ]:
        budget_vote_cast(proposal=call, member=member, project_ids=ids(projects, *picks))


def test_projects_are_ranked_by_weighted_support_and_funded_greedily(open_call, projects, voters):
    cast_the_example(open_call, projects, voters)
    call = close(open_call)
    tally = call.tally
    # A = (40×2/4 + 30×0/2 + 30×1/1) / 100 = 1/2
    # B = (40×1/4 + 30×2/2 + 30×0/1) / 100 = 2/5
    # C = (40×2/4 + 30×1/2 + 30×1/1) / 100 = 13/20
    # D = (40×1/4 + 30×1/2 + 30×0/1) / 100 = 1/4
    a, b, c, d = (p.public_id for p in projects)
    assert [row["project"] for row in tally["ranking"]] == [c, a, b, d]
    assert [row["weighted_support"] for row in tally["ranking"]] == ["13/20", "1/2", "2/5", "1/4"]
    assert [row["weighted_support_percent"] for row in tally["ranking"]] == [
        "65.00",
        "50.00",
        "40.00",
        "25.00",
    ]
    # C (30,000) leaves 70,000; A (60,000) leaves 10,000; B (50,000) no longer fits and is
    # skipped; D (10,000) still fits.
    assert [row["funded"] for row in tally["ranking"]] == [True, True, False, True]
    assert tally["funded"] == [c, a, d]
    assert tally["funded_cents"] == 100_000
    assert tally["ranking"][0]["supporters"] == {"residents": 2, "providers": 1, "municipality": 1}
    assert tally["colleges"]["residents"]["voted"] == 4
    assert tally["counting_weight"] == 100
    assert tally["accepted"] is True
    assert call.status == "accepted"


def test_execution_pays_every_funded_project_in_one_movement(
    city, open_call, projects, voters, eager_celery
):
    fund(city, 150_000)
    cast_the_example(open_call, projects, voters)
    close(open_call)
    call = proposal_execute(proposal=open_call)
    assert call.status == "executed", call.failure_reason
    assert balance(city, "bank") == 50_000
    assert balance(city, "project-payouts") == 100_000
    movement = Movement.objects.get(proposal=call)
    amounts = sorted(movement.postings.values_list("amount_cents", flat=True))
    assert amounts == [-100_000, 10_000, 30_000, 60_000]
    effect = city_transactions(city, "governance.proposal.execute").last().payload
    assert [row["amount_cents"] for row in effect["projects"]] == [30_000, 60_000, 10_000]
    assert {row["recipient"] for row in effect["projects"]} == {projects[0].recipient}


def test_execution_fails_cleanly_when_the_treasury_cannot_pay(city, open_call, projects, voters):
    fund(city, 99_999)
    cast_the_example(open_call, projects, voters)
    close(open_call)
    call = proposal_execute(proposal=open_call)
    assert call.status == "failed"
    assert not Movement.objects.filter(proposal=call).exists()
    assert balance(city, "bank") == 99_999
    assert city_transactions(city, "governance.proposal.fail").last().payload["reason"] == (
        "insufficient_funds"
    )


def test_a_call_nobody_supports_funds_nothing_and_is_rejected(open_call, projects, voters):
    budget_vote_cast(proposal=open_call, member=voters["municipality"][0], project_ids=[])
    call = close(open_call)
    assert call.tally["funded"] == []
    assert call.status == "rejected"


RULES = {
    "colleges": {
        "residents": {"weight": 40, "quorum_percent": 50},
        "providers": {"weight": 60, "quorum_percent": 10},
    }
}


def test_a_college_below_its_quorum_does_not_count():
    tally = compute_budget_tally(
        rules=RULES,
        electorate={"residents": 10, "providers": 2},
        voters={"residents": 4, "providers": 2},
        supporters={"x": {"residents": 4}, "y": {"providers": 1}},
        projects=[{"id": "x", "cost_cents": 10, "position": 1}],
        budget_cents=10,
    )
    assert tally["colleges"]["residents"]["counts"] is False
    assert tally["counting_weight"] == 60
    assert tally["ranking"][0]["weighted_support"] == "0/1"
    assert tally["funded"] == []


def test_ties_go_to_the_cheaper_project_then_to_the_first_position():
    projects = [
        {"id": "late", "cost_cents": 50, "position": 3},
        {"id": "dear", "cost_cents": 80, "position": 1},
        {"id": "early", "cost_cents": 50, "position": 2},
    ]
    tally = compute_budget_tally(
        rules=RULES,
        electorate={"providers": 2},
        voters={"providers": 2},
        supporters={pid["id"]: {"providers": 1} for pid in projects},
        projects=projects,
        budget_cents=100,
    )
    assert [row["project"] for row in tally["ranking"]] == ["early", "late", "dear"]
    assert tally["funded"] == ["early", "late"]
    assert Fraction(tally["ranking"][0]["weighted_support"]) == Fraction(1, 2)


# --- the call and its projects, changed while a draft --------------------------------------


def test_opening_the_vote_freezes_the_budget_and_the_projects_on_the_ledger(
    city, call, projects, voters
):
    open_vote(call)
    payload = city_transactions(city, "governance.proposal.open").last().payload
    assert payload["budget"] == {
        "budget_cents": BUDGET,
        "projects": [
            {
                "project": p.public_id,
                "cost_cents": p.cost_cents,
                "position": p.position,
                "recipient": p.recipient,
            }
            for p in projects
        ],
    }


def test_a_call_with_a_project_over_a_lowered_budget_cannot_open(call, projects, voters):
    proposal_amend(
        proposal=call, by=call.author, title=call.title, body="", parameters={"budget_cents": 1}
    )
    with writes_nothing(), pytest.raises(InvalidInput, match="more than the whole budget"):
        open_vote(call)


def test_the_author_changes_a_project_and_the_ledger_records_it(city, call, projects, provider):
    dalles = projects[3]
    before = city_transactions(city).count()
    budget_project_update(
        proposal=call,
        by=call.author,
        project_id=dalles.public_id,
        title=dalles.title,
        description=dalles.description,
        cost_cents=dalles.cost_cents,
        recipient=dalles.recipient,
    )
    assert city_transactions(city).count() == before  # nothing changed, nothing written
    budget_project_update(
        proposal=call,
        by=call.author,
        project_id=dalles.public_id,
        title="Dalles drainantes",
        cost_cents=12_000,
        recipient=call.author.identity.did,
    )
    dalles.refresh_from_db()
    assert (dalles.title, dalles.cost_cents, dalles.position) == ("Dalles drainantes", 12_000, 4)
    payload = city_transactions(city, "governance.budget.project.amend").get().payload
    assert payload["project"] == dalles.public_id
    assert (payload["cost_cents"], payload["recipient"]) == (12_000, call.author.identity.did)
    assert payload["content"] == project_digest(dalles)


def test_the_author_withdraws_a_project_of_the_draft(city, call, projects):
    budget_project_remove(proposal=call, by=call.author, project_id=projects[0].public_id)
    assert list(call.budget_projects.values_list("position", flat=True)) == [2, 3, 4]
    payload = city_transactions(city, "governance.budget.project.remove").get().payload
    assert payload == {"proposal": call.public_id, "project": projects[0].public_id}


def test_projects_are_not_changed_by_another_member_nor_once_open(
    city, staff, call, projects, open_call
):
    other = join(city, "residents", by=staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        budget_project_remove(proposal=call, by=other, project_id=projects[0].public_id)
    with writes_nothing(), pytest.raises(WrongState):
        budget_project_remove(proposal=call, by=call.author, project_id=projects[0].public_id)


def test_a_project_of_another_call_is_not_changed(resident, call, projects, provider):
    other = budget_call(resident)
    with writes_nothing(), pytest.raises(InvalidInput):
        budget_project_remove(proposal=other, by=resident, project_id=projects[0].public_id)


def test_a_call_is_created_with_its_projects_all_or_nothing(city, resident, provider):
    did = provider.identity.did
    call = budget_call_create(
        author=resident,
        title="Budget 2027",
        body="",
        budget_cents=BUDGET,
        projects=[ProjectFields(title=t, cost_cents=c, recipient=did) for t, c in PROJECTS],
    )
    assert call.parameters == {"budget_cents": BUDGET}
    assert [p.title for p in call.budget_projects.order_by("position")] == [t for t, _ in PROJECTS]
    with writes_nothing(), pytest.raises(InvalidInput):
        budget_call_create(
            author=resident,
            title="Budget 2028",
            budget_cents=BUDGET,
            projects=[
                ProjectFields(title="Bon", cost_cents=1_000, recipient=did),
                ProjectFields(title="Trop cher", cost_cents=BUDGET + 1, recipient=did),
            ],
        )


def test_a_call_is_amended_all_or_nothing(city, call, projects, provider):
    did = provider.identity.did
    a, b, c, d = projects
    budget_call_amend(
        proposal=call,
        by=call.author,
        title="Budget révisé",
        budget_cents=80_000,
        projects=[
            ProjectFields(
                title="Aire de jeux", cost_cents=55_000, recipient=did, public_id=a.public_id
            ),
            ProjectFields(title="Fontaine", cost_cents=20_000, recipient=did),
        ],
        remove=[b.public_id],
    )
    call.refresh_from_db()
    assert (call.title, call.parameters) == ("Budget révisé", {"budget_cents": 80_000})
    rows = list(call.budget_projects.order_by("position").values_list("title", "cost_cents"))
    assert rows == [
        ("Aire de jeux", 55_000),
        ("Composteurs", 30_000),
        ("Dalles", 10_000),
        ("Fontaine", 20_000),
    ]
    # Lowering the budget under a project left unchanged (Aire de jeux, 55,000) is refused.
    with writes_nothing(), pytest.raises(InvalidInput, match="Aire de jeux"):
        budget_call_amend(proposal=call, by=call.author, title="X", budget_cents=50_000)


def test_a_yes_no_proposal_is_not_amended_as_a_budget_call(resident):
    proposal = proposal_create(author=resident, kind="general", title="Un banc")
    with writes_nothing(), pytest.raises(WrongState):
        budget_call_amend(proposal=proposal, by=resident, title="X", budget_cents=1)

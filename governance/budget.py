"""Participatory budgeting: a `fund_project` proposal with a `budget_cents` parameter is a
budget call gathering several projects. Members pick projects within the budget (a knapsack
ballot); at the close, projects are ranked by college-weighted support and funded in order
while the budget lasts (`governance.tally.compute_budget_tally`).

The services here share the locking order and the vote path of `governance.services`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Sum, TextField, Value, When
from django.db.models.functions import Cast, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext as _

from ledger.canonical import canonical_json
from ledger.services import ledger_append

from .errors import InvalidInput, InvalidRules, NotAllowed, WrongState
from .models import Ballot, BudgetProject, Choice, Membership, Proposal, ProposalStatus
from .services import _ballot_record, treasury_move
from .tally import compute_budget_tally

MAX_PROJECTS = 50


def is_budget_call(proposal: Proposal) -> bool:
    return "budget_cents" in (proposal.parameters or {})


def budget_parameters(parameters: dict) -> dict:
    """The parameters of a budget call: `{"budget_cents": int > 0}`."""
    budget = parameters.get("budget_cents")
    if type(budget) is not int or budget <= 0:
        raise InvalidRules(_("A participatory budget has a positive amount."))
    return {"budget_cents": budget}


def project_digest(project: BudgetProject) -> str:
    return hashlib.sha256(
        canonical_json({"title": project.title, "description": project.description})
    ).hexdigest()


@transaction.atomic
def budget_project_add(
    *,
    proposal: Proposal,
    by: Membership,
    title: str,
    description: str = "",
    cost_cents: int,
    recipient: str,
) -> BudgetProject:
    """The author adds a project to their budget call while it is a draft. The ledger
    records the digest of its title and description, never the text."""
    proposal = Proposal.objects.select_for_update().select_related("city").get(pk=proposal.pk)
    by = Membership.objects.select_related("identity").get(pk=by.pk)
    if proposal.author_id != by.pk or not by.is_approved:
        raise NotAllowed(_("Only its author, still a member, adds projects to a budget call."))
    if not is_budget_call(proposal):
        raise WrongState(_("This proposal is not a participatory budget."))
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState(_("Projects are frozen once the vote opens."))
    title = title.strip()
    if not title:
        raise InvalidInput(_("A project needs a title."))
    if type(cost_cents) is not int or cost_cents <= 0:
        raise InvalidInput(_("A project has a positive cost."))
    if cost_cents > proposal.parameters["budget_cents"]:
        raise InvalidInput(_("A project cannot cost more than the whole budget."))
    if not isinstance(recipient, str) or not recipient.startswith("did:key:"):
        raise InvalidInput(_("A project names the recipient’s DID."))
    positions = list(proposal.budget_projects.values_list("position", flat=True))
    if len(positions) >= MAX_PROJECTS:
        raise InvalidInput(_("A budget call has at most %(n)d projects.") % {"n": MAX_PROJECTS})
    project = BudgetProject.objects.create(
        proposal=proposal,
        title=title,
        description=description.strip(),
        cost_cents=cost_cents,
        recipient=recipient,
        position=max(positions, default=0) + 1,
    )
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.budget.project.add",
        payload={
            "proposal": proposal.public_id,
            "project": project.public_id,
            "cost_cents": cost_cents,
            "recipient": recipient,
            "content": project_digest(project),
        },
    )
    return project


def budget_vote_payload(*, proposal: Proposal, college_slug: str, selection: list[str]) -> dict:
    return {"proposal": proposal.public_id, "college": college_slug, "selection": selection}


@transaction.atomic
def budget_vote_cast(
    *,
    proposal: Proposal,
    member: Membership,
    project_ids: list[str],
    now: datetime | None = None,
) -> Ballot:
    """Record `member`'s knapsack ballot: distinct projects of this call whose total cost is
    within the budget (an empty selection is an abstention). Same path and locking order as
    `vote_cast`: the proposal row first; the last ballot counts while the rules allow."""
    if not isinstance(project_ids, list | tuple) or not all(
        isinstance(pid, str) for pid in project_ids
    ):
        raise InvalidInput(_("Pick projects by their identifiers."))
    if len(set(project_ids)) != len(project_ids):
        raise InvalidInput(_("A project can be picked only once."))
    selection = sorted(project_ids)

    def payload_of(locked: Proposal, college_slug: str) -> dict:
        if not is_budget_call(locked):
            raise WrongState(_("This proposal is not a participatory budget."))
        costs = dict(
            BudgetProject.objects.filter(proposal=locked).values_list("public_id", "cost_cents")
        )
        if any(pid not in costs for pid in selection):
            raise InvalidInput(_("Some picked projects are not part of this budget call."))
        total = sum(costs[pid] for pid in selection)
        if total > locked.parameters["budget_cents"]:
            raise InvalidInput(_("The projects you picked cost more than the budget."))
        return budget_vote_payload(proposal=locked, college_slug=college_slug, selection=selection)

    return _ballot_record(
        proposal=proposal,
        member=member,
        choice=Choice.YES if selection else Choice.ABSTAIN,
        selection=selection,
        payload_of=payload_of,
        now=now,
    )


def budget_counts(
    proposal: Proposal, projects: list[BudgetProject]
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Ballots per college and, per project, the ballots of each college that picked it: one
    aggregate query (a project id is found in the stored JSON list as its quoted string)."""
    selection_text = Cast("selection", TextField())
    picks = {
        f"p{index}": Sum(
            Case(
                When(
                    GreaterThan(StrIndex(selection_text, Value(f'"{project.public_id}"')), 0),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        for index, project in enumerate(projects)
    }
    rows = (
        Ballot.objects.filter(proposal=proposal)
        .values("college__slug")
        .annotate(voters=Count("id"), **picks)
        .order_by()
    )
    voters: dict[str, int] = {}
    supporters: dict[str, dict[str, int]] = {project.public_id: {} for project in projects}
    for row in rows:
        slug = row["college__slug"]
        voters[slug] = row["voters"]
        for index, project in enumerate(projects):
            supporters[project.public_id][slug] = row[f"p{index}"] or 0
    return voters, supporters


def budget_tally(proposal: Proposal) -> dict:
    """The tally `proposal_close` records for a budget call."""
    projects = list(BudgetProject.objects.filter(proposal=proposal).order_by("position"))
    voters, supporters = budget_counts(proposal, projects)
    return compute_budget_tally(
        rules=proposal.rules.rules,
        electorate=proposal.electorate_sizes,
        voters=voters,
        supporters=supporters,
        projects=[
            {"id": p.public_id, "cost_cents": p.cost_cents, "position": p.position}
            for p in projects
        ],
        budget_cents=proposal.parameters["budget_cents"],
    )


def budget_pay(proposal: Proposal) -> dict:
    """The effect of an accepted budget call: ONE treasury movement paying every funded
    project (one posting each), so the payout is all or nothing."""
    funded = proposal.tally["funded"]
    projects = {
        p.public_id: p
        for p in BudgetProject.objects.filter(proposal=proposal, public_id__in=funded)
    }
    if set(projects) != set(funded):
        raise InvalidRules(_("A funded project is missing."))
    paid = [projects[pid] for pid in funded]
    total = sum(p.cost_cents for p in paid)
    movement = treasury_move(
        city=proposal.city,
        label=proposal.title[:200],
        postings=[*(("project-payouts", p.cost_cents) for p in paid), ("bank", -total)],
        proposal=proposal,
    )
    return {
        "effect": "paid",
        "amount_cents": total,
        "movement": movement.public_id,
        "projects": [
            {"project": p.public_id, "amount_cents": p.cost_cents, "recipient": p.recipient}
            for p in paid
        ],
    }

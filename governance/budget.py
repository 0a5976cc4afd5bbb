"""Participatory budgeting: a `fund_project` proposal with a `budget_cents` parameter is a
budget call gathering several projects. Members pick projects within the budget (a knapsack
ballot); at the close, projects are ranked by college-weighted support and funded in order
while the budget lasts (`governance.tally.compute_budget_tally`).

The services here share the locking order and the vote path of `governance.services`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Sum, TextField, Value, When
from django.db.models.functions import Cast, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext as _

from ledger.canonical import canonical_json
from ledger.models import Transaction
from ledger.services import ledger_append

from .errors import InvalidInput, InvalidRules, NotAllowed, WrongState
from .models import (
    Ballot,
    BudgetProject,
    Choice,
    Membership,
    Proposal,
    ProposalKind,
    ProposalStatus,
)
from .services import _ballot_record, proposal_amend, proposal_create, treasury_move
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


def _locked_draft_call(proposal: Proposal, by: Membership) -> tuple[Proposal, Membership]:
    """The budget call locked for a change of its projects, by its author, while a draft."""
    proposal = Proposal.objects.select_for_update().select_related("city").get(pk=proposal.pk)
    by = Membership.objects.select_related("identity").get(pk=by.pk)
    if proposal.author_id != by.pk or not by.is_approved:
        raise NotAllowed(
            _("Only its author, still a member, changes the projects of a budget call.")
        )
    if not is_budget_call(proposal):
        raise WrongState(_("This proposal is not a participatory budget."))
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState(_("Projects are frozen once the vote opens."))
    return proposal, by


def _project_fields(
    proposal: Proposal, *, title: str, description: str, cost_cents: int, recipient: str
) -> dict:
    title = title.strip()
    if not title:
        raise InvalidInput(_("A project needs a title."))
    if type(cost_cents) is not int or cost_cents <= 0:
        raise InvalidInput(_("A project has a positive cost."))
    if cost_cents > proposal.parameters["budget_cents"]:
        raise InvalidInput(
            _("The project “%(title)s” costs more than the whole budget.") % {"title": title}
        )
    if not isinstance(recipient, str) or not recipient.startswith("did:key:"):
        raise InvalidInput(_("A project names the recipient’s DID."))
    return {
        "title": title,
        "description": description.strip(),
        "cost_cents": cost_cents,
        "recipient": recipient,
    }


def _project_payload(project: BudgetProject) -> dict:
    return {
        "proposal": project.proposal.public_id,
        "project": project.public_id,
        "cost_cents": project.cost_cents,
        "recipient": project.recipient,
        "content": project_digest(project),
    }


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
    proposal, by = _locked_draft_call(proposal, by)
    fields = _project_fields(
        proposal, title=title, description=description, cost_cents=cost_cents, recipient=recipient
    )
    positions = list(proposal.budget_projects.values_list("position", flat=True))
    if len(positions) >= MAX_PROJECTS:
        raise InvalidInput(_("A budget call has at most %(n)d projects.") % {"n": MAX_PROJECTS})
    project = BudgetProject.objects.create(
        proposal=proposal, position=max(positions, default=0) + 1, **fields
    )
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.budget.project.add",
        payload=_project_payload(project),
    )
    return project


def _project_of(proposal: Proposal, public_id: str) -> BudgetProject:
    project = (
        BudgetProject.objects.select_related("proposal")
        .filter(proposal=proposal, public_id=public_id)
        .first()
    )
    if project is None:
        raise InvalidInput(_("This project is not part of this budget call."))
    return project


@transaction.atomic
def budget_project_update(
    *,
    proposal: Proposal,
    by: Membership,
    project_id: str,
    title: str,
    description: str = "",
    cost_cents: int,
    recipient: str,
) -> BudgetProject:
    """The author changes a project of their draft budget call. Nothing is written when
    nothing changed; otherwise the ledger records its new cost, recipient and digest."""
    proposal, by = _locked_draft_call(proposal, by)
    project = _project_of(proposal, project_id)
    fields = _project_fields(
        proposal, title=title, description=description, cost_cents=cost_cents, recipient=recipient
    )
    if all(getattr(project, name) == value for name, value in fields.items()):
        return project
    for name, value in fields.items():
        setattr(project, name, value)
    project.save(update_fields=list(fields))
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.budget.project.amend",
        payload=_project_payload(project),
    )
    return project


@transaction.atomic
def budget_project_remove(*, proposal: Proposal, by: Membership, project_id: str) -> None:
    """The author withdraws a project from their draft budget call (nobody voted yet)."""
    proposal, by = _locked_draft_call(proposal, by)
    project = _project_of(proposal, project_id)
    project.delete()
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.budget.project.remove",
        payload={"proposal": proposal.public_id, "project": project_id},
    )


@dataclass(frozen=True)
class ProjectFields:
    """A project as a form gives it: `public_id` names an existing project to change, empty
    for a new one."""

    title: str
    cost_cents: int
    recipient: str
    description: str = ""
    public_id: str = ""


@transaction.atomic
def budget_call_create(
    *,
    author: Membership,
    title: str,
    body: str = "",
    budget_cents: int,
    projects: Sequence[ProjectFields],
) -> Proposal:
    """A draft budget call with its projects, all or nothing: the `fund_project` proposal
    (`proposal_create`) then each project (`budget_project_add`)."""
    call = proposal_create(
        author=author,
        kind=ProposalKind.FUND_PROJECT,
        title=title,
        body=body,
        parameters={"budget_cents": budget_cents},
    )
    for project in projects:
        budget_project_add(
            proposal=call,
            by=author,
            title=project.title,
            description=project.description,
            cost_cents=project.cost_cents,
            recipient=project.recipient,
        )
    return call


@transaction.atomic
def budget_call_amend(
    *,
    proposal: Proposal,
    by: Membership,
    title: str,
    body: str = "",
    budget_cents: int,
    projects: Sequence[ProjectFields] = (),
    remove: Sequence[str] = (),
) -> Proposal:
    """The author amends their draft budget call, all or nothing: its text and budget
    (`proposal_amend`), then the projects withdrawn, changed and added. Every project left
    must fit in the (possibly lowered) budget."""
    if not is_budget_call(proposal):
        raise WrongState(_("This proposal is not a participatory budget."))
    call = proposal_amend(
        proposal=proposal,
        by=by,
        title=title,
        body=body,
        parameters={"budget_cents": budget_cents},
    )
    for project_id in remove:
        budget_project_remove(proposal=call, by=by, project_id=project_id)
    for project in projects:
        fields = {
            "title": project.title,
            "description": project.description,
            "cost_cents": project.cost_cents,
            "recipient": project.recipient,
        }
        if project.public_id:
            budget_project_update(proposal=call, by=by, project_id=project.public_id, **fields)
        else:
            budget_project_add(proposal=call, by=by, **fields)
    over = BudgetProject.objects.filter(proposal=call, cost_cents__gt=budget_cents).first()
    if over is not None:
        raise InvalidInput(
            _("The project “%(title)s” costs more than the whole budget.") % {"title": over.title}
        )
    return call


def budget_frozen(proposal: Proposal) -> dict:
    """What the opening of a budget call's vote freezes, on the ledger with it: the budget
    and each project's id, cost, position and recipient (ids and integers only), from which
    `python -m governance.retally` re-counts the call. Refused without projects, or when
    one costs more than the budget."""
    budget = proposal.parameters["budget_cents"]
    projects = list(BudgetProject.objects.filter(proposal=proposal).order_by("position"))
    if not projects:
        raise InvalidInput(_("A participatory budget needs projects before its vote opens."))
    if any(project.cost_cents > budget for project in projects):
        raise InvalidInput(_("A project costs more than the whole budget: amend the draft."))
    return {
        "budget_cents": budget,
        "projects": [
            {
                "project": project.public_id,
                "cost_cents": project.cost_cents,
                "position": project.position,
                "recipient": project.recipient,
            }
            for project in projects
        ],
    }


def budget_vote_payload(*, proposal: Proposal, college_slug: str, selection: list[str]) -> dict:
    return {"proposal": proposal.public_id, "college": college_slug, "selection": selection}


def budget_selection(project_ids) -> list[str]:
    """The ballot's selection as the ledger records it: distinct project ids, sorted."""
    if not isinstance(project_ids, list | tuple) or not all(
        isinstance(pid, str) for pid in project_ids
    ):
        raise InvalidInput(_("Pick projects by their identifiers."))
    if len(set(project_ids)) != len(project_ids):
        raise InvalidInput(_("A project can be picked only once."))
    return sorted(project_ids)


def budget_selection_check(proposal: Proposal, selection: list[str]) -> None:
    """Refuse a selection that is not of this call's projects or costs more than its budget."""
    if not is_budget_call(proposal):
        raise WrongState(_("This proposal is not a participatory budget."))
    costs = dict(
        BudgetProject.objects.filter(proposal=proposal).values_list("public_id", "cost_cents")
    )
    if any(pid not in costs for pid in selection):
        raise InvalidInput(_("Some picked projects are not part of this budget call."))
    if sum(costs[pid] for pid in selection) > proposal.parameters["budget_cents"]:
        raise InvalidInput(_("The projects you picked cost more than the budget."))


@transaction.atomic
def budget_vote_cast(
    *,
    proposal: Proposal,
    member: Membership,
    project_ids: list[str],
    now: datetime | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Ballot:
    """Record `member`'s knapsack ballot: distinct projects of this call whose total cost is
    within the budget (an empty selection is an abstention). Same path and locking order as
    `vote_cast`: the proposal row first; the last ballot counts while the rules allow.

    `append` writes the signed `governance.vote.cast` transaction when the voter signed it
    themselves (self-custody, see `governance.actions.CastBudgetVote`); it must be by the
    member's DID and carry exactly `budget_vote_payload(...)`, or nothing is recorded."""
    selection = budget_selection(project_ids)

    def payload_of(locked: Proposal, college_slug: str) -> dict:
        budget_selection_check(locked, selection)
        return budget_vote_payload(proposal=locked, college_slug=college_slug, selection=selection)

    return _ballot_record(
        proposal=proposal,
        member=member,
        choice=Choice.YES if selection else Choice.ABSTAIN,
        selection=selection,
        payload_of=payload_of,
        now=now,
        append=append,
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

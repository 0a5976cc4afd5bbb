"""The participatory budget on the proposal page: the projects, the knapsack vote form (plain
checkboxes, HTMX-enhanced) and, after the close, the ranking with the funded projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from ledger.errors import LedgerError

from . import selectors
from .budget import budget_vote_cast, is_budget_call
from .models import Ballot, BudgetProject, Proposal
from .selectors import Money


class BudgetVoteForm(forms.Form):
    projects = forms.MultipleChoiceField(
        label=gettext_lazy("Projects I support"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, projects: list[BudgetProject], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = [(p.public_id, p.title) for p in projects]


@dataclass
class ProjectRow:
    project: BudgetProject
    cost: Money
    picked: bool = False
    rank: int | None = None
    weighted_support_percent: Decimal | None = None
    weighted_support: str = ""
    funded: bool = False


@dataclass
class BudgetPanel:
    budget: Money
    budget_cents: int
    projects: list[ProjectRow]
    form: BudgetVoteForm
    ranking: list[ProjectRow] = field(default_factory=list)
    funded: Money | None = None
    closed: bool = False


def budget_panel(
    proposal: Proposal, *, ballot: Ballot | None, form: BudgetVoteForm | None = None
) -> BudgetPanel | None:
    """What the page shows of a budget call (None for any other proposal)."""
    if not is_budget_call(proposal):
        return None
    projects = list(BudgetProject.objects.filter(proposal=proposal).order_by("position"))
    picked = set(ballot.selection) if ballot else set()
    rows = {
        p.public_id: ProjectRow(project=p, cost=Money(p.cost_cents), picked=p.public_id in picked)
        for p in projects
    }
    if form is None:
        form = BudgetVoteForm(projects=projects, initial={"projects": sorted(picked)})
    panel = BudgetPanel(
        budget=Money(proposal.parameters["budget_cents"]),
        budget_cents=proposal.parameters["budget_cents"],
        projects=list(rows.values()),
        form=form,
    )
    tally = proposal.tally or {}
    if tally.get("budget"):
        for entry in tally["ranking"]:
            row = rows.get(entry["project"])
            if row is None:
                continue
            row.rank = entry["rank"]
            row.weighted_support = entry["weighted_support"]
            row.weighted_support_percent = Decimal(entry["weighted_support_percent"])
            row.funded = entry["funded"]
            panel.ranking.append(row)
        panel.funded = Money(tally["funded_cents"])
        panel.closed = True
    return panel


@require_POST
@vary_on_headers("HX-Request")
def budget_vote(request, slug: str, public_id: str):
    """Cast my knapsack ballot. Without JavaScript it redirects back to the proposal."""
    from . import views as pages  # the page module renders; it imports this one

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    city, viewer = pages._city_and_viewer(request, slug)
    proposal = selectors.proposal_get(city, public_id, viewer=viewer)
    pages._require_member(viewer)
    projects = list(BudgetProject.objects.filter(proposal=proposal).order_by("position"))
    form = BudgetVoteForm(request.POST, projects=projects)
    status = 400
    if form.is_valid():
        try:
            budget_vote_cast(
                proposal=proposal, member=viewer, project_ids=form.cleaned_data["projects"]
            )
        except LedgerError as error:
            form.add_error(None, error.message)
            status = pages._error_status(error)
        else:
            if not request.htmx:
                messages.success(request, _("Your vote is recorded and signed."))
                return redirect(pages._proposal_url(proposal, "vote-panel"))
            form, status = None, 200
    partial = "vote-panel" if request.htmx else ""
    return pages._render_proposal(
        request, city, viewer, proposal, partial=partial, status=status, budget_form=form
    )

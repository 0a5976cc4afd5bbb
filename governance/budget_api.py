"""REST API of participatory budgeting, mounted by `governance.api`:
`.../proposals/{id}/projects` (the author adds a project to their draft budget call) and
`.../proposals/{id}/budget-votes` (my knapsack ballot, signed by the platform for a custodial
DID; self-custody signing of budget ballots is not offered yet)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .actions import platform_signer
from .api import (
    TAG,
    BallotOutput,
    _city_and_viewer,
    _parsed,
    _proposal_params,
    _require_member,
    _voter,
    answers,
)
from .budget import budget_project_add, budget_vote_cast
from .errors import NotAllowed
from .models import BudgetProject


class ProjectInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, default="")
    cost_cents = serializers.IntegerField(min_value=1)
    recipient = serializers.CharField(max_length=200, help_text="the recipient's did:key")


class ProjectOutput(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    title = serializers.CharField()
    description = serializers.CharField()
    cost_cents = serializers.IntegerField()
    recipient = serializers.CharField()
    position = serializers.IntegerField()


class BudgetVoteInput(serializers.Serializer):
    projects = serializers.ListField(
        child=serializers.CharField(max_length=32),
        allow_empty=True,
        help_text="the public ids of the projects I support (empty: abstain)",
    )


class BudgetBallotOutput(BallotOutput):
    selection = serializers.ListField(child=serializers.CharField())


class ProjectCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=ProjectInput,
        responses=answers(201, ProjectOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_budget_project_add",
        description="The author adds a project to their draft budget call; the ledger "
        "records the digest of its title and description. Frozen once the vote opens.",
    )
    def post(self, request, slug: str, public_id: str):
        city, viewer = _city_and_viewer(request, slug)
        _require_member(viewer)
        proposal = selectors.proposal_get(city, public_id, viewer=viewer)
        if proposal.author_id != viewer.pk:
            raise NotAllowed(_("Only the author adds projects to a budget call."))
        data = _parsed(ProjectInput, request.data)
        platform_signer(viewer.identity)
        project = budget_project_add(proposal=proposal, by=viewer, **data)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class BudgetVoteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=BudgetVoteInput,
        responses=answers(201, BudgetBallotOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_budget_vote_cast",
        description="Cast (or change, if the rules allow) my knapsack ballot on a budget "
        "call: distinct projects of the call whose total cost is within the budget. Signed "
        "by the platform for a custodial DID.",
    )
    def post(self, request, slug: str, public_id: str):
        voter = _voter(request, slug, public_id)
        projects = _parsed(BudgetVoteInput, request.data)["projects"]
        platform_signer(voter["member"].identity)
        ballot = budget_vote_cast(
            proposal=voter["proposal"], member=voter["member"], project_ids=projects
        )
        return Response(BudgetBallotOutput(ballot).data, status=status.HTTP_201_CREATED)


def budget_results(proposal) -> dict:
    """The results endpoint's answer for a closed budget call: the recorded tally, with each
    ranked project's title."""
    titles = dict(BudgetProject.objects.filter(proposal=proposal).values_list("public_id", "title"))
    tally = proposal.tally
    return {
        "proposal": proposal.public_id,
        "status": proposal.status,
        "closed_at": proposal.closed_at,
        **tally,
        "ranking": [{**row, "title": titles.get(row["project"], "")} for row in tally["ranking"]],
    }


def routes(route_for, proposal: str) -> list:
    return [
        *route_for(f"{proposal}/projects", ProjectCreateApi, "budget_projects"),
        *route_for(f"{proposal}/budget-votes", BudgetVoteApi, "budget_votes"),
    ]

"""REST API of participatory budgeting, mounted by `governance.api`:
`.../proposals/{id}/projects` (the author adds a project to their draft budget call) and
`.../proposals/{id}/budget-votes` (my knapsack ballot, a signed action like a yes/no vote:
`budget-votes/prepare` answers the bytes a self-custody voter signs, `budget-votes` records
the ballot, signed by the platform for a custodial DID or by the voter's own key)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.api import PreparedOutput, SignatureFields
from identity.signed_actions import action_execute, action_prepare, prepared_as_dict
from smartb.api import parsed

from . import selectors
from .actions import CastBudgetVote, platform_signer
from .api import (
    TAG,
    BallotOutput,
    _city_and_viewer,
    _proposal_params,
    _require_member,
    _voter,
    answers,
)
from .budget import budget_project_add
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


class BudgetVoteSubmitInput(BudgetVoteInput, SignatureFields):
    pass


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
        data = parsed(ProjectInput, request.data)
        platform_signer(viewer.identity)
        project = budget_project_add(proposal=proposal, by=viewer, **data)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


CAST_BUDGET_VOTE = CastBudgetVote()


class BudgetVotePrepareApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=BudgetVoteInput,
        responses=answers(200, PreparedOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_budget_vote_prepare",
        description="The canonical bytes (RFC 8785) of my knapsack ballot's ledger "
        "transaction, for a self-custody DID to sign (the selection sorted). Writes nothing.",
    )
    def post(self, request, slug: str, public_id: str):
        data = {**_voter(request, slug, public_id), **parsed(BudgetVoteInput, request.data)}
        prepared = action_prepare(CAST_BUDGET_VOTE, user=request.user, data=data)
        return Response(prepared_as_dict(prepared))


class BudgetVoteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=_proposal_params(),
        request=BudgetVoteSubmitInput,
        responses=answers(201, BudgetBallotOutput, 400, 401, 403, 404, 409),
        tags=[TAG],
        operation_id="governance_budget_vote_cast",
        description="Cast (or change, if the rules allow) my knapsack ballot on a budget "
        "call: distinct projects of the call whose total cost is within the budget. Signed "
        "by my DID: by the platform for a custodial DID, or by me (created_at and signature "
        "from budget-votes/prepare).",
    )
    def post(self, request, slug: str, public_id: str):
        data = {**_voter(request, slug, public_id), **parsed(BudgetVoteSubmitInput, request.data)}
        created_at, signature = data.pop("created_at", None), data.pop("signature", None)
        ballot = action_execute(
            CAST_BUDGET_VOTE,
            user=request.user,
            data=data,
            created_at=created_at,
            signature=signature,
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
        *route_for(f"{proposal}/budget-votes/prepare", BudgetVotePrepareApi, "budget_vote_prepare"),
        *route_for(f"{proposal}/budget-votes", BudgetVoteApi, "budget_votes"),
    ]

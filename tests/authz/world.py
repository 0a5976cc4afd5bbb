"""The world the authorization matrix runs in, built once through the services the way the
pages build it (the builders of `tests/governance_api/support.py`).

Two cities: `bourg`, where every persona but the foreigners stands, and `annecy`. The
personas are accounts (`World.users`); the objects are what the rows point at: a draft only
its author and the staff may see, an open vote (the resident already voted on it and the
block is sealed, so the resident has a receipt), a closed vote, a participatory budget call
as a draft and another one open, a pending request, a member the staff may revoke and a
membership of the other city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance import services
from governance.budget import budget_project_add
from governance.models import BudgetProject, City, Membership, Proposal
from identity.models import User
from ledger.services import chain_seal
from tests.factories import UserFactory
from tests.governance_api.support import POSTAL_CODES, appoint, ask, draft, join, make_city

# The columns of the matrix, in the order of the status tuples of `matrix.ROWS`.
PERSONAS = (
    "anonymous",  # not signed in
    "foreigner",  # an approved resident of another city
    "foreign_staff",  # the municipality staff of another city
    "applicant",  # a pending request to this city's residents
    "resident",  # an approved resident, author of the drafts and open votes
    "provider",  # an approved provider
    "staff",  # this city's municipality staff
    "operator",  # SMART B's operator (is_staff), member of no city
)


# The hidden draft's title, found in no other object of the world.
HIDDEN_TITLE = "Un brouillon que seuls son auteur et la collectivité voient"


@dataclass
class World:
    city: City
    other_city: City
    operator: User
    staff: Membership
    resident: Membership
    neighbour: Membership
    provider: Membership
    applicant: Membership
    foreigner: Membership
    foreign_staff: Membership
    draft: Proposal
    open: Proposal
    closed: Proposal
    budget_draft: Proposal
    budget_open: Proposal
    budget_project: BudgetProject
    users: dict[str, User | None] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, persona: str) -> User | None:
        return self.users[persona]


def _budget_call(author: Membership, recipient: Membership) -> Proposal:
    call = services.proposal_create(
        author=author,
        kind="fund_project",
        title="Budget participatif",
        parameters={"budget_cents": 100_000},
    )
    budget_project_add(
        proposal=call,
        by=author,
        title="Aire de jeux",
        cost_cents=60_000,
        recipient=recipient.identity.did,
    )
    return call


def _open(proposal: Proposal, *, hours: int = 48) -> Proposal:
    return services.proposal_open(
        proposal=proposal, by=proposal.author, closes_at=timezone.now() + timedelta(hours=hours)
    )


def _closed(author: Membership, voters: list[Membership]) -> Proposal:
    """A general vote held ten days ago, voted yes by `voters` and closed."""
    start = timezone.now() - timedelta(days=10)
    proposal = draft(author)
    services.proposal_open(
        proposal=proposal, by=author, closes_at=start + timedelta(days=3), now=start
    )
    for voter in voters:
        services.vote_cast(
            proposal=proposal, member=voter, choice="yes", now=start + timedelta(hours=1)
        )
    return services.proposal_close(proposal=proposal, now=start + timedelta(days=4))


def world_build() -> World:
    operator = UserFactory(is_staff=True)
    city = make_city(operator, "bourg", POSTAL_CODES)
    other_city = make_city(operator, "annecy", ["74000"])
    staff = appoint(city, operator)
    foreign_staff = appoint(other_city, operator)
    resident = join(city, "residents", by=staff.user)
    neighbour = join(city, "residents", by=staff.user)
    provider = join(city, "providers", by=staff.user)
    foreigner = join(other_city, "residents", by=foreign_staff.user)
    closed = _closed(resident, [resident, provider, staff])
    open_vote = _open(draft(resident))
    services.vote_cast(proposal=open_vote, member=resident, choice="yes")
    budget_open = _open(_budget_call(resident, provider))
    budget_draft = _budget_call(resident, provider)
    applicant = ask(city, "residents")  # after the votes opened: in no electorate
    # The newest proposal, so that the city's home page (the five latest) lists it.
    hidden = services.proposal_create(author=resident, kind="general", title=HIDDEN_TITLE)
    chain_seal(chain=city.chain)

    world = World(
        city=city,
        other_city=other_city,
        operator=operator,
        staff=staff,
        resident=resident,
        neighbour=neighbour,
        provider=provider,
        applicant=applicant,
        foreigner=foreigner,
        foreign_staff=foreign_staff,
        draft=hidden,
        open=open_vote,
        closed=closed,
        budget_draft=budget_draft,
        budget_open=budget_open,
        budget_project=budget_open.budget_projects.get(),
    )
    world.users = {
        "anonymous": None,
        "operator": operator,
        **{
            persona: getattr(world, persona).user
            for persona in PERSONAS
            if persona not in ("anonymous", "operator")
        },
    }
    world.tokens = {
        persona: Token.objects.create(user=user).key
        for persona, user in world.users.items()
        if user is not None
    }
    return world

"""The world the authorization matrix runs in, built once through the services the way the
pages build it (the builders of `tests/governance_api/support.py` and the app store's
factories of `tests/factories.py`).

Two cities: `bourg`, where every persona but the foreigners stands, and `annecy`. The
personas are accounts (`World.users`); the objects are what the rows point at: a draft only
its author and the staff may see, an open vote (the resident already voted on it and the
block is sealed, so the resident has a receipt), a closed vote, a participatory budget call
as a draft and another one open, a pending request, a member the staff may revoke and a
membership of the other city.

The app store: the provider's organisation lists a service in every state (a draft version,
one in audit with its two open audit tasks, a rejected one, an audited one that bourg votes
on and annecy drafts a proposal about, one deployed in bourg by an executed vote, whose next
version is a draft); the operator-provider's organisation has a version in audit (which its
owner may not audit); the rival owns an organisation with no service. Bounties: a city's
task open, one claimed by the resident, one the resident completed, and a completed audit
task the operator pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from rest_framework.authtoken.models import Token

from cooperative.models import ShareMovement
from cooperative.services import cooperative_setup, share_subscribe
from governance import services
from governance.budget import budget_project_add
from governance.models import BudgetProject, City, Membership, Proposal
from identity.models import User
from impact.models import Batch, Claim, Evidence
from impact.simulation.models import Scenario
from ledger.services import chain_seal
from marketplace import services as store
from marketplace.data.models import Agreement, Consent, Dataset, DatasetVersion, Offer, Quote
from marketplace.data.services import dataset_version_add
from marketplace.data.services.contracts import quote_create
from marketplace.models import Deployment, Provider, ServiceVersion, Task
from marketplace.services.audits import audit_task
from tests.cooperative.helpers import admitted
from tests.factories import (
    UserFactory,
    audited_version_make,
    dataset_make,
    impact_batch_make,
    impact_claim_make,
    impact_curator_make,
    provider_make,
    service_make,
    valid_siret,
    version_make,
)
from tests.governance_api.support import POSTAL_CODES, appoint, ask, draft, join, make_city
from tests.impact_simulation.helpers import known_scenario
from tests.marketplace_contracts.helpers import OPEN_POLICY, PERSONAL_POLICY, agree, offer_make
from witnesses.models import WitnessRelation
from witnesses.services import witness_add, witness_observe

# The columns of the matrix, in the order of the status tuples of `matrix.ROWS`.
PERSONAS = (
    "anonymous",  # not signed in
    "foreigner",  # an approved resident of another city
    "foreign_staff",  # the municipality staff of another city
    "applicant",  # a pending request to this city's residents
    "resident",  # an approved resident, author of the drafts and open votes
    "provider",  # an approved provider, owner of the organisation that lists the services
    "rival",  # an approved provider too, owner of another organisation
    "staff",  # this city's municipality staff
    "operator",  # SMART B's operator (is_staff), member of no city: the auditor
    "operator_provider",  # another operator account, owner of an organisation of its own
    "curator",  # an approved resident made curator by the staff (impact and data curation)
)


# The hidden draft's title, found in no other object of the world.
HIDDEN_TITLE = "Un brouillon que seuls son auteur et la collectivité voient"
# Texts of the app store that only some personas may read, each found nowhere else.
DEPLOY_DRAFT_TITLE = "Déployer en secret à Bourg"  # bourg's draft deploy_service proposal
ELSEWHERE_TITLE = "Déployer en secret à Annecy"  # annecy's draft deploy_service proposal
UNAUDITED_NAMES = {  # the provider's services that never passed both audits
    "draft": "Compteurs connectés confidentiels",
    "in_audit": "Parkings connectés confidentiels",
    "rejected": "Caméras refusées confidentielles",
}
NEXT_DRAFT_LABEL = "9.9-confidentielle"  # the draft next version of the deployed service


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
    # the app store
    rival: Membership
    operator_provider: User
    provider_org: Provider
    rival_org: Provider
    operator_org: Provider
    drafted: ServiceVersion
    in_audit: ServiceVersion
    rejected: ServiceVersion
    audited: ServiceVersion
    deployed: ServiceVersion
    next_draft: ServiceVersion
    own_in_audit: ServiceVersion
    deployment: Deployment
    deploy_open: Proposal
    deploy_draft: Proposal
    deploy_elsewhere: Proposal
    audit_task: Task
    own_audit_task: Task
    audit_task_done: Task
    city_task: Task
    city_task_claimed: Task
    city_task_done: Task
    # the data marketplace and impact (see `_data_and_impact`)
    dataset: Dataset
    offer: Offer
    quote: Quote
    agreement: Agreement
    personal_dataset: Dataset
    personal_agreement: Agreement
    consent: Consent
    neighbour_consent: Consent
    curator: Membership
    claim: Claim
    draft_claim: Claim
    batch: Batch
    scenario: Scenario
    # ... and for their pages (see `_data_and_impact`)
    dataset_version: DatasetVersion
    foreign_dataset: Dataset
    evidence: Evidence
    # the network: simulation pages, witnesses, the cooperative (see `_network`)
    foreign_scenario: Scenario
    relation: WitnessRelation
    foreign_relation: WitnessRelation
    pending_subscription: ShareMovement
    neighbour_subscription: ShareMovement
    missing: str = "inconnu"  # the id of no object: a row for a URL the world has nothing for
    first_block: int = 0  # the height of bourg's first sealed block
    first_entry: int = 0  # the index of bourg's first ledger entry
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


def _closed(
    author: Membership, voters: list[Membership], proposal: Proposal | None = None
) -> Proposal:
    """A vote (a general one unless `proposal`) held ten days ago, voted yes by `voters` and
    closed."""
    start = timezone.now() - timedelta(days=10)
    proposal = proposal or draft(author)
    services.proposal_open(
        proposal=proposal, by=author, closes_at=start + timedelta(days=3), now=start
    )
    for voter in voters:
        services.vote_cast(
            proposal=proposal, member=voter, choice="yes", now=start + timedelta(hours=1)
        )
    return services.proposal_close(proposal=proposal, now=start + timedelta(days=4))


def _deploy(author: Membership, version: ServiceVersion, title: str = "") -> Proposal:
    """A draft deploy_service proposal of `author`'s city about `version`."""
    return services.proposal_create(
        author=author,
        kind="deploy_service",
        title=title or f"Déployer {version.service.name}",
        parameters={"action": "deploy", "service_version": version.public_id},
    )


def _service(provider: Provider, name: str) -> ServiceVersion:
    """A service of `provider` named `name`, with a draft first version."""
    return version_make(service=service_make(provider=provider, name=name))


def _city_task(staff: Membership, title: str) -> Task:
    return store.task_create(
        by=staff.user,
        kind="curate_dataset",
        title=title,
        reward_cents=5_000,
        payer="city",
        city=staff.city,
    )


def _app_store(
    *,
    operator: User,
    staff: Membership,
    resident: Membership,
    provider: Membership,
    rival: Membership,
    foreign_staff: Membership,
) -> dict:
    """The app store's objects (see the module's docstring), built through its services."""
    provider_org = provider_make(owner=provider.user, by=provider.user)
    rival_org = provider_make(owner=rival.user, by=rival.user, name="Rivale")
    operator_provider = UserFactory(is_staff=True)
    operator_org = provider_make(owner=operator_provider, by=operator_provider, name="Opéra")

    drafted = _service(provider_org, UNAUDITED_NAMES["draft"])
    in_audit = _service(provider_org, UNAUDITED_NAMES["in_audit"])
    store.audit_request(version=in_audit, by=provider.user)
    rejected = _service(provider_org, UNAUDITED_NAMES["rejected"])
    store.audit_request(version=rejected, by=provider.user)
    store.audit_record(
        version=rejected,
        auditor=operator,
        kind="technical",
        findings="Des images non floutées.",
        verdict="fail",
        reason="Les visages sont filmés.",
    )
    audited = audited_version_make(auditor=operator, service=service_make(provider=provider_org))
    deployed = audited_version_make(
        auditor=operator, service=service_make(provider=provider_org, name="Bus à la demande")
    )
    own_in_audit = _service(operator_org, "Tableau de bord")
    store.audit_request(version=own_in_audit, by=operator_provider)

    # Bourg deployed a service by a vote, executed; it votes now on another one.
    decision = _closed(staff, [resident, provider, staff], _deploy(staff, deployed))
    services.proposal_execute(proposal=decision)
    next_draft = version_make(service=deployed.service, label=NEXT_DRAFT_LABEL)
    deploy_open = _open(_deploy(staff, audited))
    deploy_draft = _deploy(staff, audited, DEPLOY_DRAFT_TITLE)
    deploy_elsewhere = _deploy(foreign_staff, audited, ELSEWHERE_TITLE)

    city_task_claimed = store.task_claim(
        task=_city_task(staff, "Relier les horaires"), by=resident.user
    )
    city_task_done = store.task_complete(
        task=store.task_claim(task=_city_task(staff, "Relier les arrêts"), by=resident.user),
        by=resident.user,
        result="a" * 64,
    )
    return {
        "operator_provider": operator_provider,
        "provider_org": provider_org,
        "rival_org": rival_org,
        "operator_org": operator_org,
        "drafted": drafted,
        "in_audit": in_audit,
        "rejected": rejected,
        "audited": audited,
        "deployed": deployed,
        "next_draft": next_draft,
        "own_in_audit": own_in_audit,
        "deployment": Deployment.objects.get(city=staff.city, version=deployed),
        "deploy_open": deploy_open,
        "deploy_draft": deploy_draft,
        "deploy_elsewhere": deploy_elsewhere,
        "audit_task": audit_task(in_audit, "technical"),
        "own_audit_task": audit_task(own_in_audit, "technical"),
        "audit_task_done": audit_task(audited, "technical"),
        "city_task": _city_task(staff, "Relier les parkings"),
        "city_task_claimed": city_task_claimed,
        "city_task_done": city_task_done,
    }


def _data_and_impact(
    *,
    staff: Membership,
    resident: Membership,
    neighbour: Membership,
    provider: Membership,
    foreign_staff: Membership,
    curator: Membership,
) -> dict:
    """The data marketplace's and impact's objects, built through their services: the staff
    publish an open dataset (no file) with an offer, quoted and agreed by the provider (the
    rival has no agreement); a personal dataset of the resident and the neighbour, agreed by
    the provider, so that each of them has a consent to answer; the curator persona, who
    approved a claim of the resident (a batch in the resident's portfolio); a submitted
    claim and a draft claim of the resident (each with its evidence file); a scenario of the
    staff. For the pages: a version (no file yet) of the staff's open dataset, and a dataset
    of the other city, which no page of this city may show."""
    by = staff.user
    dataset = dataset_make(city=staff.city, by=by)
    offer = offer_make(dataset=dataset, by=by, policy=OPEN_POLICY)
    personal = dataset_make(
        city=staff.city,
        by=by,
        title="Consommations d'eau par foyer",
        is_personal=True,
        subject_dids=[resident.identity.did, neighbour.identity.did],
    )
    personal_agreement = agree(
        offer_make(dataset=personal, by=by, policy=PERSONAL_POLICY), provider.user
    )
    impact_curator_make(city=staff.city, by=by, membership=curator)
    claim = impact_claim_make(claimant=resident)
    return {
        "dataset": dataset,
        "offer": offer,
        "agreement": agree(offer, provider.user),
        "quote": quote_create(offer=offer, consumer=provider.user),
        "personal_dataset": personal,
        "personal_agreement": personal_agreement,
        "consent": personal_agreement.consents.get(subject=resident.identity),
        "neighbour_consent": personal_agreement.consents.get(subject=neighbour.identity),
        "curator": curator,
        "batch": impact_batch_make(claimant=resident, curator=curator),
        "claim": claim,
        "evidence": claim.evidence.get(),
        "draft_claim": impact_claim_make(claimant=resident, submit=False),
        "scenario": known_scenario(staff.city, by, draws=200),
        "dataset_version": dataset_version_add(by=by, dataset=dataset, label="2026"),
        "foreign_dataset": dataset_make(
            city=foreign_staff.city, by=foreign_staff.user, title="Bancs publics d'Annecy"
        ),
    }


def _network(
    *,
    operator: User,
    staff: Membership,
    resident: Membership,
    neighbour: Membership,
    provider: Membership,
    foreign_staff: Membership,
) -> dict:
    """The objects of the network's pages: a scenario of the other city (no page of this
    city may show it); bourg witnesses annecy's chain and annecy bourg's (a relation each
    city's staff alone manage); the operator's cooperative, where the resident holds 2 shares
    of the clients college, and the provider and the neighbour each asked to join (a pending
    subscription the board admits or refuses and its subscriber may cancel). Annecy has
    cosigned bourg's checkpoint once."""
    foreign_relation = witness_add(
        city=foreign_staff.city, by=foreign_staff.user, chain=staff.city.chain
    )
    witness_observe(relation=foreign_relation)  # annecy cosigns bourg's checkpoint
    body = cooperative_setup(operator=operator)
    admitted(body, resident.user, "clients", shares=2, by=operator)
    clients = body.colleges.get(slug="clients")
    return {
        "foreign_scenario": known_scenario(foreign_staff.city, foreign_staff.user, draws=50),
        "relation": witness_add(city=staff.city, by=staff.user, chain=foreign_staff.city.chain),
        "foreign_relation": foreign_relation,
        "pending_subscription": share_subscribe(
            user=provider.user, shares=1, horizon_years=0, college=clients
        ),
        "neighbour_subscription": share_subscribe(
            user=neighbour.user, shares=1, horizon_years=0, college=clients
        ),
    }


def world_build() -> World:
    operator = UserFactory(is_staff=True)
    city = make_city(operator, "bourg", POSTAL_CODES)
    other_city = make_city(operator, "annecy", ["74000"])
    staff = appoint(city, operator)
    foreign_staff = appoint(other_city, operator)
    resident = join(city, "residents", by=staff.user)
    neighbour = join(city, "residents", by=staff.user)
    provider = join(city, "providers", by=staff.user)
    rival = join(city, "providers", by=staff.user, siret=valid_siret())
    foreigner = join(other_city, "residents", by=foreign_staff.user)
    closed = _closed(resident, [resident, provider, staff])
    # A resident like the others, in the electorate of the votes opened below, who has not
    # voted; the staff make them curator with the data marketplace's and impact's objects.
    curator = join(city, "residents", by=staff.user)
    open_vote = _open(draft(resident))
    services.vote_cast(proposal=open_vote, member=resident, choice="yes")
    budget_open = _open(_budget_call(resident, provider))
    budget_draft = _budget_call(resident, provider)
    app_store = _app_store(
        operator=operator,
        staff=staff,
        resident=resident,
        provider=provider,
        rival=rival,
        foreign_staff=foreign_staff,
    )
    data_and_impact = _data_and_impact(
        staff=staff,
        resident=resident,
        neighbour=neighbour,
        provider=provider,
        foreign_staff=foreign_staff,
        curator=curator,
    )
    applicant = ask(city, "residents")  # after the votes opened: in no electorate
    # The newest proposal, so that the city's home page (the five latest) lists it.
    hidden = services.proposal_create(author=resident, kind="general", title=HIDDEN_TITLE)
    chain_seal(chain=city.chain)
    network = _network(
        operator=operator,
        staff=staff,
        resident=resident,
        neighbour=neighbour,
        provider=provider,
        foreign_staff=foreign_staff,
    )

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
        rival=rival,
        **app_store,
        **data_and_impact,
        **network,
    )
    # The personas who hold no membership of their own.
    accounts = {
        "anonymous": None,
        "operator": operator,
        "operator_provider": app_store["operator_provider"],
    }
    world.users = {
        persona: accounts[persona] if persona in accounts else getattr(world, persona).user
        for persona in PERSONAS
    }
    world.tokens = {
        persona: Token.objects.create(user=user).key
        for persona, user in world.users.items()
        if user is not None
    }
    return world

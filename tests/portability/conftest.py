"""A city worth exporting: members in every college (one pending, one revoked), a document the
municipality attested, an executed
project paid from the treasury, a rules amendment, a participatory budget paid out, a service
of the app store deployed by vote (its deployment fee paid in) and run once (an execution
fee), an open vote with a comment, treasury movements, every block sealed. Built through the
services.

The app store's section is registered here until `MarketplaceConfig.ready` registers it."""

from __future__ import annotations

import pytest

from governance.budget import budget_project_add, budget_vote_cast
from governance.models import City
from governance.rules import default_rules
from governance.services import (
    comment_add,
    membership_revoke,
    proposal_create,
    proposal_execute,
)
from identity.services import KIND_DOCUMENT_ATTEST, attest_payload, document_attest
from ledger.services import chain_seal, ledger_append
from marketplace.models import Deployment
from marketplace.portability import check_marketplace, export_marketplace, import_marketplace
from marketplace.services import execution_record
from smartb.portability import register_section
from smartb.portability.registry import section_get
from tests.factories import UserFactory, audited_version_make, provider_make, service_make
from tests.governance.helpers import (
    POSTAL_CODES,
    adopt_rules,
    appoint,
    cast,
    close,
    draft,
    fund,
    join,
    join_many,
    open_vote,
    request,
)

if section_get("marketplace") is None:  # registered once, whoever comes first
    register_section(
        "marketplace",
        exporter=export_marketplace,
        importer=import_marketplace,
        checker=check_marketplace,
        after=("ledger", "identity", "governance"),
    )


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def city(operator) -> City:
    from governance.services import city_create

    city = city_create(
        operator=operator, slug="bourg", name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )
    mayor = appoint(city, operator)
    staff = mayor.user
    residents = join_many(city, "residents", 4, by=staff)
    providers = join_many(city, "providers", 2, by=staff)
    request(city, "residents")  # waits for the municipality
    leaving = join(city, "residents", by=staff)
    membership_revoke(membership=leaving, by=staff, reason="moved away")
    fund(city, 500_000)
    deliberation = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
    document_attest(
        identity=mayor.identity,
        digest=deliberation,
        append=lambda: ledger_append(
            chain=city.chain,
            actor=mayor.identity,
            kind=KIND_DOCUMENT_ATTEST,
            payload=attest_payload(identity=mayor.identity, digest=deliberation),
        ),
    )

    project = draft(
        residents[0], "fund_project", amount_cents=120_000, recipient=providers[0].identity.did
    )
    project = open_vote(project)
    comment_add(proposal=project, member=residents[1], body="Enfin un toit pour le lavoir !")
    cast(
        project,
        [
            (residents[0], "yes"),
            (residents[1], "yes"),
            (residents[2], "no"),
            (providers[0], "yes"),
            (providers[1], "abstain"),
            (mayor, "yes"),
        ],
    )
    proposal_execute(proposal=close(project))

    rules = default_rules()
    rules["approval_threshold_percent"] = 60
    adopt_rules(city, mayor, rules)

    call = proposal_create(
        author=residents[1],
        kind="fund_project",
        title="Budget participatif",
        body="Proposez vos projets.",
        parameters={"budget_cents": 100_000},
    )
    projects = [
        budget_project_add(
            proposal=call,
            by=residents[1],
            title=title,
            description=f"Description de « {title} »",
            cost_cents=cost,
            recipient=providers[1].identity.did,
        )
        for title, cost in [("Aire de jeux", 60_000), ("Bancs", 50_000), ("Composteurs", 30_000)]
    ]
    call = open_vote(call)
    for member, picks in [
        (residents[0], [0, 2]),
        (residents[1], [0]),
        (residents[3], [1, 2]),
        (providers[0], [0, 2]),
        (mayor, [2]),
    ]:
        budget_vote_cast(
            proposal=call, member=member, project_ids=[projects[i].public_id for i in picks]
        )
    proposal_execute(proposal=close(call))

    provider = provider_make(owner=providers[0].user, by=operator, name="Vélos du Bugey SAS")
    version = audited_version_make(service=service_make(provider=provider))
    deploy = open_vote(
        draft(mayor, "deploy_service", action="deploy", service_version=version.public_id)
    )
    cast(deploy, [(member, "yes") for member in (*residents, *providers, mayor)])
    proposal_execute(proposal=close(deploy))
    execution_record(
        deployment=Deployment.objects.get(city=city), reference="trajet-0001", by=provider.owner
    )

    debate = open_vote(draft(providers[1], "general"))
    comment_add(proposal=debate, member=mayor, body="Parlons-en au conseil.")
    cast(debate, [(residents[0], "no"), (mayor, "yes")])
    draft(residents[3], "general")  # a draft, seen by its author and the staff only
    chain_seal(chain=city.chain)
    return City.objects.get(pk=city.pk)

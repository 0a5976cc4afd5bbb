"""Every cell of the authorization matrix (`matrix.ROWS` × `world.PERSONAS`): each persona
gets the status its cell says, the API answers its refusals with a JSON error body, a
refused write leaves every row as it was, the ledger included, and no cell changes a
deployment (only a city's executed vote deploys). A URL of a covered namespace (governance,
the app store, their APIs) without a row fails the suite.

The world is built once for the module, inside a transaction rolled back at the end; each
test runs in a savepoint of it (pytest-django's `db`), so a write that a cell allows is
undone before the next cell.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cooperative import models as cooperative
from governance.models import BudgetProject, Proposal
from governance.services import proposal_close, proposal_execute, vote_cast
from impact import models as impact
from impact.simulation import models as simulation
from ledger import models as ledger
from ledger.models import Transaction
from marketplace.data import models as data
from marketplace.models import (
    Audit,
    ContractExecution,
    Deployment,
    Fee,
    Provider,
    Service,
    ServiceVersion,
    Task,
)
from tests.governance.helpers import snapshot
from tests.governance_api.support import assert_error
from witnesses import models as witnesses

from .matrix import COVERED_NAMESPACES, LOGIN, MOVED, ROWS, Row
from .world import (
    DEPLOY_DRAFT_TITLE,
    ELSEWHERE_TITLE,
    HIDDEN_TITLE,
    NEXT_DRAFT_LABEL,
    PERSONAS,
    UNAUDITED_NAMES,
    World,
    world_build,
)

ALLOWED = (200, 201, MOVED)
# The API's error code for each refusal (`{"error": {"code": ...}}`).
REFUSAL_CODES = {401: "not_authenticated", 403: "not_allowed", 404: "not_found"}
API_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)


def deployments() -> list[tuple]:
    return list(
        Deployment.objects.order_by("pk").values_list(
            "pk", "service_id", "version_id", "active", "proposal_id", "undeployed_at"
        )
    )


def written() -> dict:
    """Every row a governance or app store page or endpoint may write (ledger transactions
    included)."""
    return {
        **snapshot(),
        "budget_projects": BudgetProject.objects.count(),
        "providers": list(Provider.objects.order_by("pk").values_list("pk", "owner_id")),
        "services": list(Service.objects.order_by("pk").values_list("pk", "provider_id")),
        "versions": list(
            ServiceVersion.objects.order_by("pk").values_list(
                "pk", "status", "status_reason", "audited_at"
            )
        ),
        "audits": list(Audit.objects.order_by("pk").values_list("pk", "verdict", "auditor_id")),
        "deployments": deployments(),
        "fees": list(Fee.objects.order_by("pk").values_list("pk", "amount_cents")),
        "executions": ContractExecution.objects.count(),
        "tasks": list(
            Task.objects.order_by("pk").values_list(
                "pk", "status", "claimant_id", "paid_at", "funding_proposal_id"
            )
        ),
        **{
            f"{model._meta.label}": list(model.objects.order_by("pk").values_list("pk", *fields))
            for model, fields in DATA_AND_IMPACT_TABLES + NETWORK_TABLES
        },
    }


# The data marketplace's and impact's tables its pages write, with the fields a write changes.
DATA_AND_IMPACT_TABLES = [
    (data.Dataset, ("status", "title")),
    (data.DatasetVersion, ()),
    (data.Distribution, ()),
    (data.DataUpload, ("status",)),
    (data.Ontology, ("status",)),
    (data.FieldMapping, ("status",)),
    (data.Curation, ()),
    (data.Offer, ("status",)),
    (data.Quote, ()),
    (data.Agreement, ("status",)),
    (data.Delivery, ()),
    (data.Consent, ("status",)),
    (data.PurgeRequest, ("status",)),
    (impact.Curator, ()),
    (impact.Claim, ("state",)),
    (impact.Evidence, ()),
    (impact.Verification, ()),
    (impact.Holding, ("state", "portfolio_id")),
    (impact.Transfer, ()),
    (impact.Retirement, ()),
    (impact.RedemptionRate, ()),
    (impact.Redemption, ()),
    (impact.SellOffer, ("status",)),
    (impact.ForwardOrder, ("status",)),
    (impact.MerchantOffer, ()),
    (impact.Project, ("status",)),
    (impact.ParticipationCall, ()),
    (impact.Participation, ("status",)),
    (get_user_model(), ("is_active", "email")),  # the wallet's erase
]


# The network's tables (witnessing, the cooperative's shares, the validators' signatures and
# evidence, a scenario's proposals), with the fields a write changes.
NETWORK_TABLES = [
    (witnesses.WitnessRelation, ("removed_at", "last_size", "last_error")),
    (witnesses.Cosignature, ()),
    (witnesses.Inconsistency, ()),
    (cooperative.Holding, ("shares",)),
    (cooperative.ShareMovement, ("status", "decided_by_id")),
    (cooperative.Distribution, ()),
    (cooperative.NetworkDecision, ()),
    (ledger.BlockSignature, ()),
    (ledger.ValidatorChange, ()),
    (ledger.Equivocation, ()),
    (simulation.Scenario, ("version",)),
    (simulation.ScenarioAttachment, ()),
]


def call(row: Row, persona: str, world: World, query: dict | None = None):
    """The row's request as `persona` makes it: a token on the API, a session on a page."""
    url = reverse(row.name, kwargs=row.url_kwargs(world))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if row.api:
        token = world.tokens.get(persona)
        headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        if row.method == "GET":
            return client.get(url, query or {}, **headers)
        body = json.dumps(row.body(world))
        return client.generic(row.method, url, body, "application/json", **headers)
    user = world.user(persona)
    if user is not None:
        client.force_login(user)
    if row.method == "GET":
        return client.get(url, query or {})
    return client.post(url, row.body(world))


def assert_status(response, expected, row: Row) -> None:
    login = resolve_url(settings.LOGIN_URL)
    location = response.get("Location", "")
    got = response.status_code
    if expected == LOGIN:
        assert got == 302 and location.startswith(f"{login}?next="), (got, location)
    elif expected == MOVED:
        assert got == 302 and not location.startswith(login), (got, location)
    else:
        assert got == expected, (got, location, response.content[:300])
    if row.api and got >= 400:
        assert_error(response, got, row.codes.get(got, REFUSAL_CODES.get(got)))
    if row.api and got == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_each_persona_gets_its_cell(world, db, row, persona):
    expected = row.expected(persona)
    refused_write = row.writes and expected not in ALLOWED
    before = written() if refused_write else {"deployments": deployments()}
    ledger_size = Transaction.objects.count()

    response = call(row, persona, world)

    assert_status(response, expected, row)
    assert deployments() == before["deployments"], "only a city's executed vote deploys"
    if not row.writes:
        assert Transaction.objects.count() == ledger_size, "a read wrote to the ledger"
    elif refused_write:
        assert Transaction.objects.count() == ledger_size, "a refused write reached the ledger"
        after = written()
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"a refused write changed: {', '.join(changed)}"


def test_a_write_the_matrix_allows_does_change_something(world, db):
    """The check above can fail: an allowed write (here a vote changed from yes to no) is
    seen by the same comparison."""
    row = next(r for r in ROWS if r.name == "governance:proposal_vote" and r.writes)
    row = Row(row.statuses, row.method, row.name, row.kwargs, row.api, {"choice": "no"})
    before = written()
    assert_status(call(row, "resident", world), MOVED, row)
    assert written()["ballots"] != before["ballots"]


def test_the_deployments_check_can_fail(world, db):
    """What the cells may never do, the city's vote does: the open deploy_service proposal,
    accepted and executed, changes the deployments the check compares."""
    before = deployments()
    vote_cast(proposal=world.deploy_open, member=world.staff, choice="yes")
    closes_at = Proposal.objects.get(pk=world.deploy_open.pk).closes_at
    proposal_execute(
        proposal=proposal_close(proposal=world.deploy_open, now=closes_at + timedelta(seconds=1))
    )
    assert deployments() != before


# --- every URL has a row -----------------------------------------------------------------


def covered_patterns(patterns=None, prefix: str = "", namespace: str | None = None):
    """(namespaced name or None, route, view) of every URL of COVERED_NAMESPACES."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from covered_patterns(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern) and namespace in COVERED_NAMESPACES:
            name = f"{namespace}:{entry.name}" if entry.name else None
            yield name, route, entry.callback


def test_every_url_has_a_row():
    patterns = list(covered_patterns())
    named = {route: name for name, route, _ in patterns if name}
    with_rows = {row.name for row in ROWS}
    found = {name.split(":")[0] for name in named.values()}
    assert found == set(COVERED_NAMESPACES), "the walk found no URL of a covered namespace"

    assert sorted(set(named.values()) - with_rows) == [], "URLs without a row in matrix.py"
    for name, route, _ in patterns:
        if name is None:
            # The API serves `route` and `route/` alike: the alias shares its twin's row.
            twin = route[:-1] if route.endswith("/") else f"{route}/"
            assert twin in named, f"unnamed URL {route} is no alias of a named one"


def test_every_method_of_an_endpoint_has_a_row():
    rows = {(row.name, row.method.lower()) for row in ROWS}
    for name, _route, view in covered_patterns():
        view_class = getattr(view, "view_class", None)
        if name is None or view_class is None:
            continue
        for method in API_METHODS:
            if hasattr(view_class, method):
                assert (name, method) in rows, f"{method.upper()} {name} has no row"


def test_rows_name_only_existing_urls():
    names = {name for name, _, _ in covered_patterns() if name}
    assert sorted({row.name for row in ROWS} - names) == []


# --- lists never show a hidden draft -------------------------------------------------------

SEES_THE_DRAFT = {"resident", "staff"}
LISTS = [
    (False, "governance:city_home", {}),
    (False, "governance:proposal_list", {}),
    (False, "governance:proposal_list", {"status": "draft"}),
    (True, "governance_api:proposals", {}),
    (True, "governance_api:proposals", {"status": "draft"}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("is_api", "name", "query"), LISTS, ids=lambda v: str(v))
def test_a_list_shows_the_hidden_draft_to_its_author_and_the_staff_only(
    world, db, is_api, name, query, persona
):
    row = Row((200,) * len(PERSONAS), "GET", name, {"slug": "city.slug"}, is_api)
    response = call(row, persona, world, query)
    assert response.status_code == 200
    shown = HIDDEN_TITLE in response.content.decode()
    assert shown == (persona in SEES_THE_DRAFT), (persona, name, query)


# --- the app store's pages and lists show each secret only to whom it belongs ---------------

OPERATORS = {"operator", "operator_provider"}
PROVIDER_AND_OPERATORS = {"provider"} | OPERATORS  # who may see a version before it passes
SECRETS = (DEPLOY_DRAFT_TITLE, ELSEWHERE_TITLE, NEXT_DRAFT_LABEL, *UNAUDITED_NAMES.values())
IN_AUDIT_NAME, REJECTED_NAME = UNAUDITED_NAMES["in_audit"], UNAUDITED_NAMES["rejected"]
BOURG = {"slug": "city.slug"}
ANNECY = {"slug": "other_city.slug"}
DEPLOYED_SERVICE = {**BOURG, "public_id": "deployed.service.public_id"}
AUDIT_TASK = {"public_id": "audit_task.public_id"}  # the technical audit of the one in audit
# Audit bounties name the version they audit; a provider's page names all its versions.
AUDIT_TITLES = dict.fromkeys((IN_AUDIT_NAME, REJECTED_NAME), PROVIDER_AND_OPERATORS)
OWN_CATALOGUE = dict.fromkeys((*UNAUDITED_NAMES.values(), NEXT_DRAFT_LABEL), {"provider"})
SHOWN = [
    # (an API endpoint?, URL name, URL arguments, {secret: the personas who read it there});
    # a secret not named is shown to nobody
    (False, "marketplace:store", BOURG, {}),
    (True, "marketplace_api:store", BOURG, {}),
    (False, "marketplace:service_detail", DEPLOYED_SERVICE, {}),
    (True, "marketplace_api:store_service", DEPLOYED_SERVICE, {}),
    (True, "marketplace_api:deployments", BOURG, {}),
    (False, "marketplace:register", BOURG, {}),
    (True, "marketplace_api:awaiting_vote", BOURG, {DEPLOY_DRAFT_TITLE: {"staff"}}),
    (True, "marketplace_api:awaiting_vote", ANNECY, {ELSEWHERE_TITLE: {"foreign_staff"}}),
    (False, "marketplace:admin_apps", BOURG, {DEPLOY_DRAFT_TITLE: {"staff"}}),
    (False, "marketplace:admin_apps", ANNECY, {ELSEWHERE_TITLE: {"foreign_staff"}}),
    (True, "marketplace_api:tasks", {}, AUDIT_TITLES),
    (True, "marketplace_api:task", AUDIT_TASK, {IN_AUDIT_NAME: PROVIDER_AND_OPERATORS}),
    (False, "marketplace:provider_home", {}, OWN_CATALOGUE),
    (False, "marketplace:operator_audits", {}, {IN_AUDIT_NAME: OPERATORS}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("is_api", "name", "kwargs", "readers"),
    SHOWN,
    ids=[f"{name} {'/'.join(kwargs.values())}" for _api, name, kwargs, _readers in SHOWN],
)
def test_an_app_store_page_shows_each_secret_to_its_readers_only(
    world, db, is_api, name, kwargs, readers, persona
):
    row = Row((200,) * len(PERSONAS), "GET", name, kwargs, is_api)
    response = call(row, persona, world)
    content = response.content.decode() if response.status_code == 200 else ""
    if is_api and content:
        content = json.dumps(response.json(), ensure_ascii=False)
    shown = {secret for secret in SECRETS if secret in content}
    assert shown == {secret for secret in SECRETS if persona in readers.get(secret, ())}

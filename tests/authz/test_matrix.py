"""Every cell of the authorization matrix (`matrix.ROWS` × `world.PERSONAS`): each persona
gets the status its cell says, the API answers its refusals with a JSON error body, and a
refused write leaves every row as it was, the ledger included. A URL of /c/ or
/api/v1/governance/ without a row fails the suite.

The world is built once for the module, inside a transaction rolled back at the end; each
test runs in a savepoint of it (pytest-django's `db`), so a write that a cell allows is
undone before the next cell.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from governance.models import BudgetProject
from ledger.models import Transaction
from tests.governance.helpers import snapshot
from tests.governance_api.support import assert_error

from .matrix import COVERED_NAMESPACES, LOGIN, MOVED, ROWS, Row
from .world import HIDDEN_TITLE, PERSONAS, World, world_build

ALLOWED = (200, 201, MOVED)
# The API's error code for each refusal (`{"error": {"code": ...}}`).
REFUSAL_CODES = {401: "not_authenticated", 403: "not_allowed", 404: "not_found"}
API_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)


def written() -> dict:
    """Every row a governance page or endpoint may write (ledger transactions included)."""
    return {**snapshot(), "budget_projects": BudgetProject.objects.count()}


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
        assert_error(response, got, REFUSAL_CODES.get(got))
    if row.api and got == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_each_persona_gets_its_cell(world, db, row, persona):
    expected = row.expected(persona)
    before = written()
    ledger_size = Transaction.objects.count()

    response = call(row, persona, world)

    assert_status(response, expected, row)
    if not row.writes:
        assert Transaction.objects.count() == ledger_size, "a read wrote to the ledger"
    elif expected not in ALLOWED:
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

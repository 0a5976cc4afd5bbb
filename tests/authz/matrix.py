"""The authorization matrix: who gets what, on every page and endpoint, as data.

One row per page or endpoint and HTTP method (and per object when the object matters: a
draft is hidden, an open vote is not); one column per persona of `world.PERSONAS`:

    anonymous  foreigner  foreign_staff  applicant  resident  provider  staff  operator

A row's first argument is its cells, in that order, separated by spaces: what the persona
gets, an HTTP status (200, 201, 400, 401, 403, 404, 409…), `L` (LOGIN: a page sends an
anonymous visitor to the login page) or `M` (MOVED: a 302 elsewhere, a form that worked
without JavaScript). `tests/authz/test_matrix.py` runs every cell against one world
(`tests/authz/world.py`, built once; each cell's writes are rolled back); every write that a
cell refuses (anything but 200, 201 and M) must leave the database as it was, ledger
included, and the API must answer it with its JSON error body.

Adding a page or an endpoint (e.g. the app store)
-------------------------------------------------
1. Add the objects your rows need to `World` and build them in `world_build()` through the
   services (e.g. a service listed by the provider, a deployment), as a resident would meet
   them.
2. Append rows to `ROWS` (or to a list of your own concatenated to it): `page(...)` for an
   HTML page (session login, form data), `api(...)` for a DRF endpoint (token, JSON body).
   The URL name is namespaced (`"marketplace:service_detail"`); `kwargs` maps each URL
   argument to a path in the world (`{"slug": "city.slug", "public_id": "service.public_id"}`);
   a write gives its `data` (values may be `ref("path.in.world")`).
3. Add your namespaces to `COVERED_NAMESPACES`: from then on, a URL of those namespaces
   without a row fails the suite (`test_every_url_has_a_row`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from typing import Any

from django.utils import timezone

from .world import PERSONAS, World

LOGIN = "login"  # 302 to the login page
MOVED = "moved"  # 302 anywhere else: the form worked and the page sends the visitor on

# The namespaces whose every URL needs a row: /c/ and /api/v1/governance/.
COVERED_NAMESPACES = ("governance", "governance_api")

Status = int | str
Value = Any | Callable[[World], Any]


def ref(path: str) -> Callable[[World], Any]:
    """A value read from the world when the row runs, e.g. `ref("budget_project.public_id")`."""
    return attrgetter(path)


def _in_two_days_local(world: World) -> str:
    """A closing date as the open form's datetime-local field sends it."""
    return timezone.localtime(timezone.now() + timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M")


def _in_two_days_iso(world: World) -> str:
    return (timezone.now() + timedelta(hours=48)).isoformat()


@dataclass(frozen=True)
class Row:
    statuses: tuple[Status, ...]  # one per persona, in the order of PERSONAS
    method: str
    name: str  # the namespaced URL name
    kwargs: dict[str, str]  # URL argument -> path in the world
    api: bool  # a DRF endpoint: token and JSON body (else a page: session and form data)
    data: dict[str, Value] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self):
        assert len(self.statuses) == len(PERSONAS), f"{self.id}: one status per persona"

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}" + (f" ({self.note})" if self.note else "")

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def expected(self, persona: str) -> Status:
        return self.statuses[PERSONAS.index(persona)]

    def url_kwargs(self, world: World) -> dict[str, str]:
        return {name: str(attrgetter(path)(world)) for name, path in self.kwargs.items()}

    def body(self, world: World) -> dict:
        return {key: _resolve(value, world) for key, value in self.data.items()}


def _resolve(value: Value, world: World):
    if callable(value):
        return value(world)
    if isinstance(value, list):
        return [_resolve(item, world) for item in value]
    return value


def _statuses(cells: str) -> tuple[Status, ...]:
    """`"L 403 200 M"` -> `(LOGIN, 403, 200, MOVED)`."""
    names = {"L": LOGIN, "M": MOVED}
    return tuple(names[cell] if cell in names else int(cell) for cell in cells.split())


def page(statuses: str, method: str, name: str, kwargs: dict, data=None, note="") -> Row:
    return Row(_statuses(statuses), method, name, kwargs, False, data or {}, note)


def api(statuses: str, method: str, name: str, kwargs: dict, data=None, note="") -> Row:
    return Row(_statuses(statuses), method, name, kwargs, True, data or {}, note)


# URL arguments, as paths in the world.
NONE: dict[str, str] = {}
CITY = {"slug": "city.slug"}
DRAFT = {**CITY, "public_id": "draft.public_id"}
OPEN = {**CITY, "public_id": "open.public_id"}
CLOSED = {**CITY, "public_id": "closed.public_id"}
BUDGET_DRAFT = {**CITY, "public_id": "budget_draft.public_id"}
BUDGET_OPEN = {**CITY, "public_id": "budget_open.public_id"}
DRAFT_ELSEWHERE = {"slug": "other_city.slug", "public_id": "draft.public_id"}
APPLICANT = {**CITY, "public_id": "applicant.public_id"}
NEIGHBOUR = {**CITY, "public_id": "neighbour.public_id"}
FOREIGN = {**CITY, "public_id": "foreigner.public_id"}

# Bodies of the writes: valid, so that only the persona decides the answer.
RESIDENCY = {"college": "residents", "postal_address": "3 rue des Lilas", "postal_code": "01000"}
RESIDENCY_FORM = {**RESIDENCY, "college": lambda w: w.city.colleges.get(slug="residents").pk}
STAFF_SEAT = {"college": "municipality"}
STAFF_SEAT_FORM = {"college": lambda w: w.city.colleges.get(slug="municipality").pk}
GENERAL = {"kind": "general", "title": "Un banc", "body": "Près de la fontaine."}
INDEPENDENCE = {"kind": "become_independent", "title": "Indépendance", "body": "Quitter."}
AMENDED = {"title": "Rénover le lavoir et le puits", "body": "Avec un toit."}
YES = {"choice": "yes"}
COMMENT = {"body": "Bonne idée."}
REFUSAL = {"reason": "Adresse hors de la ville."}
PICK = {"projects": [ref("budget_project.public_id")]}
PROJECT = {"title": "Bancs", "cost_cents": 20_000, "recipient": ref("provider.identity.did")}
OPEN_PAGE = {"closes_at": _in_two_days_local}
OPEN_API = {"closes_at": _in_two_days_iso}

# fmt: off
ROWS: list[Row] = [
    # anonymous, foreigner, foreign_staff, applicant, resident, provider, staff, operator
    #     ano for fst app res pro sta ope
    # --- pages, /c/: a session, form data ----------------------------------------------------
    page("200 200 200 200 200 200 200 200", "GET", "governance:city_list", NONE),
    page("200 200 200 200 200 200 200 200", "GET", "governance:city_home", CITY),
    page("L   200 200 200 200 200 200 200", "GET", "governance:join", CITY),
    page("L   M   M   409 409 409 409 M", "POST", "governance:join", CITY, RESIDENCY_FORM),
    page("L   400 400 409 409 409 409 400", "POST", "governance:join", CITY, STAFF_SEAT_FORM,
        "the municipality's college: staff are appointed"),
    page("200 200 200 200 200 200 200 200", "GET", "governance:proposal_list", CITY),
    page("L   403 403 403 200 200 200 403", "GET", "governance:proposal_create", CITY),
    page("L   403 403 403 M   M   M   403", "POST", "governance:proposal_create", CITY, GENERAL),
    page("L   403 403 403 403 403 M   403", "POST", "governance:proposal_create", CITY,
        INDEPENDENCE, "a kind only the municipality proposes"),
    page("404 404 404 404 200 404 200 404", "GET", "governance:proposal_detail", DRAFT,
        note="draft"),
    page("200 200 200 200 200 200 200 200", "GET", "governance:proposal_detail", OPEN, note="open"),
    page("404 404 404 404 404 404 404 404", "GET", "governance:proposal_detail", DRAFT_ELSEWHERE,
        note="a draft under another city's address"),
    page("L   403 403 403 200 404 403 403", "GET", "governance:proposal_amend", DRAFT),
    page("L   403 403 403 M   404 403 403", "POST", "governance:proposal_amend", DRAFT, AMENDED),
    page("L   403 403 403 M   404 M   403", "POST", "governance:proposal_open", DRAFT, OPEN_PAGE),
    page("L   403 403 403 409 403 409 403", "POST", "governance:proposal_open", OPEN, OPEN_PAGE,
        "already open"),
    page("M   M   M   M   M   M   M   M", "GET", "governance:proposal_vote", OPEN,
        note="without JavaScript: back to the proposal"),
    page("L   403 403 403 M   M   M   403", "POST", "governance:proposal_vote", OPEN, YES, "open"),
    page("L   404 404 404 409 404 409 404", "POST", "governance:proposal_vote", DRAFT,
        YES, "draft"),
    page("L   403 403 403 M   M   M   403", "POST", "governance:budget_vote", BUDGET_OPEN, PICK),
    page("L   403 403 403 M   M   M   403", "POST", "governance:comment_add", OPEN,
        COMMENT, "open"),
    page("L   404 404 404 M   404 M   404", "POST", "governance:comment_add", DRAFT,
        COMMENT, "draft"),
    page("L   404 404 404 200 404 404 404", "GET", "governance:receipt_download", OPEN,
        note="the resident's ballot"),
    page("L   200 200 200 200 200 200 200", "GET", "governance:my_votes", CITY),
    page("200 200 200 200 200 200 200 200", "GET", "governance:treasury", CITY),
    page("L   403 403 403 403 403 200 403", "GET", "governance:admin", CITY),
    page("L   403 403 403 403 403 M   403", "POST", "governance:membership_approve", APPLICANT),
    page("L   403 403 403 403 403 M   403", "POST", "governance:membership_refuse", APPLICANT,
        REFUSAL),
    page("L   403 403 403 403 403 M   403", "POST", "governance:membership_revoke", NEIGHBOUR),
    page("L   403 403 403 403 403 404 403", "POST", "governance:membership_revoke", FOREIGN,
        note="a membership of another city"),
    # --- REST API, /api/v1/governance/: a token, JSON bodies ----------------------------------
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:cities", NONE),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:city", CITY),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:rules", CITY),
    api("401 403 403 403 403 403 200 403", "GET", "governance_api:memberships", CITY),
    api("401 201 201 409 409 409 409 201", "POST", "governance_api:memberships", CITY, RESIDENCY),
    api("401 403 403 403 403 403 403 403", "POST", "governance_api:memberships", CITY, STAFF_SEAT,
        "the municipality's college: staff are appointed"),
    api("401 404 404 200 200 200 200 404", "GET", "governance_api:membership_mine", CITY),
    api("401 403 403 403 403 403 200 403", "POST", "governance_api:membership_approve", APPLICANT),
    api("401 403 403 403 403 403 200 403", "POST", "governance_api:membership_refuse", APPLICANT,
        REFUSAL),
    api("401 403 403 403 403 403 200 403", "POST", "governance_api:membership_revoke", NEIGHBOUR),
    api("401 403 403 403 403 403 404 403", "POST", "governance_api:membership_revoke", FOREIGN,
        note="a membership of another city"),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:proposals", CITY),
    api("401 403 403 403 201 201 201 403", "POST", "governance_api:proposals", CITY, GENERAL),
    api("401 403 403 403 403 403 201 403", "POST", "governance_api:proposals", CITY,
        INDEPENDENCE, "a kind only the municipality proposes"),
    api("404 404 404 404 200 404 200 404", "GET", "governance_api:proposal", DRAFT, note="draft"),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:proposal", OPEN, note="open"),
    api("404 404 404 404 404 404 404 404", "GET", "governance_api:proposal", DRAFT_ELSEWHERE,
        note="a draft under another city's address"),
    api("401 403 403 403 200 404 403 403", "POST", "governance_api:proposal_amend", DRAFT, AMENDED),
    api("401 403 403 403 200 404 200 403", "POST", "governance_api:proposal_open", DRAFT, OPEN_API),
    api("401 403 403 403 409 403 409 403", "POST", "governance_api:proposal_open", OPEN, OPEN_API,
        "already open"),
    api("401 403 403 403 201 201 201 403", "POST", "governance_api:comments", OPEN,
        COMMENT, "open"),
    api("401 404 404 404 201 404 201 404", "POST", "governance_api:comments", DRAFT,
        COMMENT, "draft"),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:results", CLOSED, note="closed"),
    api("404 404 404 404 409 404 409 404", "GET", "governance_api:results", DRAFT, note="draft"),
    api("401 403 403 403 200 200 200 403", "POST", "governance_api:vote_prepare", OPEN, YES,
        "open"),
    api("401 404 404 404 409 404 409 404", "POST", "governance_api:vote_prepare", DRAFT, YES,
        "draft"),
    api("401 403 403 403 201 201 201 403", "POST", "governance_api:vote", OPEN, YES, "open"),
    api("401 404 404 404 409 404 409 404", "POST", "governance_api:vote", DRAFT, YES, "draft"),
    api("401 404 404 404 200 404 404 404", "GET", "governance_api:receipt", OPEN,
        note="the resident's ballot"),
    api("401 404 404 404 404 404 404 404", "GET", "governance_api:receipt", DRAFT, note="draft"),
    api("401 200 200 200 200 200 200 200", "GET", "governance_api:votes_mine", CITY),
    api("200 200 200 200 200 200 200 200", "GET", "governance_api:treasury", CITY),
    api("401 403 403 403 201 404 403 403", "POST", "governance_api:budget_projects", BUDGET_DRAFT,
        PROJECT),
    api("401 403 403 403 200 200 200 403", "POST", "governance_api:budget_vote_prepare",
        BUDGET_OPEN, PICK),
    api("401 403 403 403 201 201 201 403", "POST", "governance_api:budget_votes", BUDGET_OPEN,
        PICK),
]
# fmt: on

"""The authorization matrix: who gets what, on every page and endpoint, as data.

One row per page or endpoint and HTTP method (and per object when the object matters: a
draft is hidden, an open vote is not); one column per persona of `world.PERSONAS`:

    anonymous  foreigner  foreign_staff  applicant  resident  provider  rival  staff  operator
    operator_provider  curator

A row's first argument is its cells, in that order, separated by spaces: what the persona
gets, an HTTP status (200, 201, 400, 401, 403, 404, 409…), `L` (LOGIN: a page sends an
anonymous visitor to the login page) or `M` (MOVED: a 302 elsewhere, a form that worked
without JavaScript). `tests/authz/test_matrix.py` runs every cell against one world
(`tests/authz/world.py`, built once; each cell's writes are rolled back); every write that a
cell refuses (anything but 200, 201 and M) must leave the database as it was, ledger
included, and the API must answer it with its JSON error body (its code is the usual one of
the status, `not_allowed` for a 403, unless the row names another in `codes`). No cell of any
row, allowed or not, changes a deployment: only a city's executed vote deploys.

Adding a page or an endpoint (e.g. the data marketplace)
--------------------------------------------------------
1. Add the objects your rows need to `World` and build them in `world_build()` through the
   services (e.g. a dataset published by the provider), as a resident would meet them.
2. Append rows to `ROWS` (or to a list of your own concatenated to it, as `APP_STORE_ROWS`;
   a new persona is a new column of every row): `page(...)` for an HTML page (session
   login, form data), `api(...)` for a DRF endpoint (token, JSON body).
   The URL name is namespaced (`"marketplace:service_detail"`); `kwargs` maps each URL
   argument to a path in the world (`{"slug": "city.slug", "public_id": "service.public_id"}`);
   a write gives its `data` (values may be `ref("path.in.world")`).
3. Add your namespaces to `COVERED_NAMESPACES`: from then on, a URL of those namespaces
   without a row fails the suite (`test_every_url_has_a_row`).
4. A list or page that shows something only to some personas (a draft, a version before its
   audit) gets an entry in `SHOWN` of `test_matrix.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from typing import Any

from django.utils import timezone

from tests.governance_api.support import VALID_SIRET

from .world import PERSONAS, World

LOGIN = "login"  # 302 to the login page
MOVED = "moved"  # 302 anywhere else: the form worked and the page sends the visitor on

# The namespaces whose every URL needs a row: /c/, /api/v1/governance/, the app store's pages
# (/c/<slug>/apps/, /c/<slug>/admin/apps/, /apps/provider/, /operator/) and
# /api/v1/marketplace/, the APIs of the data marketplace (/api/v1/marketplace/data/ and its
# contracts under /api/v1/marketplace/) and of impact (/api/v1/impact/, its simulation), and
# the pages of the data marketplace (/c/<slug>/data/, /c/<slug>/data/offers/, the wallet at
# /me/data/) and of impact (/c/<slug>/impact/); and the network's (`rows_network.py`): the
# simulation's pages, the ledger's, the witnesses' and the cooperative's pages and APIs, the
# profile under /me/ and /api/v1/identity/.
COVERED_NAMESPACES = (
    "governance",
    "governance_api",
    "marketplace",
    "marketplace_api",
    "marketplace_data_api",
    "data_contracts_api",
    "impact_api",
    "impact_simulation_api",
    "data_catalogue",
    "data_offers",
    "marketplace_data",
    "impact",
    "impact_simulation",
    "ledger",
    "ledger_api",
    "witnesses",
    "witnesses_api",
    "cooperative",
    "cooperative_api",
    "identity",
    "identity_api",
)

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
    codes: dict[int, str] = field(default_factory=dict)  # the API's error code, by status

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


def api(statuses: str, method: str, name: str, kwargs: dict, data=None, note="", codes=None) -> Row:
    return Row(_statuses(statuses), method, name, kwargs, True, data or {}, note, codes or {})


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

# ... and of the app store (see `world._app_store`).
STORE_SERVICE = {**CITY, "public_id": "audited.service.public_id"}
STORE_DRAFTED = {**CITY, "public_id": "drafted.service.public_id"}
ELSEWHERE = {"slug": "other_city.slug"}
PROVIDER_ORG = {"provider_id": "provider_org.public_id"}
DRAFTED_SERVICE = {"service_id": "drafted.service.public_id"}
DRAFTED_VERSION = {"version_id": "drafted.public_id"}
IN_AUDIT = {"version_id": "in_audit.public_id"}
OWN_IN_AUDIT = {"version_id": "own_in_audit.public_id"}
AUDIT_TASK_DONE = {"task_id": "audit_task_done.public_id"}
API_PROVIDER_ORG = {"public_id": "provider_org.public_id"}
API_DRAFTED_SERVICE = {"public_id": "drafted.service.public_id"}
API_DRAFTED = {"public_id": "drafted.public_id"}
API_IN_AUDIT = {"public_id": "in_audit.public_id"}
API_REJECTED = {"public_id": "rejected.public_id"}
API_AUDITED = {"public_id": "audited.public_id"}
API_NEXT_DRAFT = {"public_id": "next_draft.public_id"}
API_OWN_IN_AUDIT = {"public_id": "own_in_audit.public_id"}
DEPLOYMENT = {"public_id": "deployment.public_id"}
TASK_OPEN = {"public_id": "city_task.public_id"}
TASK_CLAIMED = {"public_id": "city_task_claimed.public_id"}
TASK_DONE = {"public_id": "city_task_done.public_id"}
AUDIT_TASK = {"public_id": "audit_task.public_id"}
OWN_AUDIT_TASK = {"public_id": "own_audit_task.public_id"}
API_AUDIT_TASK_DONE = {"public_id": "audit_task_done.public_id"}
# ... of the data marketplace and impact: `missing` is the id of no object
MISSING = {"public_id": "missing"}
DATASET = {**CITY, "public_id": "dataset.public_id"}  # the staff's, open
PERSONAL_DATASET = {**CITY, "public_id": "personal_dataset.public_id"}
FOREIGN_DATASET = {**CITY, "public_id": "foreign_dataset.public_id"}  # annecy's, under bourg
DATASET_VERSION = {**CITY, "version_id": "dataset_version.public_id"}
OFFER = {**CITY, "public_id": "offer.public_id"}  # the staff's offer on their dataset
AGREEMENT = {**CITY, "public_id": "agreement.public_id"}  # the provider's
CONSENT = {"public_id": "consent.public_id"}  # the resident's, requested
NEIGHBOUR_CONSENT = {"public_id": "neighbour_consent.public_id"}
CLAIM = {**CITY, "public_id": "claim.public_id"}  # the resident's, submitted
DRAFT_CLAIM = {**CITY, "public_id": "draft_claim.public_id"}

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
# ... of the app store's
DEPLOY = {"action": "deploy", "service_version": ref("audited.public_id")}
DEPLOY_AGAIN = {"action": "deploy", "service_version": ref("deployed.public_id")}
DEPLOY_UNAUDITED = {"action": "deploy", "service_version": ref("drafted.public_id")}
ORGANISATION = {"name": "Nouvelle SAS", "siret": VALID_SIRET, "website": "https://n.example.org"}
ORGANISATION_OF_RIVAL = {**ORGANISATION, "owner": ref("rival.user.username")}
ORGANISATION_API = {**ORGANISATION, "owner_did": ref("rival.identity.did")}
NEW_CITY = {
    "name": "Oyonnax",
    "slug": "oyonnax",
    "postal_codes": "01100",
    "first_staff": ref("neighbour.user.username"),
}
SERVICE = {"name": "Navettes", "description": "Des navettes à la demande.", "category": "mobility"}
DECLARATION = {
    "purposes": "Réserver une navette.",
    "legal_basis": "contract",
    "retention": "13 mois",
    "impact_indicators": "11.2.1",
}
VERSION_FORM = {**DECLARATION, "deployment_fee": "100", "execution_fee": "0"}
VERSION_API = {
    **DECLARATION,
    "impact_indicators": ["11.2.1"],
    "deployment_fee_cents": 10_000,
    "execution_fee_cents": 25,
}
REVIEW = {"kind": "technical", "verdict": "pass", "findings": "Rien à signaler."}
SUSPENSION = {"reason": "Une faille trouvée depuis."}
EXECUTION = {"reference": "trajet-1"}
OPERATOR_TASK = {
    "kind": "curate_dataset",
    "title": "Relier",
    "reward_cents": 100,
    "payer": "operator",
}
CITY_TASK = {**OPERATOR_TASK, "payer": "city", "city": ref("city.slug")}
RESULT = {"result": "b" * 64}
TOKEN_TRANSFER = {
    "recipient": ref("neighbour.identity.did"),
    "token_class": ref("batch.token_class.code"),
    "quantity": "1",
}
TOKEN_RETIREMENT = {
    "token_class": ref("batch.token_class.code"),
    "quantity": "1",
    "reason": "donation",
}
APPROVAL = {"decision": "approve", "recomputed_quantity": "193"}
NOT_QUALIFIED = {403: "not_qualified"}
NOT_YOUR_CONSENT = {404: "not_your_consent"}  # the same answer for no consent and another's

# fmt: off
GOVERNANCE_ROWS: list[Row] = [
    # anonymous, foreigner, foreign_staff, applicant, resident, provider, rival, staff,
    # operator, operator_provider
    #     ano for fst app res pro riv sta ope opp
    # --- pages, /c/: a session, form data ----------------------------------------------------
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance:city_list", NONE),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance:city_home", CITY),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "governance:join", CITY),
    page("L   M   M   409 409 409 409 409 M   M 409", "POST",
        "governance:join", CITY, RESIDENCY_FORM),
    page("L   400 400 409 409 409 409 409 400 400 409", "POST", "governance:join",
        CITY, STAFF_SEAT_FORM, "the municipality's college: staff are appointed"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance:proposal_list", CITY),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "governance:proposal_create", CITY),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "governance:proposal_create",
        CITY, GENERAL),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "governance:proposal_create", CITY,
        INDEPENDENCE, "a kind only the municipality proposes"),
    page("404 404 404 404 200 404 404 200 404 404 404", "GET", "governance:proposal_detail", DRAFT,
        note="draft"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance:proposal_detail",
        OPEN, note="open"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "governance:proposal_detail",
        DRAFT_ELSEWHERE, note="a draft under another city's address"),
    page("L   403 403 403 200 404 404 403 403 403 404", "GET", "governance:proposal_amend", DRAFT),
    page("L   403 403 403 M   404 404 403 403 403 404", "POST", "governance:proposal_amend",
        DRAFT, AMENDED),
    page("L   403 403 403 M   404 404 M   403 403 404", "POST", "governance:proposal_open",
        DRAFT, OPEN_PAGE),
    page("L   403 403 403 409 403 403 409 403 403 403", "POST", "governance:proposal_open",
        OPEN, OPEN_PAGE, "already open"),
    page("M   M   M   M   M   M   M   M   M   M M", "GET", "governance:proposal_vote", OPEN,
        note="without JavaScript: back to the proposal"),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "governance:proposal_vote",
        OPEN, YES, "open"),
    page("L   404 404 404 409 404 404 409 404 404 404", "POST", "governance:proposal_vote", DRAFT,
        YES, "draft"),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "governance:budget_vote",
        BUDGET_OPEN, PICK),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "governance:comment_add", OPEN,
        COMMENT, "open"),
    page("L   404 404 404 M   404 404 M   404 404 404", "POST", "governance:comment_add", DRAFT,
        COMMENT, "draft"),
    page("L   404 404 404 200 404 404 404 404 404 404", "GET", "governance:receipt_download", OPEN,
        note="the resident's ballot"),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "governance:my_votes", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance:treasury", CITY),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "governance:admin", CITY),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "governance:admin_validators", CITY),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "governance:membership_approve",
        APPLICANT),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "governance:membership_refuse",
        APPLICANT, REFUSAL),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "governance:membership_revoke",
        NEIGHBOUR),
    page("L   403 403 403 403 403 403 404 403 403 403", "POST",
        "governance:membership_revoke", FOREIGN,
        note="a membership of another city"),
    # --- REST API, /api/v1/governance/: a token, JSON bodies ----------------------------------
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:cities", NONE),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:city", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:rules", CITY),
    api("401 403 403 403 403 403 403 200 403 403 403", "GET", "governance_api:memberships", CITY),
    api("401 201 201 409 409 409 409 409 201 201 409", "POST", "governance_api:memberships",
        CITY, RESIDENCY),
    api("401 403 403 403 403 403 403 403 403 403 403", "POST", "governance_api:memberships",
        CITY, STAFF_SEAT, "the municipality's college: staff are appointed"),
    api("401 404 404 200 200 200 200 200 404 404 200", "GET",
        "governance_api:membership_mine", CITY),
    api("401 403 403 403 403 403 403 200 403 403 403", "POST", "governance_api:membership_approve",
        APPLICANT),
    api("401 403 403 403 403 403 403 200 403 403 403", "POST", "governance_api:membership_refuse",
        APPLICANT, REFUSAL),
    api("401 403 403 403 403 403 403 200 403 403 403", "POST", "governance_api:membership_revoke",
        NEIGHBOUR),
    api("401 403 403 403 403 403 403 404 403 403 403", "POST", "governance_api:membership_revoke",
        FOREIGN, note="a membership of another city"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:proposals", CITY),
    api("401 403 403 403 201 201 201 201 403 403 201", "POST", "governance_api:proposals",
        CITY, GENERAL),
    api("401 403 403 403 403 403 403 201 403 403 403", "POST", "governance_api:proposals", CITY,
        INDEPENDENCE, "a kind only the municipality proposes"),
    api("404 404 404 404 200 404 404 200 404 404 404", "GET", "governance_api:proposal",
        DRAFT, note="draft"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:proposal",
        OPEN, note="open"),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "governance_api:proposal",
        DRAFT_ELSEWHERE, note="a draft under another city's address"),
    api("401 403 403 403 200 404 404 403 403 403 404", "POST", "governance_api:proposal_amend",
        DRAFT, AMENDED),
    api("401 403 403 403 200 404 404 200 403 403 404", "POST", "governance_api:proposal_open",
        DRAFT, OPEN_API),
    api("401 403 403 403 409 403 403 409 403 403 403", "POST", "governance_api:proposal_open",
        OPEN, OPEN_API, "already open"),
    api("401 403 403 403 201 201 201 201 403 403 201", "POST", "governance_api:comments", OPEN,
        COMMENT, "open"),
    api("401 404 404 404 201 404 404 201 404 404 404", "POST", "governance_api:comments", DRAFT,
        COMMENT, "draft"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:results",
        CLOSED, note="closed"),
    api("404 404 404 404 409 404 404 409 404 404 404", "GET", "governance_api:results",
        DRAFT, note="draft"),
    api("401 403 403 403 200 200 200 200 403 403 200", "POST",
        "governance_api:vote_prepare", OPEN, YES,
        "open"),
    api("401 404 404 404 409 404 404 409 404 404 404", "POST", "governance_api:vote_prepare",
        DRAFT, YES, "draft"),
    api("401 403 403 403 201 201 201 201 403 403 201", "POST", "governance_api:vote",
        OPEN, YES, "open"),
    api("401 404 404 404 409 404 404 409 404 404 404", "POST", "governance_api:vote",
        DRAFT, YES, "draft"),
    api("401 404 404 404 200 404 404 404 404 404 404", "GET", "governance_api:receipt", OPEN,
        note="the resident's ballot"),
    api("401 404 404 404 404 404 404 404 404 404 404", "GET", "governance_api:receipt",
        DRAFT, note="draft"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:votes_mine", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "governance_api:treasury", CITY),
    api("401 403 403 403 201 404 404 403 403 403 404", "POST", "governance_api:budget_projects",
        BUDGET_DRAFT, PROJECT),
    api("401 403 403 403 200 200 200 200 403 403 200", "POST", "governance_api:budget_vote_prepare",
        BUDGET_OPEN, PICK),
    api("401 403 403 403 201 201 201 201 403 403 201", "POST", "governance_api:budget_votes",
        BUDGET_OPEN, PICK),
]

APP_STORE_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    # --- pages of a city's app store: public, but proposing is for members -------------------
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:store", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:service_detail",
        STORE_SERVICE, note="audited"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "marketplace:service_detail",
        STORE_DRAFTED, note="never audited: in no store"),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "marketplace:propose", CITY),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "marketplace:propose", CITY, DEPLOY,
        "a draft to vote on, never a deployment"),
    page("L   403 403 403 409 409 409 409 403 403 409", "POST", "marketplace:propose", CITY,
        DEPLOY_AGAIN, "already deployed here"),
    page("L   403 403 403 400 409 400 400 403 403 400", "POST", "marketplace:propose", CITY,
        DEPLOY_UNAUDITED, "a draft version: only its provider knows it exists"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:register", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:register_csv", CITY),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "marketplace:admin_apps", CITY),
    page("L   403 200 403 403 403 403 403 403 403 403", "GET", "marketplace:admin_apps", ELSEWHERE,
        note="another city's"),
    # --- the providers' pages -----------------------------------------------------------------
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:provider_home", NONE),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "marketplace:provider_register",
        NONE),
    page("L   403 403 403 403 M   M   403 M   M 403", "POST", "marketplace:provider_register",
        NONE, ORGANISATION),
    page("L   404 404 404 404 200 404 404 403 403 404", "GET", "marketplace:service_create",
        PROVIDER_ORG),
    page("L   404 404 404 404 M   404 404 403 403 404", "POST", "marketplace:service_create",
        PROVIDER_ORG, SERVICE),
    page("L   404 404 404 404 200 404 404 403 403 404", "GET", "marketplace:version_create",
        DRAFTED_SERVICE),
    page("L   404 404 404 404 M   404 404 403 403 404", "POST", "marketplace:version_create",
        DRAFTED_SERVICE, VERSION_FORM),
    page("L   404 404 404 404 M   404 404 403 403 404", "POST", "marketplace:audit_request",
        DRAFTED_VERSION),
    # --- the operator's portal ----------------------------------------------------------------
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_home", NONE),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_city_create",
        NONE),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "marketplace:operator_city_create",
        NONE, NEW_CITY),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET",
        "marketplace:operator_provider_register", NONE),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST",
        "marketplace:operator_provider_register", NONE, ORGANISATION_OF_RIVAL),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_audits", NONE),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_audit",
        IN_AUDIT),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "marketplace:operator_audit",
        IN_AUDIT, REVIEW, "the provider's version: not theirs to audit"),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_audit",
        OWN_IN_AUDIT, note="the operator-provider's own version"),
    page("L   403 403 403 403 403 403 403 M   403 403", "POST", "marketplace:operator_audit",
        OWN_IN_AUDIT, REVIEW, "the operator-provider's own version"),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "marketplace:operator_tasks", NONE),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "marketplace:operator_task_pay",
        AUDIT_TASK_DONE, note="a completed audit: the operator pays"),
    # --- REST API, /api/v1/marketplace/ -------------------------------------------------------
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:store", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:store_service",
        STORE_SERVICE, note="audited"),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "marketplace_api:store_service",
        STORE_DRAFTED, note="never audited: in no store"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:deployments", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:awaiting_vote",
        CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_api:processing_register", CITY),
    api("401 403 403 403 403 201 201 403 201 201 403", "POST", "marketplace_api:providers", NONE,
        ORGANISATION),
    api("401 403 403 403 403 403 201 403 201 201 403", "POST", "marketplace_api:providers", NONE,
        ORGANISATION_API, "owned by the rival"),
    api("401 404 404 404 404 200 404 404 200 200 404", "GET", "marketplace_api:provider",
        API_PROVIDER_ORG),
    api("401 404 404 404 404 201 404 404 403 403 404", "POST", "marketplace_api:service_create",
        API_PROVIDER_ORG, SERVICE),
    api("401 404 404 404 404 201 404 404 403 403 404", "POST", "marketplace_api:version_create",
        API_DRAFTED_SERVICE, VERSION_API),
    api("404 404 404 404 404 200 404 404 200 200 404", "GET", "marketplace_api:version",
        API_DRAFTED, note="draft"),
    api("404 404 404 404 404 200 404 404 200 200 404", "GET", "marketplace_api:version",
        API_IN_AUDIT, note="in audit"),
    api("404 404 404 404 404 200 404 404 200 200 404", "GET", "marketplace_api:version",
        API_REJECTED, note="rejected"),
    api("404 404 404 404 404 200 404 404 200 200 404", "GET", "marketplace_api:version",
        API_NEXT_DRAFT, note="the next version of a deployed service, a draft"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:version",
        API_AUDITED, note="audited"),
    api("401 404 404 404 404 201 404 404 403 403 404", "POST", "marketplace_api:audit_request",
        API_DRAFTED, note="draft"),
    api("401 404 404 404 404 409 404 404 403 403 404", "POST", "marketplace_api:audit_request",
        API_IN_AUDIT, note="already in audit"),
    api("401 403 403 403 403 403 403 403 200 200 403", "GET", "marketplace_api:audit_queue", NONE),
    api("401 404 404 404 404 403 404 404 201 201 404", "POST", "marketplace_api:audit_record",
        API_IN_AUDIT, REVIEW, "the provider's version"),
    api("401 404 404 404 404 404 404 404 201 403 404", "POST", "marketplace_api:audit_record",
        API_OWN_IN_AUDIT, REVIEW, "the operator-provider's own version",
        codes={403: "own_service"}),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "marketplace_api:version_suspend",
        API_AUDITED, SUSPENSION),
    api("401 403 403 403 403 200 403 403 403 403 403", "POST", "marketplace_api:execution_prepare",
        DEPLOYMENT, EXECUTION),
    api("401 403 403 403 403 201 403 403 403 403 403", "POST", "marketplace_api:execution_record",
        DEPLOYMENT, EXECUTION),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:tasks", NONE),
    api("401 403 403 403 403 403 403 403 201 201 403", "POST", "marketplace_api:tasks", NONE,
        OPERATOR_TASK, "paid by the operator"),
    api("401 403 403 403 403 403 403 201 403 403 403", "POST", "marketplace_api:tasks", NONE,
        CITY_TASK, "paid by the city"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_api:task", TASK_OPEN),
    api("401 403 403 403 200 200 200 200 200 200 200", "POST", "marketplace_api:task_claim",
        TASK_OPEN, note="the city's", codes=NOT_QUALIFIED),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "marketplace_api:task_claim",
        AUDIT_TASK, note="an audit of the provider's version", codes=NOT_QUALIFIED),
    api("401 403 403 403 403 403 403 403 200 403 403", "POST", "marketplace_api:task_claim",
        OWN_AUDIT_TASK, note="an audit of the operator-provider's own version",
        codes=NOT_QUALIFIED),
    api("401 403 403 403 200 403 403 403 403 403 403", "POST", "marketplace_api:task_complete",
        TASK_CLAIMED, RESULT, "claimed by the resident"),
    api("401 403 403 403 403 403 403 200 403 403 403", "POST", "marketplace_api:task_pay",
        TASK_DONE, note="the city's, completed"),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "marketplace_api:task_pay",
        API_AUDIT_TASK_DONE, note="a completed audit: the operator pays"),
]

# The data marketplace's and impact's APIs (see `world._data_and_impact`). A write whose body
# is "empty" or "incomplete" checks who gets past the door (400, not 403/404); a URL the world
# has no object for ("no such ...") checks that the stranger learns nothing (401, 404).
DATA_AND_IMPACT_API_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    # --- marketplace_data_api ----------------------------------------------------------
    api("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_data_api:catalogue_turtle",
        {}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_data_api:catalogue_jsonld",
        {}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data_api:datasets",
        {}),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "marketplace_data_api:datasets",
        {}, {"city": ref("city.slug")}, "an incomplete body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data_api:dataset",
        {"public_id": "dataset.public_id"}, note="open"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data_api:dataset",
        {"public_id": "personal_dataset.public_id"}, note="personal"),
    api("401 404 404 404 404 404 404 201 404 404 404", "POST",
        "marketplace_data_api:version_create",
        {"public_id": "dataset.public_id"}, note="an empty body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_data_api:dataset_mappings",
        {"public_id": "dataset.public_id"}, {}),
    api("401 404 404 404 404 404 404 400 404 404 404", "POST",
        "marketplace_data_api:dataset_mappings",
        {"public_id": "dataset.public_id"}, note="an empty body"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "marketplace_data_api:distribution_link",
        MISSING, note="no such version"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "marketplace_data_api:upload_start",
        MISSING, note="no such version"),
    api("401 404 404 404 404 404 404 404 404 404 404", "GET", "marketplace_data_api:upload",
        MISSING, note="no such upload"),
    api("401 404 404 404 404 404 404 404 404 404 404", "DELETE", "marketplace_data_api:upload",
        MISSING, note="no such upload"),
    api("401 404 404 404 404 404 404 404 404 404 404", "PUT", "marketplace_data_api:upload_chunk",
        {**MISSING, "index": "curator.pk"}, note="no such upload"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "marketplace_data_api:upload_complete",
        MISSING, note="no such upload"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data_api:ontologies",
        {}),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "marketplace_data_api:ontologies",
        {}, note="an empty body"),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "marketplace_data_api:ontology",
        MISSING, note="no such ontology"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "marketplace_data_api:ontology_curate",
        MISSING, note="no such ontology"),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "marketplace_data_api:mapping",
        MISSING, note="no such link"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "marketplace_data_api:mapping_curate",
        MISSING, note="no such link"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data_api:curation_queue",
        CITY, {}),
    api("401 403 403 403 403 403 403 201 403 403 403", "POST",
        "marketplace_data_api:curators_college",
        CITY, {}),
    # --- data_contracts_api ------------------------------------------------------------
    api("401 403 403 403 403 403 403 201 403 403 403", "POST", "data_contracts_api:offers",
        {}, {"dataset": ref("dataset.public_id"), "policy": {"permission": [{"action": "read"}]},
        "pricing_model": "free"}, ""),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:offer",
        {"public_id": "offer.public_id"}, {}),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:offer_policy",
        {"public_id": "offer.public_id"}, {}),
    api("401 403 403 403 403 403 403 200 403 403 403", "POST", "data_contracts_api:offer_withdraw",
        {"public_id": "offer.public_id"}, note="the staff's"),
    api("401 201 201 201 201 201 201 201 201 201 201", "POST", "data_contracts_api:quote_create",
        {"public_id": "offer.public_id"}, {}),
    api("401 404 404 404 404 200 404 404 404 404 404", "POST", "data_contracts_api:accept_prepare",
        {"public_id": "quote.public_id"}, note="the provider's quote"),
    api("401 404 404 404 404 201 404 404 404 404 404", "POST", "data_contracts_api:accept",
        {"public_id": "quote.public_id"}, note="the provider's quote, unsigned"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:agreements",
        {}),
    api("401 404 404 404 404 200 404 200 404 404 404", "GET", "data_contracts_api:agreement",
        {"public_id": "agreement.public_id"}, note="the provider's"),
    api("401 404 404 404 404 200 404 200 404 404 404", "GET", "data_contracts_api:agreement_policy",
        {"public_id": "agreement.public_id"}, note="the provider's"),
    api("401 404 404 404 404 400 404 404 404 404 404", "GET", "data_contracts_api:agreement_data",
        {"public_id": "agreement.public_id"}, note="the provider's, no file"),
    api("401 404 404 404 404 200 404 200 404 404 404", "POST",
        "data_contracts_api:agreement_revoke",
        {"public_id": "agreement.public_id"}, note="the provider's"),
    api("401 404 404 404 404 200 404 200 404 404 404", "GET", "data_contracts_api:deliveries",
        {"public_id": "agreement.public_id"}, note="the provider's"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "data_contracts_api:delivery_ack_prepare",
        {"public_id": "agreement.public_id", "delivery_id": "missing"}, note="no such delivery"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "data_contracts_api:delivery_ack",
        {"public_id": "agreement.public_id", "delivery_id": "missing"}, note="no such delivery"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "data_contracts_api:provenance",
        {"public_id": "dataset.public_id"}, note="an empty body"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:consents",
        {}),
    api("401 404 404 404 200 404 404 404 404 404 404", "POST", "data_contracts_api:consent_decide",
        {"public_id": "consent.public_id"}, {"decision": "give"}, "the resident's",
        codes=NOT_YOUR_CONSENT),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "data_contracts_api:consent_decide",
        {"public_id": "neighbour_consent.public_id"}, {"decision": "give"}, "another resident's",
        codes=NOT_YOUR_CONSENT),
    api("401 404 404 404 409 404 404 404 404 404 404", "POST", "data_contracts_api:consent_revoke",
        {"public_id": "consent.public_id"}, note="the resident's, not given",
        codes=NOT_YOUR_CONSENT),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "data_contracts_api:consent_revoke",
        {"public_id": "neighbour_consent.public_id"}, note="another resident's",
        codes=NOT_YOUR_CONSENT),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:purges", {}),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "data_contracts_api:purge_ack_prepare",
        MISSING, note="no such purge"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "data_contracts_api:purge_ack",
        MISSING, note="no such purge"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:invoices",
        {}),
    api("401 404 404 404 404 404 404 404 404 404 404", "GET", "data_contracts_api:invoice",
        MISSING, note="no such invoice"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST",
        "data_contracts_api:invoice_pay_prepaid",
        MISSING, note="no such invoice"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST",
        "data_contracts_api:invoice_pay_sepa",
        MISSING, note="no such invoice"),
    api("401 404 404 404 404 404 404 404 404 404 404", "GET", "data_contracts_api:payment_pain001",
        MISSING, note="no such payment"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "data_contracts_api:payment_settle",
        MISSING, note="no such payment"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "data_contracts_api:balances",
        {}),
    api("401 403 403 403 403 403 403 201 201 201 403", "POST", "data_contracts_api:balance_top_up",
        CITY, {"consumer_did": ref("provider.identity.did"), "amount_cents": 1000}, ""),
    # --- impact_api --------------------------------------------------------------------
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:goals", {}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:token_classes", {}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:methodologies", {}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:methodology",
        {"public_id": "claim.methodology.public_id"}, {}),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "impact_api:certificate",
        MISSING, note="no such retirement"),
    api("401 403 403 403 201 201 201 201 403 403 201", "POST", "impact_api:claims",
        CITY, {"methodology": ref("claim.methodology.public_id"),
        "parameters": {"distance_km": "10"}, "period_start": "2026-03-01",
        "period_end": "2026-03-31"}, ""),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:claims_mine", CITY, {}),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:batch_prepare",
        CITY, note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:batches",
        CITY, note="an empty body"),
    api("401 404 404 404 200 404 404 200 404 404 200", "GET", "impact_api:claim",
        {**CITY, "public_id": "claim.public_id"}, note="the resident's, submitted"),
    api("401 404 404 404 200 404 404 200 404 404 200", "GET", "impact_api:claim",
        {**CITY, "public_id": "draft_claim.public_id"}, note="the resident's draft"),
    api("401 404 404 404 400 404 404 400 404 404 400", "POST", "impact_api:evidence",
        {**CITY, "public_id": "draft_claim.public_id"}, note="the resident's draft, an empty body"),
    api("401 404 404 404 200 404 404 403 404 404 403", "POST", "impact_api:submit",
        {**CITY, "public_id": "draft_claim.public_id"}, note="the resident's draft"),
    api("401 404 404 404 403 404 404 403 404 404 201", "POST", "impact_api:verify",
        {**CITY, "public_id": "claim.public_id"}, {"decision": "approve",
        "recomputed_quantity":ref("claim.quantity")}, "the resident's, submitted",
        codes={403: "not_curator"}),
    api("401 403 403 403 403 403 403 403 403 403 200", "GET", "impact_api:queue", CITY, {}),
    api("401 403 403 403 200 200 200 200 403 403 200", "GET", "impact_api:portfolio", CITY, {}),
    api("401 403 403 403 200 409 409 409 403 403 409", "POST", "impact_api:transfer_prepare",
        CITY, {"recipient": ref("neighbour.identity.did"),
        "token_class": ref("batch.token_class.code"), "quantity": 1}, "from my portfolio"),
    api("401 403 403 403 201 409 409 409 403 403 409", "POST", "impact_api:transfers",
        CITY, {"recipient": ref("neighbour.identity.did"),
        "token_class": ref("batch.token_class.code"), "quantity": 1}, "unsigned"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:retire_prepare",
        CITY, {"token_class": ref("batch.token_class.code"), "quantity": 1, "reason": "voluntary"},
        "from my portfolio"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:retirements",
        CITY, {"token_class": ref("batch.token_class.code"), "quantity": 1, "reason": "voluntary"},
        "unsigned"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:redemptions",
        CITY, note="an empty body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:offers", CITY, {}),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:offers",
        CITY, note="an empty body"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "impact_api:offer_buy",
        {**CITY, **MISSING}, note="no such offer"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "impact_api:offer_withdraw",
        {**CITY, **MISSING}, note="no such offer"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:forward_orders",
        CITY, note="an empty body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:merchant_offers",
        CITY, {}),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "impact_api:merchant_offers",
        CITY, note="an empty body"),
    api("401 404 404 404 404 404 404 404 404 404 404", "POST", "impact_api:merchant_redeem",
        {**CITY, **MISSING}, note="no such merchant offer"),
    api("401 403 403 403 403 403 403 201 403 403 403", "POST", "impact_api:curators",
        CITY, {"membership": ref("neighbour.public_id")}, "the neighbour"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact_api:dashboard", CITY, {}),
    # --- impact_simulation_api ---------------------------------------------------------
    api("401 403 403 403 200 200 200 200 403 403 200", "GET", "impact_simulation_api:scenarios",
        CITY, {}),
    api("401 403 403 403 403 403 403 400 403 403 403", "POST", "impact_simulation_api:scenarios",
        CITY, note="an empty body: who may comes first"),
    api("400 400 400 400 400 400 400 400 400 400 400", "GET", "impact_simulation_api:compare",
        CITY, {}),
    api("400 400 400 400 400 400 400 400 400 400 400", "GET", "impact_simulation_api:compare_csv",
        CITY, {}),
    api("404 404 404 404 200 200 200 200 404 404 200", "GET", "impact_simulation_api:scenario",
        {**CITY, "public_id": "scenario.public_id"}, note="the staff's"),
    api("401 404 404 404 403 403 403 400 404 404 403", "POST", "impact_simulation_api:revise",
        {**CITY, "public_id": "scenario.public_id"}, note="the staff's, an empty body"),
    api("404 404 404 404 200 200 200 200 404 404 200", "GET", "impact_simulation_api:forecast",
        {**CITY, "public_id": "scenario.public_id"}, note="the staff's"),
    api("401 403 403 403 403 403 403 201 403 403 403", "POST", "impact_simulation_api:attach",
        {**CITY, "public_id": "scenario.public_id"}, {"proposal": ref("draft.public_id")},
        "the staff's, to the resident's draft"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "impact_simulation_api:proposal_scenarios",
        {**CITY, "public_id": "open.public_id"}, {}),
]

# The pages of the data marketplace and of impact, on the same objects. A form posted without
# JavaScript answers M even when the service refuses (back to the page, with the error as a
# message: a revoke of a consent never given). "an empty body" checks who gets past the door.
DATA_AND_IMPACT_PAGE_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    # --- data_catalogue: a city's datasets, ontologies and curation (/c/<slug>/data/) -------
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "data_catalogue:catalogue", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "data_catalogue:dataset_detail",
        DATASET, note="open"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "data_catalogue:dataset_detail",
        PERSONAL_DATASET, note="personal"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "data_catalogue:dataset_detail",
        FOREIGN_DATASET, note="another city's"),
    page("L   403 403 403 200 200 200 200 403 200 200", "GET",
        "data_catalogue:dataset_create", CITY),
    page("L   403 403 403 400 400 400 400 403 400 400", "POST", "data_catalogue:dataset_create",
        CITY, note="an empty body"),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "data_catalogue:version_create",
        DATASET, note="the staff's"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_catalogue:version_create",
        DATASET, note="the staff's, an empty body"),
    page("L   404 404 404 404 404 404 404 404 404 404", "GET", "data_catalogue:version_create",
        FOREIGN_DATASET, note="another city's"),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "data_catalogue:mapping_create",
        DATASET, note="the staff's"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_catalogue:mapping_create",
        DATASET, note="the staff's, an empty body"),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "data_catalogue:version_upload",
        DATASET_VERSION, note="the staff's"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_catalogue:version_upload",
        DATASET_VERSION, note="the staff's, an empty body"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_catalogue:distribution_link",
        DATASET_VERSION, note="the staff's, an empty body"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "data_catalogue:ontology_list", CITY),
    page("L   403 403 403 200 200 200 200 200 200 200", "GET",
        "data_catalogue:ontology_submit", CITY),
    page("L   403 403 403 400 400 400 400 400 400 400", "POST", "data_catalogue:ontology_submit",
        CITY, note="an empty body"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "data_catalogue:ontology_detail",
        {**CITY, **MISSING}, note="no such ontology"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET",
        "data_catalogue:curation_queue", CITY),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST",
        "data_catalogue:curators_open", CITY),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET",
        "data_catalogue:curator_rewards", CITY),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "data_catalogue:ontology_curate",
        {**CITY, **MISSING}, {"decision": "accept"}, "no such ontology"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "data_catalogue:mapping_curate",
        {**CITY, **MISSING}, {"decision": "accept"}, "no such link"),
    # --- data_offers: offers, quotes, agreements (/c/<slug>/data/offers/) -------------------
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "data_offers:offer_create",
        {**CITY, "dataset_id": "dataset.public_id"}, note="the staff's dataset"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_offers:offer_create",
        {**CITY, "dataset_id": "dataset.public_id"}, note="the staff's dataset, an empty body"),
    page("L   404 404 404 404 404 404 404 404 404 404", "GET", "data_offers:offer_create",
        {**CITY, "dataset_id": "foreign_dataset.public_id"}, note="another city's dataset"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "data_offers:offer_detail", OFFER),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "data_offers:offer_withdraw",
        OFFER, note="the staff's"),
    page("L   403 403 403 M   M   M   403 403 403 M", "POST", "data_offers:offer_request", OFFER),
    page("L   404 404 404 404 200 404 404 404 404 404", "GET", "data_offers:quote_detail",
        {**CITY, "public_id": "quote.public_id"}, note="the provider's"),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "data_offers:agreement_list", CITY),
    page("L   404 404 404 404 200 404 200 404 404 404", "GET", "data_offers:agreement_detail",
        AGREEMENT, note="the provider's"),
    page("L   404 404 404 404 400 404 403 404 404 404", "POST", "data_offers:agreement_download",
        AGREEMENT, note="the provider's, no file"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "data_offers:purge_acknowledge",
        {**CITY, **MISSING}, note="no such purge"),
    # the staff's data billing page: the bank account the city's data invoices are paid into
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "data_offers:billing", CITY),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "data_offers:billing", CITY,
        note="an empty body"),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "data_offers:billing", CITY,
        {"holder_name": "Ville", "iban": "FR183000600001DEMO340000144"}, "a valid account"),
    # --- marketplace_data: my personal-data wallet (/me/data/) ----------------------------
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "marketplace_data:wallet", NONE),
    page("L   404 404 404 M   404 404 404 404 404 404", "POST", "marketplace_data:consent_answer",
        CONSENT, {"decision": "give"}, "the resident's"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "marketplace_data:consent_answer",
        NEIGHBOUR_CONSENT, {"decision": "give"}, "another resident's"),
    page("L   404 404 404 M   404 404 404 404 404 404", "POST", "marketplace_data:consent_revoke",
        CONSENT, note="the resident's, not given"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "marketplace_data:consent_revoke",
        NEIGHBOUR_CONSENT, note="another resident's"),
    page("L   404 404 404 200 404 404 404 404 404 404", "GET", "marketplace_data:consent_receipt",
        CONSENT, note="the resident's"),
    page("L   404 404 404 404 404 404 404 404 404 404", "GET", "marketplace_data:consent_receipt",
        NEIGHBOUR_CONSENT, note="another resident's"),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_data:gdpr_export", NONE),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET",
        "marketplace_data:account_erase", NONE),
    page("L   400 400 400 400 400 400 400 400 400 400", "POST", "marketplace_data:account_erase",
        NONE, note="an empty body"),
    # --- impact: claims, portfolios, the market, dashboards (/c/<slug>/impact/) --------------
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:home", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:catalogue", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:methodology",
        {**CITY, "public_id": "claim.methodology.public_id"}),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact:claims", CITY),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact:claim_create", CITY),
    page("L   403 403 403 400 400 400 400 403 403 400", "POST", "impact:claim_create",
        CITY, note="an empty body"),
    page("L   404 404 404 200 404 404 200 404 404 200", "GET", "impact:claim_detail",
        CLAIM, note="the resident's, submitted"),
    page("L   404 404 404 200 404 404 200 404 404 200", "GET", "impact:claim_detail",
        DRAFT_CLAIM, note="the resident's draft"),
    page("L   404 404 404 M   404 404 403 404 404 403", "POST", "impact:claim_submit",
        DRAFT_CLAIM, note="the resident's draft"),
    page("L   404 404 404 400 404 404 403 404 404 403", "POST", "impact:evidence_add",
        DRAFT_CLAIM, note="the resident's draft, an empty body"),
    page("L   404 404 404 403 404 404 403 404 404 M", "POST", "impact:claim_verify",
        CLAIM, APPROVAL, "the resident's, submitted"),
    page("L   404 404 404 200 404 404 200 404 404 200", "GET", "impact:evidence_download",
        {**CITY, "public_id": "evidence.public_id"}, note="the resident's claim's"),
    page("L   403 403 403 403 403 403 403 403 403 200", "GET", "impact:queue", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:credential_verify", CITY),
    page("400 400 400 400 400 400 400 400 400 400 400", "POST", "impact:credential_verify",
        CITY, note="an empty body"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:credential",
        {**CITY, "public_id": "batch.credential.public_id"}, note="the resident's batch"),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact:portfolio", CITY),
    page("L   403 403 403 M   409 409 409 403 403 409", "POST", "impact:transfer",
        CITY, TOKEN_TRANSFER, "from my portfolio"),
    page("L   403 403 403 M   409 409 409 403 403 409", "POST", "impact:retire",
        CITY, TOKEN_RETIREMENT, "from my portfolio"),
    page("L   403 403 403 403 400 400 403 403 403 403", "POST", "impact:redeem",
        CITY, note="an empty body"),
    page("L   403 403 403 M   M   M   M   403 403 M", "POST", "impact:forward_consent",
        CITY, note="an empty body"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "impact:certificate",
        {**CITY, **MISSING}, note="no such retirement"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:market", CITY),
    page("L   403 403 403 400 400 400 400 403 403 400", "POST", "impact:offer_create",
        CITY, note="an empty body"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:offer_buy",
        {**CITY, **MISSING}, note="no such offer"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:offer_withdraw",
        {**CITY, **MISSING}, note="no such offer"),
    page("L   403 403 403 400 400 400 400 403 403 400", "POST", "impact:forward_create",
        CITY, note="an empty body"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:forward_cancel",
        {**CITY, **MISSING}, note="no such order"),
    page("L   403 403 403 400 400 400 400 403 403 400", "POST", "impact:merchant_create",
        CITY, note="an empty body"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:merchant_redeem",
        {**CITY, **MISSING}, note="no such merchant offer"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:merchant_close",
        {**CITY, **MISSING}, note="no such merchant offer"),
    page("L   403 403 403 400 400 400 400 403 403 400", "POST", "impact:project_create",
        CITY, note="an empty body"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:project_contribute",
        {**CITY, **MISSING}, note="no such project"),
    page("L   403 403 403 404 404 404 404 403 403 404", "POST", "impact:call_register",
        {**CITY, **MISSING}, note="no such call"),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "impact:dashboard", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "impact:dashboard_public", CITY),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "impact:curator_grant",
        CITY, {"member": ref("neighbour.identity.did")}, "the neighbour"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "impact:rate_set",
        CITY, note="an empty body"),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "impact:call_create",
        CITY, note="an empty body"),
    page("L   403 403 403 403 403 403 404 403 403 403", "POST", "impact:participation_reward",
        {**CITY, "public_id": "missing", "membership_id": "resident.public_id"},
        note="no such call"),
]
# fmt: on

from .rows_network import NETWORK_ROWS  # noqa: E402 (its rows use the helpers above)

ROWS: list[Row] = (
    GOVERNANCE_ROWS
    + APP_STORE_ROWS
    + DATA_AND_IMPACT_API_ROWS
    + DATA_AND_IMPACT_PAGE_ROWS
    + NETWORK_ROWS
)

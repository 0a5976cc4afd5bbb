"""Knapsack ballots as a signed action, for members who hold their own key:

POST .../budget-votes/prepare {projects} answers the canonical bytes of the ballot's ledger
transaction (the selection sorted); POST .../budget-votes {projects, created_at, signature}
records it, signed by the voter's own Ed25519 key, which the server never sees.
"""

from __future__ import annotations

import base64

import pytest
import rfc8785

from governance.budget import ProjectFields, budget_call_create
from governance.models import Ballot
from governance.retally import recount
from ledger.models import Transaction
from ledger.services import chain_seal
from tests.governance.helpers import export, load
from tests.identity.support import ClientKey

from .support import assert_error, close, join, open_vote, self_custody_member, world

pytestmark = pytest.mark.django_db

BUDGET = 100_000
COSTS = [60_000, 50_000, 30_000]  # A, B, C: A and B together are over the budget


def budget_votes(call) -> str:
    return f"cities/bourg/proposals/{call.public_id}/budget-votes"


@pytest.fixture
def key() -> ClientKey:
    return ClientKey.generate()


@pytest.fixture
def keeper(city, staff, key):
    """A resident whose membership DID is their own key, held by the test only."""
    return self_custody_member(city, "residents", by=staff, key=key)


@pytest.fixture
def call(keeper, resident, provider, mayor):
    """An open budget call by `resident`; its electorate holds `keeper`."""
    draft = budget_call_create(
        author=resident,
        title="Budget participatif",
        budget_cents=BUDGET,
        projects=[
            ProjectFields(title=f"Projet {n}", cost_cents=cost, recipient=provider.identity.did)
            for n, cost in enumerate(COSTS)
        ],
    )
    return open_vote(draft)


def ids(call, letters: str) -> list[str]:
    projects = list(call.budget_projects.order_by("position").values_list("public_id", flat=True))
    return [projects["ABC".index(letter)] for letter in letters]


def prepare(client, call, projects: list[str]) -> dict:
    response = client.post(budget_votes(call) + "/prepare", {"projects": projects})
    assert response.status_code == 200, response.content
    return response.json()


def signed_ballot(client, call, key: ClientKey, projects, *, signed_projects=None):
    """Prepare `signed_projects` (default: `projects`), sign with `key`, submit `projects`."""
    prepared = prepare(client, call, signed_projects if signed_projects is not None else projects)
    body = {
        "projects": projects,
        "created_at": prepared["created_at"],
        "signature": key.sign_prepared(prepared),
    }
    return client.post(budget_votes(call), body), body


def test_prepare_answers_the_bytes_of_my_ballot_and_writes_nothing(as_, city, keeper, key, call):
    before = world()
    c, a = ids(call, "CA")

    prepared = prepare(as_(keeper), call, [c, a])

    assert prepared["chain"] == "bourg"
    assert prepared["kind"] == "governance.vote.cast"
    assert prepared["actor"] == key.did
    assert prepared["payload"] == {
        "proposal": call.public_id,
        "college": "residents",
        "selection": sorted([a, c]),
    }
    signed_fields = {k: prepared[k] for k in ("chain", "kind", "actor", "payload", "created_at")}
    assert base64.b64decode(prepared["signing_input"]) == rfc8785.dumps(signed_fields)
    assert world() == before


def test_a_self_custody_member_signs_their_own_knapsack_ballot_end_to_end(
    as_, anonymous, city, keeper, key, call
):
    client = as_(keeper)
    response, body = signed_ballot(client, call, key, ids(call, "CA"))

    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["did"], answer["selection"]) == (key.did, sorted(ids(call, "AC")))
    entry = Transaction.objects.get(chain=city.chain, index=answer["entry"]["index"])
    assert (entry.actor, entry.kind) == (key.did, "governance.vote.cast")
    assert entry.signature == body["signature"]  # the voter's own, hex
    ballot = Ballot.objects.get(proposal=call, membership=keeper)
    assert (ballot.entry, ballot.choice, ballot.selection) == (
        entry,
        "yes",
        sorted(ids(call, "AC")),
    )
    # The receipt of a self-signed ballot holds like any other.
    chain_seal(chain=city.chain)
    receipt = client.get(f"cities/bourg/proposals/{call.public_id}/receipt").json()
    assert receipt["tx_hash"] == entry.tx_hash
    check = anonymous.post("/api/v1/ledger/receipts/verify", {"receipt": receipt}).json()
    assert check["holds"] is True, check


def test_a_self_custody_member_changes_their_picks_and_the_export_recounts_them(
    as_, city, keeper, key, call, tmp_path
):
    client = as_(keeper)
    first, _ = signed_ballot(client, call, key, ids(call, "B"))
    second, _ = signed_ballot(client, call, key, [])  # an abstention, signed too

    assert (first.status_code, second.status_code) == (201, 201), second.content
    ballot = Ballot.objects.get(proposal=call, membership=keeper)
    assert (ballot.choice, ballot.selection) == ("abstain", [])
    assert ballot.entry.index == second.json()["entry"]["index"]
    call = close(call)
    result = recount(load(export(city, tmp_path)), call.public_id)
    assert result.tally == call.tally and result.matches
    assert (result.counted, result.superseded) == (1, 1)


def test_a_signature_over_other_picks_is_refused(as_, city, keeper, key, call):
    before = world()

    response, _ = signed_ballot(
        as_(keeper), call, key, ids(call, "A"), signed_projects=ids(call, "C")
    )

    assert_error(response, 400, "bad_signature")
    assert world() == before


def test_a_ballot_signed_by_another_key_is_refused(as_, city, keeper, call):
    before = world()

    response, _ = signed_ballot(as_(keeper), call, ClientKey.generate(), ids(call, "A"))

    assert_error(response, 400, "bad_signature")
    assert world() == before


def test_replaying_a_signed_ballot_is_409(as_, city, keeper, key, call):
    client = as_(keeper)
    response, body = signed_ballot(client, call, key, ids(call, "A"))
    assert response.status_code == 201, response.content
    before = world()

    assert_error(client.post(budget_votes(call), body), 409, "replayed_transaction")

    assert world() == before


def test_the_platform_does_not_sign_for_a_self_custody_member(as_, city, keeper, call):
    before = world()

    assert_error(as_(keeper).post(budget_votes(call), {"projects": []}), 400, "no_custodial_key")

    assert world() == before


@pytest.mark.parametrize("suffix", ["", "/prepare"])
@pytest.mark.parametrize(
    "picks",
    [
        lambda call: ids(call, "AB"),  # over the budget
        lambda call: ["unknown"],  # not a project of the call
        lambda call: ids(call, "CC"),  # twice the same project
    ],
)
def test_picks_the_service_refuses_are_refused_before_signing(
    as_, city, keeper, resident, call, suffix, picks
):
    """Prepared by the self-custody member, or cast by a custodial one: refused alike."""
    client = as_(keeper) if suffix else as_(resident)
    before = world()

    response = client.post(budget_votes(call) + suffix, {"projects": picks(call)})

    assert_error(response, 400, "invalid")
    assert world() == before


@pytest.mark.parametrize("suffix", ["", "/prepare"])
def test_who_may_not_vote_is_refused_before_signing(
    request, as_, anonymous, city, staff, call, suffix
):
    late = join(city, "residents", by=staff)  # approved after the vote opened
    path = budget_votes(call) + suffix
    assert_error(anonymous.post(path, {"projects": []}), 401)
    assert_error(as_(late).post(path, {"projects": []}), 403, "not_in_electorate")
    for who in ("outsider", "foreigner"):
        assert_error(
            as_(request.getfixturevalue(who)).post(path, {"projects": []}), 403, "not_allowed"
        )
    close(call)
    assert_error(
        as_(request.getfixturevalue("resident")).post(path, {"projects": []}), 409, "vote_closed"
    )
    assert not Ballot.objects.exists()

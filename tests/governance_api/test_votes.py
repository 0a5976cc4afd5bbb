"""Votes as a signed action, and receipts:

POST .../votes/prepare {choice} answers the canonical bytes of the vote's ledger transaction;
POST .../votes {choice, created_at?, signature?} records it, signed by the voter's DID (by the
platform for a custodial DID, by the client for a self-custody one);
GET .../receipt answers my ballot's inclusion proof once its block is sealed;
GET cities/{slug}/votes/me lists my votes.
"""

from __future__ import annotations

import base64

import pytest
import rfc8785
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import services
from governance.budget import budget_project_add, budget_vote_cast
from governance.models import Ballot
from governance.rules import default_rules
from ledger.models import Transaction
from ledger.services import chain_seal
from tests.identity.support import ClientKey

from .support import (
    Api,
    assert_error,
    close,
    draft,
    join,
    open_vote,
    self_custody_member,
    world,
)

pytestmark = pytest.mark.django_db


def votes(proposal) -> str:
    return f"cities/bourg/proposals/{proposal.public_id}/votes"


def signing_bytes(fields: dict) -> bytes:
    """What a client computes on its own: RFC 8785 of the five signed fields."""
    return rfc8785.dumps(
        {k: fields[k] for k in ("chain", "kind", "actor", "payload", "created_at")}
    )


# --- custodial voters ----------------------------------------------------------------------


def test_a_custodial_member_votes_and_gets_the_ledger_entry(as_, city, resident, open_proposal):
    response = as_(resident).post(votes(open_proposal), {"choice": "yes"})

    assert response.status_code == 201, response.content
    body = response.json()
    ballot = Ballot.objects.get(proposal=open_proposal, membership=resident)
    entry = Transaction.objects.get(chain=city.chain, kind="governance.vote.cast")
    assert body == {
        "proposal": open_proposal.public_id,
        "college": "residents",
        "choice": "yes",
        "did": resident.identity.did,
        "cast_at": body["cast_at"],
        "entry": {"chain": "bourg", "index": entry.index, "tx_hash": entry.tx_hash},
    }
    assert ballot.entry == entry
    assert entry.actor == resident.identity.did
    assert entry.payload == {
        "proposal": open_proposal.public_id,
        "college": "residents",
        "choice": "yes",
    }


def test_the_last_vote_counts_while_the_rules_allow_it(as_, city, resident, open_proposal):
    client = as_(resident)
    first = client.post(votes(open_proposal), {"choice": "yes"}).json()

    second = client.post(votes(open_proposal) + "/", {"choice": "no"})

    assert second.status_code == 201, second.content
    assert second.json()["entry"]["index"] > first["entry"]["index"]
    ballot = Ballot.objects.get(proposal=open_proposal, membership=resident)
    assert ballot.choice == "no"


def test_a_vote_is_not_changed_when_the_rules_say_so(as_, city, mayor, resident, provider):
    rules = default_rules()
    rules["vote_changeable"] = False
    amendment = open_vote(draft(mayor, "amend_rules", rules=rules))
    services.vote_cast(proposal=amendment, member=mayor, choice="yes")
    services.proposal_execute(proposal=close(amendment))
    proposal = open_vote(draft(resident))
    client = as_(resident)
    assert client.post(votes(proposal), {"choice": "yes"}).status_code == 201
    before = world()

    assert_error(client.post(votes(proposal), {"choice": "no"}), 409, "vote_not_changeable")

    assert world() == before


def test_prepare_answers_the_bytes_to_sign_and_writes_nothing(as_, city, resident, open_proposal):
    before = world()

    response = as_(resident).post(votes(open_proposal) + "/prepare", {"choice": "abstain"})

    assert response.status_code == 200, response.content
    prepared = response.json()
    assert prepared["chain"] == "bourg"
    assert prepared["kind"] == "governance.vote.cast"
    assert prepared["actor"] == resident.identity.did
    assert prepared["payload"] == {
        "proposal": open_proposal.public_id,
        "college": "residents",
        "choice": "abstain",
    }
    assert base64.b64decode(prepared["signing_input"]) == signing_bytes(prepared)
    assert world() == before


@pytest.mark.parametrize("body", [{}, {"choice": "peut-être"}, {"choice": ["yes"]}])
@pytest.mark.parametrize("suffix", ["", "/prepare"])
def test_a_bad_choice_is_400(as_, city, resident, open_proposal, body, suffix):
    assert_error(as_(resident).post(votes(open_proposal) + suffix, body), 400, "invalid")


@pytest.mark.parametrize("missing", ["created_at", "signature"])
def test_created_at_and_signature_come_together(as_, city, resident, open_proposal, missing):
    body = {"choice": "yes", "created_at": "2030-01-01T00:00:00Z", "signature": "00" * 64}
    del body[missing]

    assert_error(as_(resident).post(votes(open_proposal), body), 400, "invalid")
    assert not Ballot.objects.exists()


def test_a_signature_by_another_key_is_refused(as_, city, resident, open_proposal):
    client = as_(resident)
    prepared = client.post(votes(open_proposal) + "/prepare", {"choice": "yes"}).json()
    before = world()

    response = client.post(
        votes(open_proposal),
        {"choice": "yes", "created_at": prepared["created_at"], "signature": "ab" * 64},
    )

    assert_error(response, 400, "bad_signature")
    assert world() == before


# --- who may vote -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/prepare"])
def test_an_anonymous_vote_is_401(anonymous, city, open_proposal, suffix):
    response = anonymous.post(votes(open_proposal) + suffix, {"choice": "yes"})

    assert_error(response, 401, "not_authenticated")
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("suffix", ["", "/prepare"])
@pytest.mark.parametrize("who", ["applicant", "outsider", "foreigner", "other_mayor"])
def test_only_approved_members_of_the_city_vote(request, as_, open_proposal, suffix, who):
    client = as_(request.getfixturevalue(who))
    before = world()

    response = client.post(votes(open_proposal) + suffix, {"choice": "yes"})

    assert_error(response, 403, "not_allowed")
    assert world() == before


@pytest.mark.parametrize("suffix", ["", "/prepare"])
def test_a_member_who_joined_after_the_vote_opened_cannot_vote(
    as_, city, staff, open_proposal, suffix
):
    late = join(city, "residents", by=staff)
    before = world()

    response = as_(late).post(votes(open_proposal) + suffix, {"choice": "yes"})

    assert_error(response, 403, "not_in_electorate")
    assert world() == before


@pytest.mark.parametrize("suffix", ["", "/prepare"])
def test_a_closed_vote_is_409(as_, city, resident, open_proposal, suffix):
    close(open_proposal)
    before = world()

    response = as_(resident).post(votes(open_proposal) + suffix, {"choice": "yes"})

    assert_error(response, 409, "vote_closed")
    assert world() == before


def test_a_draft_is_not_voted(as_, city, resident, neighbour, proposal):
    # Its author sees it: not open yet. Anyone else: it does not exist.
    assert_error(as_(resident).post(votes(proposal), {"choice": "yes"}), 409, "vote_closed")
    assert_error(as_(neighbour).post(votes(proposal), {"choice": "yes"}), 404)


def test_a_revoked_member_can_no_longer_vote(as_, city, staff, neighbour, open_proposal):
    services.membership_revoke(membership=neighbour, by=staff)

    assert_error(as_(neighbour).post(votes(open_proposal), {"choice": "yes"}), 403, "not_allowed")


# --- self-custody voters -----------------------------------------------------------------------


@pytest.fixture
def key() -> ClientKey:
    return ClientKey.generate()


@pytest.fixture
def keeper(city, staff, key):
    """A resident whose membership DID is their own key (see `self_custody_member`)."""
    return self_custody_member(city, "residents", by=staff, key=key)


@pytest.fixture
def keeper_vote(keeper, resident, mayor):
    """An open vote whose electorate holds `keeper`."""
    return open_vote(draft(resident))


def test_a_self_custody_member_signs_their_own_vote_end_to_end(
    as_, anonymous, city, keeper, key, keeper_vote
):
    client = as_(keeper)
    prepared = client.post(votes(keeper_vote) + "/prepare", {"choice": "no"})
    assert prepared.status_code == 200, prepared.content
    prepared = prepared.json()
    assert prepared["actor"] == key.did
    assert base64.b64decode(prepared["signing_input"]) == signing_bytes(prepared)

    response = client.post(
        votes(keeper_vote),
        {
            "choice": "no",
            "created_at": prepared["created_at"],
            "signature": key.sign_prepared(prepared),
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["did"], body["choice"]) == (key.did, "no")
    entry = Transaction.objects.get(chain=city.chain, index=body["entry"]["index"])
    assert entry.actor == key.did
    assert entry.signature == key.sign_prepared(prepared)
    assert entry.payload == prepared["payload"]
    assert Ballot.objects.get(proposal=keeper_vote, membership=keeper).entry == entry
    chain_seal(chain=city.chain)
    receipt = client.get(f"cities/bourg/proposals/{keeper_vote.public_id}/receipt").json()
    assert receipt["tx_hash"] == entry.tx_hash
    check = anonymous.post("/api/v1/ledger/receipts/verify", {"receipt": receipt}).json()
    assert check["holds"] is True, check


def signed_vote(client, proposal, key: ClientKey, choice: str, *, signed_choice=None):
    """Prepare `signed_choice` (default: `choice`), sign it with `key`, submit `choice`."""
    prepared = client.post(votes(proposal) + "/prepare", {"choice": signed_choice or choice})
    assert prepared.status_code == 200, prepared.content
    prepared = prepared.json()
    body = {
        "choice": choice,
        "created_at": prepared["created_at"],
        "signature": key.sign_prepared(prepared),
    }
    return client.post(votes(proposal), body), body


def test_a_self_custody_member_changes_their_vote_with_a_new_signature(
    as_, city, keeper, key, keeper_vote
):
    client = as_(keeper)
    first, _ = signed_vote(client, keeper_vote, key, "yes")
    second, _ = signed_vote(client, keeper_vote, key, "abstain")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    ballot = Ballot.objects.get(proposal=keeper_vote, membership=keeper)
    assert ballot.choice == "abstain"
    assert ballot.entry.index == second.json()["entry"]["index"]


def test_a_signature_over_another_choice_is_refused(as_, city, keeper, key, keeper_vote):
    before = world()

    response, _ = signed_vote(as_(keeper), keeper_vote, key, "yes", signed_choice="no")

    assert_error(response, 400, "bad_signature")
    assert world() == before


def test_a_vote_signed_by_another_key_is_refused(as_, city, keeper, keeper_vote):
    before = world()

    response, _ = signed_vote(as_(keeper), keeper_vote, ClientKey.generate(), "yes")

    assert_error(response, 400, "bad_signature")
    assert world() == before


def test_replaying_a_signed_vote_is_409(as_, city, keeper, key, keeper_vote):
    client = as_(keeper)
    response, body = signed_vote(client, keeper_vote, key, "yes")
    assert response.status_code == 201, response.content
    before = world()

    assert_error(client.post(votes(keeper_vote), body), 409, "replayed_transaction")

    assert world() == before


def test_the_platform_does_not_sign_for_a_self_custody_member(as_, city, keeper, keeper_vote):
    before = world()

    response = as_(keeper).post(votes(keeper_vote), {"choice": "yes"})

    assert_error(response, 400, "no_custodial_key")
    assert world() == before


def test_a_self_custody_member_gets_a_clean_refusal_where_only_the_platform_signs(
    as_, city, keeper, keeper_vote
):
    client = as_(keeper)
    comment = client.post(
        f"cities/bourg/proposals/{keeper_vote.public_id}/comments", {"body": "Contre."}
    )
    create = client.post("cities/bourg/proposals", {"kind": "general", "title": "Un banc"})

    assert_error(comment, 400, "no_custodial_key")
    assert_error(create, 400, "no_custodial_key")


# --- receipts and my votes ---------------------------------------------------------------------


def receipt(proposal) -> str:
    return f"cities/bourg/proposals/{proposal.public_id}/receipt"


def test_my_receipt_is_409_until_sealed_then_holds(as_, anonymous, city, resident, open_proposal):
    client = as_(resident)
    vote = client.post(votes(open_proposal), {"choice": "yes"}).json()

    assert_error(client.get(receipt(open_proposal)), 409, "not_sealed")

    chain_seal(chain=city.chain)
    response = client.get(receipt(open_proposal))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["chain"] == "bourg"
    assert (body["tx_hash"], body["leaf_index"]) == (
        vote["entry"]["tx_hash"],
        vote["entry"]["index"],
    )
    check = anonymous.post("/api/v1/ledger/receipts/verify", {"receipt": body}).json()
    assert check["holds"] is True, check


def test_without_a_ballot_there_is_no_receipt(as_, city, resident, neighbour, open_proposal):
    as_(resident).post(votes(open_proposal), {"choice": "yes"})
    chain_seal(chain=city.chain)

    assert_error(as_(neighbour).get(receipt(open_proposal)), 404, "not_found")


def test_receipts_need_an_account_and_hide_drafts(anonymous, as_, city, neighbour, proposal):
    assert_error(anonymous.get(receipt(proposal)), 401)
    assert_error(as_(neighbour).get(receipt(proposal)), 404)


def test_my_votes_list_my_ballots_only(as_, city, resident, neighbour, open_proposal):
    as_(resident).post(votes(open_proposal), {"choice": "yes"})
    as_(neighbour).post(votes(open_proposal), {"choice": "no"})

    body = as_(resident).get("cities/bourg/votes/me").json()

    assert body["count"] == 1
    [row] = body["results"]
    assert (row["proposal"], row["choice"], row["college"]) == (
        open_proposal.public_id,
        "yes",
        "residents",
    )
    assert row["entry"]["chain"] == "bourg"
    assert_error(Api().get("cities/bourg/votes/me"), 401)


def budget_call(author, mayor, *costs: int, budget_cents: int = 1000):
    """An open participatory budget by `author` with one project per cost, in that order."""
    call = draft(author, "fund_project", budget_cents=budget_cents)
    projects = [
        budget_project_add(
            proposal=call,
            by=author,
            title=f"Projet {n}",
            cost_cents=cost,
            recipient=mayor.identity.did,
        )
        for n, cost in enumerate(costs, start=1)
    ]
    return open_vote(call), projects


def test_my_votes_show_the_projects_i_picked(as_, city, resident, neighbour, mayor, proposal):
    call, (benches, trees, fountain) = budget_call(resident, mayor, 400, 500, 300)
    budget_vote_cast(
        proposal=call, member=resident, project_ids=[fountain.public_id, benches.public_id]
    )
    budget_vote_cast(proposal=call, member=neighbour, project_ids=[trees.public_id])
    blank, _ = budget_call(resident, mayor, 200)
    budget_vote_cast(proposal=blank, member=resident, project_ids=[])  # an abstention
    general = open_vote(proposal)
    services.vote_cast(proposal=general, member=resident, choice="no")

    rows = as_(resident).get("cities/bourg/votes/me").json()["results"]

    by_proposal = {row["proposal"]: row for row in rows}
    assert len(rows) == 3
    picks = by_proposal[call.public_id]["picks"]
    assert sorted(picks, key=lambda pick: pick["title"]) == [
        {"project": benches.public_id, "title": "Projet 1", "cost_cents": 400},
        {"project": fountain.public_id, "title": "Projet 3", "cost_cents": 300},
    ]
    assert by_proposal[call.public_id]["choice"] == "yes"
    assert (by_proposal[blank.public_id]["choice"], by_proposal[blank.public_id]["picks"]) == (
        "abstain",
        [],
    )
    assert by_proposal[general.public_id]["picks"] is None
    # The neighbour sees their own pick only.
    (theirs,) = as_(neighbour).get("cities/bourg/votes/me").json()["results"]
    assert [pick["project"] for pick in theirs["picks"]] == [trees.public_id]


def test_my_votes_take_the_same_queries_with_more_budget_ballots(
    as_, city, resident, mayor, provider, neighbour
):
    client = as_(resident)

    def vote_on_a_budget_and_a_general_proposal():
        call, projects = budget_call(resident, mayor, 300, 400)
        budget_vote_cast(
            proposal=call, member=resident, project_ids=[p.public_id for p in projects]
        )
        general = open_vote(draft(resident))
        services.vote_cast(proposal=general, member=resident, choice="yes")

    vote_on_a_budget_and_a_general_proposal()
    client.get("cities/bourg/votes/me")  # warm the caches (content types, token)
    with CaptureQueriesContext(connection) as few:
        first = client.get("cities/bourg/votes/me").json()
    for _ in range(3):
        vote_on_a_budget_and_a_general_proposal()
    with CaptureQueriesContext(connection) as more:
        second = client.get("cities/bourg/votes/me").json()

    assert (first["count"], second["count"]) == (2, 8)
    assert sum(len(row["picks"] or []) for row in second["results"]) == 8
    assert len(more) == len(few)


def test_the_schema_documents_the_picks(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    picks = components["MyBallotOutput"]["properties"]["picks"]
    assert (picks["type"], picks["nullable"]) == ("array", True)
    assert picks["items"] == {"$ref": "#/components/schemas/PickOutput"}
    assert components["PickOutput"]["required"] == ["cost_cents", "project", "title"]

"""Drafting a proposal: an approved member whose college may propose this kind (rules in
force); kind-specific parameters are validated; the ledger holds a digest of the content.
The author amends while in draft."""

from __future__ import annotations

import hashlib

import pytest

from governance.errors import InvalidRules, NotAllowed, WrongState
from governance.rules import default_rules
from governance.services import membership_revoke, proposal_amend, proposal_create
from ledger.canonical import canonical_json

from .helpers import adopt_rules, city_transactions, draft, open_vote, request, writes_nothing

pytestmark = pytest.mark.django_db


def content_digest(title: str, body: str, parameters: dict) -> str:
    return hashlib.sha256(
        canonical_json({"title": title, "body": body, "parameters": parameters})
    ).hexdigest()


def test_a_resident_drafts_a_proposal_and_the_ledger_holds_its_digest(city, resident):
    proposal = proposal_create(
        author=resident, kind="general", title="  Un banc place du marché ", body="Pour tous."
    )
    assert (proposal.status, proposal.kind, proposal.title) == (
        "draft",
        "general",
        "Un banc place du marché",
    )
    assert (proposal.city, proposal.author, proposal.rules) == (city, resident, None)
    (entry,) = city_transactions(city, "governance.proposal.create")
    assert entry.actor == resident.identity.did
    assert entry.payload == {
        "proposal": proposal.public_id,
        "kind": "general",
        "content": content_digest("Un banc place du marché", "Pour tous.", {}),
    }


@pytest.mark.parametrize(
    ("college", "kind", "allowed"),
    [
        ("providers", "amend_rules", False),
        ("residents", "amend_rules", True),
        ("residents", "become_independent", False),
        ("residents", "maintenance_autonomy", False),
        ("providers", "maintenance_autonomy", False),
        ("municipality", "become_independent", True),
        ("municipality", "maintenance_autonomy", True),
        ("providers", "general", True),
    ],
)
def test_the_rules_say_which_college_proposes_which_kind(
    city, mayor, resident, provider, college, kind, allowed
):
    author = {"residents": resident, "providers": provider, "municipality": mayor}[college]
    parameters = {"rules": default_rules()} if kind == "amend_rules" else {}
    if allowed:
        assert (
            proposal_create(author=author, kind=kind, title="t", parameters=parameters).kind == kind
        )
    else:
        with writes_nothing(), pytest.raises(NotAllowed):
            proposal_create(author=author, kind=kind, title="t", parameters=parameters)


def test_the_proposers_follow_the_rules_in_force(city, mayor, provider):
    rules = default_rules()
    rules["proposers"]["general"] = ["municipality"]
    adopt_rules(city, mayor, rules)
    with writes_nothing(), pytest.raises(NotAllowed):
        draft(provider)


def test_an_unknown_kind_is_refused(city, resident):
    with writes_nothing(), pytest.raises(NotAllowed):
        proposal_create(author=resident, kind="lottery", title="t")


def test_a_pending_member_cannot_propose(city, staff):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        draft(pending)


def test_a_funded_project_keeps_only_its_amount_and_recipient(city, resident, provider):
    proposal = draft(
        resident,
        "fund_project",
        amount_cents=150_000,
        recipient=provider.identity.did,
        note="ignored",
    )
    assert proposal.parameters == {"amount_cents": 150_000, "recipient": provider.identity.did}


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"amount_cents": 0, "recipient": "did:key:z6Mkx"},
        {"amount_cents": -5, "recipient": "did:key:z6Mkx"},
        {"amount_cents": 10.5, "recipient": "did:key:z6Mkx"},
        {"amount_cents": "100", "recipient": "did:key:z6Mkx"},
        {"amount_cents": True, "recipient": "did:key:z6Mkx"},
        {"amount_cents": 100},
        {"amount_cents": 100, "recipient": "FR7630006000011234567890189"},
        {"amount_cents": 100, "recipient": ["did:key:z6Mkx"]},
    ],
)
def test_a_funded_project_needs_positive_cents_and_a_recipient_did(city, resident, parameters):
    with writes_nothing(), pytest.raises(InvalidRules):
        proposal_create(author=resident, kind="fund_project", title="t", parameters=parameters)


def test_an_amendment_carries_validated_rules(city, resident):
    proposal = draft(resident, "amend_rules", rules=default_rules())
    assert proposal.parameters == {"rules": default_rules()}
    with writes_nothing(), pytest.raises(InvalidRules):
        proposal_create(author=resident, kind="amend_rules", title="t", parameters={})


def test_other_kinds_drop_unknown_parameters(city, mayor):
    assert draft(mayor, "general", amount_cents=5).parameters == {}
    # deploy_service belongs to the app store, which validates it (tests/marketplace).


def test_the_author_amends_a_draft(city, resident, provider):
    proposal = draft(resident, "fund_project", amount_cents=100, recipient=provider.identity.did)
    amended = proposal_amend(
        proposal=proposal,
        by=resident,
        title="Deux bancs",
        body="Et une table.",
        parameters={"amount_cents": 250, "recipient": provider.identity.did},
    )
    assert (amended.title, amended.body, amended.parameters["amount_cents"]) == (
        "Deux bancs",
        "Et une table.",
        250,
    )
    (entry,) = city_transactions(city, "governance.proposal.amend")
    assert entry.actor == resident.identity.did
    assert entry.payload == {
        "proposal": proposal.public_id,
        "content": content_digest("Deux bancs", "Et une table.", amended.parameters),
    }


def test_an_amendment_keeps_the_parameters_when_none_are_given(city, resident, provider):
    proposal = draft(resident, "fund_project", amount_cents=100, recipient=provider.identity.did)
    amended = proposal_amend(proposal=proposal, by=resident, title="t2", body="")
    assert amended.parameters == {"amount_cents": 100, "recipient": provider.identity.did}


def test_an_amendment_is_validated(city, resident, provider):
    proposal = draft(resident, "fund_project", amount_cents=100, recipient=provider.identity.did)
    with writes_nothing(), pytest.raises(InvalidRules):
        proposal_amend(
            proposal=proposal, by=resident, title="t", body="", parameters={"amount_cents": -1}
        )


def test_only_the_author_amends(city, resident, provider, mayor):
    proposal = draft(resident)
    for someone in (provider, mayor):
        with writes_nothing(), pytest.raises(NotAllowed):
            proposal_amend(proposal=proposal, by=someone, title="Pris", body="")


def test_an_open_proposal_cannot_be_amended(city, resident, mayor):
    proposal = open_vote(draft(resident))
    with writes_nothing(), pytest.raises(WrongState):
        proposal_amend(proposal=proposal, by=resident, title="Changé", body="")


def test_a_revoked_member_cannot_propose(city, staff, resident):
    membership_revoke(membership=resident, by=staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        draft(resident)  # the caller's copy still says "approved": the stored state decides

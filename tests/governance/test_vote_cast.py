"""Casting a vote: only members of the electorate snapshot, while the vote is open, one ballot
per member (a database constraint), signed by the voter's DID and on the ledger; the last vote
counts when the rules allow changing it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction

from governance.errors import NotInElectorate, VoteClosed, VoteNotChangeable, WrongState
from governance.models import Ballot
from governance.rules import default_rules
from governance.services import ballot_counts, membership_revoke, vote_cast
from ledger.didkey import public_key_from_did
from ledger.services import PreparedTransaction
from ledger.timefmt import format_timestamp

from .helpers import (
    adopt_rules,
    appoint,
    city_transactions,
    close,
    draft,
    join,
    open_vote,
    writes_nothing,
)

pytestmark = pytest.mark.django_db


def votes_of(member):
    return Ballot.objects.filter(membership=member)


def test_a_member_votes_and_the_ballot_is_signed_on_the_ledger(city, open_proposal, resident):
    ballot = vote_cast(proposal=open_proposal, member=resident, choice="yes")
    assert (ballot.choice, ballot.college.slug, ballot.membership) == ("yes", "residents", resident)
    entry = ballot.entry
    assert (entry.chain, entry.kind, entry.actor) == (
        city.chain,
        "governance.vote.cast",
        resident.identity.did,
    )
    assert entry.payload == {
        "proposal": open_proposal.public_id,
        "college": "residents",
        "choice": "yes",
    }
    signed = PreparedTransaction(
        chain=city.chain.slug,
        kind=entry.kind,
        actor=entry.actor,
        payload=entry.payload,
        created_at=format_timestamp(entry.created_at),
    ).signing_bytes
    key = Ed25519PublicKey.from_public_bytes(public_key_from_did(resident.identity.did))
    key.verify(bytes.fromhex(entry.signature), signed)  # raises if not the voter's signature


@pytest.mark.parametrize("choice", ["yes", "no", "abstain"])
def test_each_choice_is_recorded(open_proposal, provider, choice):
    assert vote_cast(proposal=open_proposal, member=provider, choice=choice).choice == choice


@pytest.mark.parametrize("choice", ["YES", "oui", "", "maybe"])
def test_an_unknown_choice_is_refused(open_proposal, resident, choice):
    with writes_nothing(), pytest.raises(WrongState):
        vote_cast(proposal=open_proposal, member=resident, choice=choice)


def test_a_member_who_joined_after_the_vote_opened_cannot_vote(city, staff, open_proposal):
    late = join(city, "residents", by=staff)
    with writes_nothing(), pytest.raises(NotInElectorate):
        vote_cast(proposal=open_proposal, member=late, choice="yes")
    assert not votes_of(late).exists()
    assert (
        not city_transactions(city, "governance.vote.cast").filter(actor=late.identity.did).exists()
    )


def test_a_member_of_another_city_cannot_vote(other_city, operator, open_proposal):
    foreigner = appoint(other_city, operator)
    with writes_nothing(), pytest.raises(NotInElectorate):
        vote_cast(proposal=open_proposal, member=foreigner, choice="yes")


def test_a_member_revoked_after_the_opening_cannot_vote(staff, open_proposal, resident):
    membership_revoke(membership=resident, by=staff)
    with writes_nothing(), pytest.raises(NotInElectorate):
        vote_cast(proposal=open_proposal, member=resident, choice="yes")


def test_a_ballot_cast_before_a_revocation_still_counts(staff, open_proposal, resident):
    vote_cast(proposal=open_proposal, member=resident, choice="yes")
    membership_revoke(membership=resident, by=staff)
    assert ballot_counts(open_proposal) == {"residents": {"yes": 1}}


def test_a_draft_is_not_open_for_votes(proposal, resident):
    with writes_nothing(), pytest.raises(VoteClosed):
        vote_cast(proposal=proposal, member=resident, choice="yes")


def test_no_vote_at_or_after_the_deadline(open_proposal, resident):
    for late in (timedelta(0), timedelta(seconds=1)):
        with writes_nothing(), pytest.raises(VoteClosed):
            vote_cast(
                proposal=open_proposal,
                member=resident,
                choice="yes",
                now=open_proposal.closes_at + late,
            )
    just_before = open_proposal.closes_at - timedelta(microseconds=1)
    assert vote_cast(proposal=open_proposal, member=resident, choice="yes", now=just_before)


def test_no_vote_on_a_closed_proposal(open_proposal, resident):
    close(open_proposal)
    with writes_nothing(), pytest.raises(VoteClosed):
        vote_cast(proposal=open_proposal, member=resident, choice="yes")


def test_the_last_vote_counts_when_the_rules_allow_a_change(city, open_proposal, resident):
    first = vote_cast(proposal=open_proposal, member=resident, choice="yes")
    second = vote_cast(proposal=open_proposal, member=resident, choice="no")
    assert second.pk == first.pk
    assert list(votes_of(resident).values_list("choice", "entry_id")) == [("no", second.entry.pk)]
    entries = city_transactions(city, "governance.vote.cast")
    assert [tx.payload["choice"] for tx in entries] == ["yes", "no"]
    assert second.entry == entries.last()
    assert ballot_counts(open_proposal) == {"residents": {"no": 1}}
    assert close(open_proposal).tally["colleges"]["residents"]["no"] == 1


def test_a_vote_cannot_change_when_the_rules_forbid_it(city, mayor, resident, provider):
    rules = default_rules()
    rules["vote_changeable"] = False
    adopt_rules(city, mayor, rules)
    proposal = open_vote(draft(resident))
    first = vote_cast(proposal=proposal, member=resident, choice="yes")
    with writes_nothing(), pytest.raises(VoteNotChangeable):
        vote_cast(proposal=proposal, member=resident, choice="no")
    with writes_nothing(), pytest.raises(VoteNotChangeable):
        vote_cast(proposal=proposal, member=resident, choice="yes")  # even the same choice
    assert list(votes_of(resident).values_list("choice", "entry_id")) == [("yes", first.entry.pk)]


def test_the_database_holds_at_most_one_ballot_per_member_and_proposal(open_proposal, resident):
    ballot = vote_cast(proposal=open_proposal, member=resident, choice="yes")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(
            proposal=open_proposal,
            membership=resident,
            college=ballot.college,
            choice="no",
            entry=ballot.entry,
        )
    assert votes_of(resident).count() == 1


def test_the_ballot_is_counted_in_the_college_of_the_snapshot(open_proposal, resident, provider):
    vote_cast(proposal=open_proposal, member=resident, choice="yes")
    vote_cast(proposal=open_proposal, member=provider, choice="no")
    assert ballot_counts(open_proposal) == {
        "residents": {"yes": 1},
        "providers": {"no": 1},
    }

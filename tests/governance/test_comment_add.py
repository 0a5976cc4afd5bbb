"""The debate: approved members of the city comment on a draft or an open proposal; the ledger
holds the digest of the text, never the text."""

from __future__ import annotations

import pytest

from governance.errors import InvalidInput, NotAllowed, WrongState
from governance.models import Comment
from governance.services import comment_add, membership_revoke, sha256_text

from .helpers import appoint, close, request, writes_nothing

pytestmark = pytest.mark.django_db


def test_municipality_staff_comment_a_draft_and_the_ledger_holds_the_digest(city, proposal, mayor):
    provider = mayor
    comment = comment_add(proposal=proposal, member=provider, body="  Bonne idée, et le coût ? ")
    assert (comment.body, comment.membership, comment.proposal) == (
        "Bonne idée, et le coût ?",
        provider,
        proposal,
    )
    assert comment.entry.kind == "governance.comment.add"
    assert comment.entry.actor == provider.identity.did
    assert comment.entry.payload == {
        "proposal": proposal.public_id,
        "content": sha256_text("Bonne idée, et le coût ?"),
    }


def test_the_debate_goes_on_while_the_vote_is_open(open_proposal, mayor):
    assert comment_add(proposal=open_proposal, member=mayor, body="Je vote pour.")


def test_the_debate_closes_with_the_vote(open_proposal, resident):
    close(open_proposal)
    with writes_nothing(), pytest.raises(WrongState):
        comment_add(proposal=open_proposal, member=resident, body="Trop tard ?")


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_an_empty_comment_is_refused(proposal, mayor, body):
    with writes_nothing(), pytest.raises(InvalidInput):
        comment_add(proposal=proposal, member=mayor, body=body)


def test_a_member_who_cannot_see_a_draft_cannot_debate_it(proposal, provider):
    """A draft is visible to its author and the municipality staff only: so is its debate."""
    with writes_nothing(), pytest.raises(NotAllowed):
        comment_add(proposal=proposal, member=provider, body="Je passais par là")


def test_a_pending_member_cannot_comment(city, proposal):
    pending = request(city, "residents")
    with writes_nothing(), pytest.raises(NotAllowed):
        comment_add(proposal=proposal, member=pending, body="Bonjour")


def test_a_revoked_member_cannot_comment(city, staff, proposal, provider):
    revoked = membership_revoke(membership=provider, by=staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        comment_add(proposal=proposal, member=revoked, body="Bonjour")


def test_a_member_of_another_city_cannot_comment(other_city, operator, proposal):
    foreigner = appoint(other_city, operator)
    with writes_nothing(), pytest.raises(NotAllowed):
        comment_add(proposal=proposal, member=foreigner, body="Bonjour")
    assert not Comment.objects.exists()

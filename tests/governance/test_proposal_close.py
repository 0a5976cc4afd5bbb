"""Closing a vote: only at or after its deadline, idempotent, the tally recorded on the ledger
by the city; the Celery beat task closes every due vote, and an accepted proposal's execution
is scheduled after the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.errors import WrongState
from governance.models import Proposal
from governance.services import due_proposals, proposal_close, vote_cast
from governance.tasks import close_due_proposals

from .helpers import after_close, cast, city_transactions, close, draft, open_vote, writes_nothing

pytestmark = pytest.mark.django_db


def test_a_vote_does_not_close_before_its_deadline(open_proposal):
    with writes_nothing(), pytest.raises(WrongState):
        proposal_close(
            proposal=open_proposal, now=open_proposal.closes_at - timedelta(microseconds=1)
        )


def test_closing_at_the_deadline_records_the_tally_on_the_ledger(
    city, open_proposal, mayor, resident, provider
):
    cast(open_proposal, [(resident, "yes"), (provider, "yes"), (mayor, "no")])
    closed = proposal_close(proposal=open_proposal, now=open_proposal.closes_at)
    assert (closed.status, closed.closed_at) == ("accepted", open_proposal.closes_at)
    assert closed.tally["weighted_result"] == "7/10"
    assert closed.tally["accepted"] is True
    (entry,) = city_transactions(city, "governance.proposal.close")
    assert entry.actor == city.identity.did
    assert entry.payload == {
        "proposal": open_proposal.public_id,
        "outcome": "accepted",
        "tally": closed.tally,
    }
    assert Proposal.objects.get(pk=open_proposal.pk).tally == closed.tally


def test_a_vote_without_ballots_is_rejected(city, open_proposal):
    closed = close(open_proposal)
    assert closed.status == "rejected"
    assert closed.tally["counting_weight"] == 0
    assert city_transactions(city, "governance.proposal.close").get().payload["outcome"] == (
        "rejected"
    )


def test_closing_is_idempotent(city, open_proposal, resident):
    vote_cast(proposal=open_proposal, member=resident, choice="yes")
    first = close(open_proposal)
    with writes_nothing():
        again = proposal_close(proposal=open_proposal, now=after_close(open_proposal))
    assert (again.status, again.tally, again.closed_at) == (
        first.status,
        first.tally,
        first.closed_at,
    )
    assert city_transactions(city, "governance.proposal.close").count() == 1


def test_closing_a_draft_does_nothing(proposal):
    with writes_nothing():
        assert proposal_close(proposal=proposal).status == "draft"


def test_an_accepted_proposal_is_executed_after_the_commit(
    open_proposal, mayor, eager_celery, django_capture_on_commit_callbacks
):
    vote_cast(proposal=open_proposal, member=mayor, choice="yes")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        close(open_proposal)
    assert len(callbacks) == 2  # the voters' notice, then the execution
    assert Proposal.objects.get(pk=open_proposal.pk).status == "executed"


def test_a_rejected_proposal_schedules_no_execution(
    open_proposal, mayor, eager_celery, django_capture_on_commit_callbacks
):
    vote_cast(proposal=open_proposal, member=mayor, choice="no")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        close(open_proposal)
    assert len(callbacks) == 1  # only the voters' notice
    assert Proposal.objects.get(pk=open_proposal.pk).status == "rejected"


def test_the_beat_task_closes_every_due_vote_and_only_those(city, mayor, resident, eager_celery):
    due = [open_vote(draft(resident)), open_vote(draft(resident))]
    later = open_vote(draft(resident))
    still_draft = draft(resident)
    assert close_due_proposals.apply().get() == []  # nothing is due at the real time
    for proposal in due:  # their deadline has passed (as if the vote had opened days ago)
        Proposal.objects.filter(pk=proposal.pk).update(
            closes_at=proposal.opens_at - timedelta(seconds=1)
        )
    assert set(due_proposals()) == set(Proposal.objects.filter(pk__in=[p.pk for p in due]))

    closed = close_due_proposals.apply().get()

    assert sorted(closed) == sorted(p.public_id for p in due)
    assert {p.status for p in Proposal.objects.filter(pk__in=[p.pk for p in due])} == {"rejected"}
    assert city_transactions(city, "governance.proposal.close").count() == 2
    assert Proposal.objects.get(pk=later.pk).status == "open"
    assert Proposal.objects.get(pk=still_draft.pk).status == "draft"
    with writes_nothing():
        assert close_due_proposals.apply().get() == []  # a rerun finds the work done


def test_one_vote_that_cannot_close_does_not_keep_the_others_open(
    city, mayor, resident, eager_celery, monkeypatch
):
    stuck, fine = open_vote(draft(resident)), open_vote(draft(resident))
    for proposal in (stuck, fine):
        Proposal.objects.filter(pk=proposal.pk).update(
            closes_at=proposal.opens_at - timedelta(seconds=1)
        )
    from governance import tasks

    real_close = tasks.proposal_close

    def close_or_fail(*, proposal):
        if proposal.pk == stuck.pk:
            raise RuntimeError("this city's key is not here")
        return real_close(proposal=proposal)

    monkeypatch.setattr(tasks, "proposal_close", close_or_fail)

    assert close_due_proposals.apply().get() == [fine.public_id]
    assert Proposal.objects.get(pk=stuck.pk).status == "open"  # retried at the next run
    assert Proposal.objects.get(pk=fine.pk).status == "rejected"

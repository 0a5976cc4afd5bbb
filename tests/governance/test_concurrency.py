"""Many simultaneous requests on PostgreSQL: one ballot per member whatever the race, one
approval, one close, one payout; the city's ledger stays one gap-free log that verifies and
re-counts to the server's tally."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from governance import services
from governance.budget import ProjectFields, budget_call_create, budget_vote_cast
from governance.errors import VoteNotChangeable, WrongState
from governance.models import Ballot, Membership, Movement, Proposal
from governance.retally import recount
from governance.rules import default_rules
from governance.services import (
    city_create,
    membership_appoint,
    membership_approve,
    membership_revoke,
    proposal_close,
    proposal_execute,
    proposal_open,
    vote_cast,
)
from ledger.models import Transaction
from tests.conftest import require_postgres
from tests.factories import UserFactory

from .helpers import (
    POSTAL_CODES,
    adopt_rules,
    after_close,
    balance,
    city_transactions,
    close,
    draft,
    export,
    fund,
    join_many,
    ledger_verifies,
    load,
    open_vote,
    request,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_together(work, count: int = THREADS) -> list[BaseException]:
    """Run `work(number)` in `count` threads released at the same moment; return their errors."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def body(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    return failures


@pytest.fixture
def world():
    require_postgres()
    operator = UserFactory(is_staff=True)
    city = city_create(operator=operator, slug="bourg", name="Bourg", postal_codes=POSTAL_CODES)
    mayor = membership_appoint(operator=operator, user=UserFactory(), city=city)
    return city, operator, mayor


def vote_entries(city, member) -> list[Transaction]:
    return list(city_transactions(city, "governance.vote.cast").filter(actor=member.identity.did))


def test_a_double_vote_raced_by_many_requests_yields_one_ballot(world, tmp_path):
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    proposal = open_vote(draft(resident))
    choices = ["yes", "no", "abstain"]

    assert (
        run_together(lambda n: vote_cast(proposal=proposal, member=resident, choice=choices[n % 3]))
        == []
    )

    (ballot,) = Ballot.objects.filter(proposal=proposal)
    entries = vote_entries(city, resident)
    assert len(entries) == THREADS  # each was a vote, the later ones changes of vote
    last = max(entries, key=lambda tx: tx.index)
    assert (ballot.entry_id, ballot.choice) == (last.pk, last.payload["choice"])
    assert f"OK {city.chain.slug}" in ledger_verifies(city)
    proposal = close(proposal)
    result = recount(load(export(city, tmp_path)), proposal.public_id)
    assert result.tally == proposal.tally and result.matches
    assert (result.counted, result.superseded) == (1, THREADS - 1)


def test_first_votes_and_changes_of_vote_interleaved_never_deadlock(world):
    """Requests arrive staggered, so some find no ballot yet and some find one: whatever the
    order, every vote is recorded, nothing deadlocks, and the ballot holds the last entry."""
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    proposal = open_vote(draft(resident))
    pauses = random.Random(20310).sample(range(THREADS * 3), THREADS * 3)

    def work(n: int) -> None:
        for round_ in range(3):
            time.sleep(pauses[n * 3 + round_] / 1000)
            vote_cast(proposal=proposal, member=resident, choice=("yes", "no")[(n + round_) % 2])

    assert run_together(work) == []

    (ballot,) = Ballot.objects.filter(proposal=proposal)
    entries = vote_entries(city, resident)
    assert len(entries) == THREADS * 3
    last = max(entries, key=lambda tx: tx.index)
    assert (ballot.entry_id, ballot.choice) == (last.pk, last.payload["choice"])
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def test_a_double_vote_raced_when_votes_cannot_change_records_only_the_first(world):
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    rules = default_rules()
    rules["vote_changeable"] = False
    adopt_rules(city, mayor, rules)
    proposal = open_vote(draft(resident))
    size = Proposal.objects.get(pk=proposal.pk).city.chain.size

    failures = run_together(
        lambda n: vote_cast(proposal=proposal, member=resident, choice="yes" if n % 2 else "no")
    )

    assert len(failures) == THREADS - 1
    assert all(isinstance(error, VoteNotChangeable) for error in failures), failures
    (ballot,) = Ballot.objects.filter(proposal=proposal)
    (entry,) = vote_entries(city, resident)
    assert (ballot.entry_id, ballot.choice) == (entry.pk, entry.payload["choice"])
    city.chain.refresh_from_db()
    assert city.chain.size == size + 1  # the refused votes left nothing on the ledger
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def test_many_members_voting_at_once_are_all_counted(world, tmp_path):
    city, _operator, mayor = world
    residents = join_many(city, "residents", THREADS, by=mayor.user)
    proposal = open_vote(draft(residents[0]))

    def work(n: int) -> None:
        vote_cast(proposal=proposal, member=residents[n], choice="yes" if n % 4 else "no")
        vote_cast(proposal=proposal, member=residents[n], choice="yes" if n % 4 else "no")

    assert run_together(work) == []

    assert Ballot.objects.filter(proposal=proposal).count() == THREADS
    indices = list(
        Transaction.objects.filter(chain=city.chain)
        .order_by("index")
        .values_list("index", flat=True)
    )
    assert indices == list(range(len(indices)))
    proposal = close(proposal)
    residents_tally = proposal.tally["colleges"]["residents"]
    assert (residents_tally["yes"], residents_tally["no"]) == (6, 2)
    assert recount(load(export(city, tmp_path)), proposal.public_id).matches
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def open_budget_call(city, author) -> tuple[Proposal, list[str]]:
    """An open budget call of 100,000 cents with projects A, B, C (60,000, 50,000, 30,000)."""
    call = budget_call_create(
        author=author,
        title="Budget participatif",
        budget_cents=100_000,
        projects=[
            ProjectFields(title=title, cost_cents=cost, recipient=author.identity.did)
            for title, cost in (("A", 60_000), ("B", 50_000), ("C", 30_000))
        ],
    )
    call = open_vote(call)
    return call, list(call.budget_projects.order_by("position").values_list("public_id", flat=True))


def test_a_budget_ballot_raced_by_many_requests_yields_one_ballot_and_a_gap_free_log(
    world, tmp_path
):
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    call, (a, b, c) = open_budget_call(city, resident)
    selections = [[a], [b, c], [a, c], [], [c]]

    assert (
        run_together(
            lambda n: budget_vote_cast(
                proposal=call, member=resident, project_ids=selections[n % len(selections)]
            )
        )
        == []
    )

    (ballot,) = Ballot.objects.filter(proposal=call)
    entries = vote_entries(city, resident)
    assert len(entries) == THREADS  # each was a ballot, the later ones changes of picks
    last = max(entries, key=lambda tx: tx.index)
    assert (ballot.entry_id, ballot.selection) == (last.pk, last.payload["selection"])
    indices = list(
        Transaction.objects.filter(chain=city.chain)
        .order_by("index")
        .values_list("index", flat=True)
    )
    assert indices == list(range(len(indices)))
    assert f"OK {city.chain.slug}" in ledger_verifies(city)
    call = close(call)
    result = recount(load(export(city, tmp_path)), call.public_id)
    assert result.tally == call.tally and result.matches
    assert (result.counted, result.superseded) == (1, THREADS - 1)


def test_a_budget_ballot_raced_when_votes_cannot_change_records_only_the_first(world):
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    rules = default_rules()
    rules["vote_changeable"] = False
    adopt_rules(city, mayor, rules)
    call, (a, b, c) = open_budget_call(city, resident)
    size = Proposal.objects.get(pk=call.pk).city.chain.size

    failures = run_together(
        lambda n: budget_vote_cast(
            proposal=call, member=resident, project_ids=[a] if n % 2 else [c]
        )
    )

    assert len(failures) == THREADS - 1
    assert all(isinstance(error, VoteNotChangeable) for error in failures), failures
    (ballot,) = Ballot.objects.filter(proposal=call)
    (entry,) = vote_entries(city, resident)
    assert (ballot.entry_id, ballot.selection) == (entry.pk, entry.payload["selection"])
    city.chain.refresh_from_db()
    assert city.chain.size == size + 1  # the refused ballots left nothing on the ledger
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def race_after_append(kind: str, first, second) -> list[BaseException]:
    """Run `first` until its service has appended its `kind` transaction (holding the chain
    head, not yet committed), then start `second` and let `first` go on half a second later,
    while `second` is under way: the moment two requests most often collide."""
    appended, proceed = threading.Event(), threading.Event()
    real_append = services.ledger_append

    def append_then_wait(**kwargs):
        entry = real_append(**kwargs)
        if kwargs["kind"] == kind and not appended.is_set():
            appended.set()
            proceed.wait(timeout=10)
        return entry

    def work(n: int) -> None:
        if n == 0:
            first()
        else:
            assert appended.wait(timeout=10), f"no {kind} was appended"
            threading.Timer(0.5, proceed.set).start()
            second()

    with (
        mock.patch.object(services, "ledger_append", append_then_wait),
        mock.patch("governance.tasks.execute_proposal.delay"),
    ):
        return run_together(work, count=2)


def test_a_vote_racing_the_close_is_in_the_tally(world, tmp_path):
    """A ballot whose transaction is on the ledger before the close must be in the tally:
    otherwise the re-count from the export (every vote before the close) and the server
    disagree."""
    city, _operator, mayor = world
    proposal = open_vote(draft(mayor))

    assert (
        race_after_append(
            "governance.vote.cast",
            lambda: vote_cast(proposal=proposal, member=mayor, choice="yes"),
            lambda: proposal_close(proposal=proposal, now=after_close(proposal)),
        )
        == []
    )

    closed = Proposal.objects.get(pk=proposal.pk)
    vote = city_transactions(city, "governance.vote.cast").get()
    close_entry = city_transactions(city, "governance.proposal.close").get()
    assert vote.index < close_entry.index
    assert closed.tally["colleges"]["municipality"]["yes"] == 1
    assert recount(load(export(city, tmp_path)), proposal.public_id).matches


def test_an_approval_racing_the_opening_is_in_the_snapshot_the_ledger_shows(world, tmp_path):
    """An approval on the ledger before the open transaction must be in the electorate, or
    the digest re-derived from the export would not match the recorded one."""
    city, _operator, mayor = world
    pending = request(city, "residents")
    proposal = draft(mayor)
    closes_at = timezone.now() + timedelta(hours=48)

    assert (
        race_after_append(
            "governance.membership.approve",
            lambda: membership_approve(membership=pending, by=mayor.user),
            lambda: proposal_open(proposal=proposal, by=mayor, closes_at=closes_at),
        )
        == []
    )

    opened = Proposal.objects.get(pk=proposal.pk)
    assert opened.electorate_sizes == {"municipality": 1, "residents": 1}
    assert opened.electorate.filter(membership=pending).exists()
    result = recount(load(export(city, tmp_path)), proposal.public_id)
    assert result.electorate_digest == opened.electorate_digest


def test_a_revocation_racing_a_first_vote_does_not_deadlock(world):
    city, _operator, mayor = world
    (resident,) = join_many(city, "residents", 1, by=mayor.user)
    proposal = open_vote(draft(resident))

    assert (
        race_after_append(
            "governance.vote.cast",
            lambda: vote_cast(proposal=proposal, member=resident, choice="yes"),
            lambda: membership_revoke(membership=resident, by=mayor.user),
        )
        == []
    )

    assert Ballot.objects.filter(proposal=proposal, membership=resident).count() == 1
    assert Membership.objects.get(pk=resident.pk).status == "revoked"
    assert f"OK {city.chain.slug}" in ledger_verifies(city)


def test_a_grant_racing_a_payout_does_not_deadlock(world):
    city, _operator, mayor = world
    fund(city, 10_000)
    proposal = open_vote(
        draft(mayor, "fund_project", amount_cents=6_000, recipient=mayor.identity.did)
    )
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    with mock.patch("governance.tasks.execute_proposal.delay"):
        proposal = close(proposal)

    assert (
        race_after_append(
            "governance.treasury.move",
            lambda: fund(city, 500),
            lambda: proposal_execute(proposal=proposal),
        )
        == []
    )

    assert Proposal.objects.get(pk=proposal.pk).status == "executed"
    assert balance(city, "bank") == 4_500


def test_a_vote_closed_by_many_workers_is_closed_once(world):
    city, _operator, mayor = world
    proposal = open_vote(draft(mayor))
    vote_cast(proposal=proposal, member=mayor, choice="no")
    moment = after_close(proposal)

    assert run_together(lambda n: proposal_close(proposal=proposal, now=moment)) == []

    assert city_transactions(city, "governance.proposal.close").count() == 1
    assert Proposal.objects.get(pk=proposal.pk).status == "rejected"


def test_a_payout_executed_by_many_workers_is_paid_once(world):
    city, _operator, mayor = world
    fund(city, 10_000)
    proposal = open_vote(
        draft(mayor, "fund_project", amount_cents=6_000, recipient=mayor.identity.did)
    )
    vote_cast(proposal=proposal, member=mayor, choice="yes")
    # Close without the on-commit execution, so the workers race for it.
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=proposal.opens_at)
    proposal = Proposal.objects.get(pk=proposal.pk)
    with mock.patch("governance.tasks.execute_proposal.delay"):
        assert close(proposal).status == "accepted"

    assert run_together(lambda n: proposal_execute(proposal=proposal)) == []

    assert Movement.objects.filter(proposal=proposal).count() == 1
    assert city_transactions(city, "governance.proposal.execute").count() == 1
    assert balance(city, "bank") == 4_000


def test_a_request_approved_by_many_staff_at_once_is_approved_once(world):
    city, operator, mayor = world
    staff = [mayor.user] + [
        membership_appoint(operator=operator, user=UserFactory(), city=city).user
        for _ in range(THREADS - 1)
    ]
    pending = request(city, "residents")

    failures = run_together(lambda n: membership_approve(membership=pending, by=staff[n]))

    assert Counter(type(error) for error in failures) == {WrongState: THREADS - 1}
    assert Membership.objects.get(pk=pending.pk).status == "approved"
    approvals = city_transactions(city, "governance.membership.approve")
    assert approvals.filter(payload__membership=pending.public_id).count() == 1
    assert (
        city_transactions(city, "identity.credential.issue")
        .filter(payload__subject=pending.identity.did)
        .count()
        == 1
    )

"""Simultaneous API requests on PostgreSQL: a member who sends the same vote many times at
once (custodial or signed by their own key) holds one ballot, and the city's ledger stays one
gap-free log."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from governance.models import Ballot
from ledger.models import Transaction
from tests.conftest import require_postgres
from tests.identity.support import ClientKey

from .support import Api, draft, open_vote, self_custody_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def together(work, count: int = THREADS) -> list:
    """`work(number)` in `count` threads released at once; their answers, in order."""
    start = threading.Barrier(count)
    answers: list = [None] * count

    def body(number: int) -> None:
        try:
            start.wait()
            answers[number] = work(number)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            answers[number] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    return answers


def gap_free(city) -> None:
    indexes = list(
        Transaction.objects.filter(chain=city.chain)
        .order_by("index")
        .values_list("index", flat=True)
    )
    assert indexes == list(range(len(indexes)))


def test_simultaneous_votes_of_one_member_leave_one_ballot(city, resident, open_proposal):
    require_postgres()
    path = f"cities/bourg/proposals/{open_proposal.public_id}/votes"
    choices = ["yes", "no"] * (THREADS // 2)

    answers = together(lambda n: Api(resident.user).post(path, {"choice": choices[n]}))

    assert [a.status_code for a in answers] == [201] * THREADS, [a.content for a in answers]
    ballot = Ballot.objects.get(proposal=open_proposal, membership=resident)
    last = (
        Transaction.objects.filter(
            chain=city.chain, kind="governance.vote.cast", actor=resident.identity.did
        )
        .order_by("-index")
        .first()
    )
    assert ballot.entry == last
    assert ballot.choice == last.payload["choice"]
    assert Transaction.objects.filter(kind="governance.vote.cast").count() == THREADS
    gap_free(city)


def test_simultaneous_replays_of_one_signed_vote_record_it_once(city, staff, resident, mayor):
    require_postgres()
    key = ClientKey.generate()
    keeper = self_custody_member(city, "residents", by=staff, key=key)
    client = Api(keeper.user)
    proposal = open_vote(draft(resident))
    path = f"cities/bourg/proposals/{proposal.public_id}/votes"
    vote = client.post(path + "/prepare", {"choice": "yes"}).json()
    body = {"choice": "yes", "created_at": vote["created_at"], "signature": key.sign_prepared(vote)}

    answers = together(lambda n: Api(keeper.user).post(path, body))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (THREADS - 1), [a.content for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "replayed_transaction"
    }
    ballot = Ballot.objects.get(proposal=proposal, membership=keeper)
    assert ballot.entry.actor == key.did
    assert Transaction.objects.filter(kind="governance.vote.cast", actor=key.did).count() == 1
    gap_free(city)

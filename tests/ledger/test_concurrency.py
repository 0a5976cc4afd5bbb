"""Many writers at once on PostgreSQL: one gap-free log, never a fork, never a double entry."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from ledger.errors import ReplayedTransaction, RotationPending
from ledger.models import Block, Chain, Transaction, ValidatorChange
from ledger.quorum import ROTATE_KIND
from ledger.selectors import tree_root
from ledger.services import chain_seal, ledger_append, ledger_append_signed, transaction_prepare
from ledger.signing import platform_validator
from ledger.validators import validator_key_rotate_signed, validator_set_schedule
from tests.conftest import require_postgres
from tests.factories import ChainFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import KIND, hand_signed_rotation, memory_tree

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
APPENDS = 15


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
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    return failures


def verify(slug: str) -> str:
    out = StringIO()
    call_command("ledger_verify", "--chain", slug, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_concurrent_writers_make_one_gap_free_log(signer_factory):
    require_postgres()
    chain = ChainFactory()
    signers = [signer_factory() for _ in range(THREADS)]

    def work(number: int) -> None:
        for n in range(APPENDS):
            ledger_append(
                chain=chain.slug,
                actor=signers[number],
                kind=KIND,
                payload={"writer": number, "n": n},
            )

    assert run_together(work) == []

    total = THREADS * APPENDS
    chain.refresh_from_db()
    assert chain.size == total
    indices = list(
        Transaction.objects.filter(chain=chain).order_by("index").values_list("index", flat=True)
    )
    assert indices == list(range(total))
    written = Transaction.objects.filter(chain=chain).values_list("payload", flat=True)
    assert sorted((p["writer"], p["n"]) for p in written) == sorted(
        (w, n) for w in range(THREADS) for n in range(APPENDS)
    )
    for number in range(THREADS):  # each writer's own entries stay in its order
        own = Transaction.objects.filter(chain=chain, actor=signers[number].did).order_by("index")
        assert [tx.payload["n"] for tx in own] == list(range(APPENDS))
    assert tree_root(chain=chain, size=total) == memory_tree(chain).root(total)
    chain_seal(chain=chain)
    assert f"OK {chain.slug}: {total} transactions" in verify(chain.slug)


def test_concurrent_writers_and_sealers_agree_on_one_chain(signer_factory, settings):
    require_postgres()
    settings.SMARTB_SEAL_BATCH_SIZE = 10**9  # seals come only from the sealing threads
    chain = ChainFactory()
    signers = [signer_factory() for _ in range(THREADS)]

    def work(number: int) -> None:
        for n in range(APPENDS):
            if number % 4 == 3:
                chain_seal(chain=chain.slug)
            else:
                ledger_append(chain=chain.slug, actor=signers[number], kind=KIND, payload={"n": n})

    assert run_together(work) == []
    chain_seal(chain=chain.slug)
    chain.refresh_from_db()
    blocks = list(Block.objects.filter(chain=chain).order_by("height"))
    assert [b.height for b in blocks] == list(range(len(blocks)))
    sizes = [b.tree_size for b in blocks]
    assert sizes == sorted(set(sizes)) and sizes[-1] == chain.size == chain.sealed_size
    tree = memory_tree(chain)
    assert all(b.root == tree.root(b.tree_size).hex() for b in blocks)
    assert "OK" in verify(chain.slug)


def test_a_replay_raced_by_many_clients_is_recorded_once(signer_factory):
    require_postgres()
    chain = ChainFactory()
    signer = signer_factory()
    prepared = transaction_prepare(
        chain=chain, actor_did=signer.did, kind=KIND, payload={"ref": "once"}
    )
    signature = signer.sign(prepared.signing_bytes)
    outcomes: list[str] = []

    def work(number: int) -> None:
        try:
            ledger_append_signed(
                chain=chain.slug,
                actor_did=signer.did,
                kind=KIND,
                payload={"ref": "once"},
                created_at=prepared.created_at,
                signature=signature,
            )
            outcomes.append("recorded")
        except ReplayedTransaction:
            outcomes.append("replay")

    assert run_together(work) == []
    assert sorted(outcomes) == ["recorded"] + ["replay"] * (THREADS - 1)
    assert Transaction.objects.filter(chain=chain).count() == 1
    assert Chain.objects.get(pk=chain.pk).size == 1


def test_concurrent_rotations_of_one_key_record_one(signer_factory):
    """A self-custody validator's key rotated to different successors at once (or the same
    request sent twice): the chain lock lets one through, the others are a 409, not a fork
    of the validator set."""
    require_postgres()
    chain = ChainFactory()
    validator = new_signer()
    validator_set_schedule(
        chain=chain,
        members=[platform_validator().did, validator.did],
        quorum=2,
        actor=signer_factory(),
    )
    chain_seal(chain=chain)
    chain.refresh_from_db()
    bodies = [
        hand_signed_rotation(chain, validator, new_signer(), height=2) for _ in range(THREADS)
    ]
    outcomes: list[str] = []

    def work(number: int) -> None:
        try:
            validator_key_rotate_signed(chain=chain.slug, **bodies[number])
            outcomes.append("rotated")
        except RotationPending:
            outcomes.append("conflict")

    assert run_together(work) == []
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["rotated"]
    assert ValidatorChange.objects.filter(chain=chain, kind=ROTATE_KIND).count() == 1
    assert Transaction.objects.filter(chain=chain, kind=ROTATE_KIND).count() == 1


@pytest.fixture
def signer_factory():
    from ledger.services import actor_register

    def make():
        key = new_signer()
        actor_register(did=key.did)
        return key

    return make

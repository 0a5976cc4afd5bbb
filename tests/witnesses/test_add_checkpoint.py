"""A log pushes its checkpoint to a city's witness (C2SP tlog-witness `add-checkpoint`): the
same checks as the pull round, the spec's statuses (200 cosignature lines, 400, 403, 404,
409 with the size last cosigned, 422), and the spec's example request body."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from ledger import selectors
from ledger.checkpoint import parse_checkpoint
from ledger.models import Chain
from ledger.signing import platform_validator
from ledger.validators import validator_set_schedule
from witnesses.cosignature import verify_cosignature
from witnesses.models import Cosignature, Inconsistency, Reason
from witnesses.services import witness_add, witness_key_name
from witnesses.tlog_witness import MalformedPush, parse_add_checkpoint

from .conftest import grow, signed_checkpoint

# The example request body of C2SP tlog-witness (add-checkpoint).
C2SP_EXAMPLE = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URY"
    "N7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2W"
    "ks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)


def test_the_c2sp_example_body_parses():
    pushed = parse_add_checkpoint(C2SP_EXAMPLE.encode())
    assert pushed.old == 20852014
    assert len(pushed.proof) == 4 and all(len(h) == 32 for h in pushed.proof)
    assert base64.b64encode(pushed.proof[0]).decode() == (
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
    )
    checkpoint = parse_checkpoint(pushed.checkpoint)
    assert (checkpoint.origin, checkpoint.tree_size) == ("example.com/behind-the-sofa", 20852163)
    assert len(checkpoint.signatures) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"old 5\nexample\n",  # no empty line
        b"old 05\n\nx\n",
        b"old -1\n\nx\n",
        b"new 5\n\nx\n",
        b"old 5\nnot-base64!\n\nx\n",
        b"old 5\nAAAA\n\nx\n",  # base64, not a SHA-256 hash
        b"old 0\n" + base64.b64encode(bytes(32)) + b"\n\nx\n",  # a proof from size zero
        b"old 5\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\nx\n",
        b"old 5\n\n\xff\xfe\n",
        b"old 1\n\n" + b"x" * 70_000,
    ],
)
def test_a_malformed_body_is_refused(body):
    with pytest.raises(MalformedPush):
        parse_add_checkpoint(body)


@pytest.fixture
def relation(city, staff, watched):
    return witness_add(city=city, by=staff, chain=watched.chain)


def latest_checkpoint(watched) -> str:
    chain = Chain.objects.get(pk=watched.chain_id)
    return selectors.block_checkpoint(block=selectors.block_latest_final(chain=chain))


def body_of(old: int, checkpoint: str, proof: list[str] | None = None) -> bytes:
    lines = "".join(base64.b64encode(bytes.fromhex(h)).decode() + "\n" for h in proof or [])
    return f"old {old}\n{lines}\n{checkpoint}".encode()


def push(client, city, body: bytes):
    url = reverse("witnesses_api:add_checkpoint", kwargs={"slug": city.slug})
    return client.generic("POST", url, body, "text/plain")


def proof_between(watched, first: int, second: int) -> list[str]:
    chain = Chain.objects.get(pk=watched.chain_id)
    return selectors.consistency_proof(chain=chain, first=first, second=second)["proof"]


def test_a_pushed_checkpoint_is_cosigned_then_extended(client, city, watched, relation):
    checkpoint = latest_checkpoint(watched)
    response = push(client, city, body_of(0, checkpoint))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    line = response.content.decode()
    assert line.startswith("\u2014 ") and line.endswith("\n")
    verify_cosignature(
        checkpoint + line, name=witness_key_name(city), public_key=city.identity.public_key
    )
    relation.refresh_from_db()
    first = relation.last_size
    assert first == watched.chain.sealed_size

    # The same checkpoint again: the same cosignature, nothing new.
    again = push(client, city, body_of(first, checkpoint))
    assert again.status_code == 200 and again.content.decode() == line
    assert Cosignature.objects.count() == 1

    grow(watched, 3)
    bigger = latest_checkpoint(watched)
    second = parse_checkpoint(bigger).tree_size
    response = push(client, city, body_of(first, bigger, proof_between(watched, first, second)))
    assert response.status_code == 200, response.content
    relation.refresh_from_db()
    assert relation.last_size == second
    assert list(relation.cosignatures.values_list("tree_size", flat=True)) == [second, first]


def test_an_old_size_that_is_not_the_last_cosigned_is_a_conflict(client, city, watched, relation):
    assert push(client, city, body_of(0, latest_checkpoint(watched))).status_code == 200
    seen = watched.chain.sealed_size
    grow(watched, 2)
    response = push(client, city, body_of(0, latest_checkpoint(watched)))
    assert response.status_code == 409
    assert response["Content-Type"] == "text/x.tlog.size"
    assert response.content == f"{seen}\n".encode()
    relation.refresh_from_db()
    assert relation.last_size == seen
    assert not Inconsistency.objects.exists()


def test_a_proof_that_fails_is_unprocessable_and_not_evidence(client, city, watched, relation):
    push(client, city, body_of(0, latest_checkpoint(watched)))
    seen = watched.chain.sealed_size
    grow(watched, 2)
    wrong = ["ab" * 32] * len(proof_between(watched, seen, watched.chain.sealed_size))
    response = push(client, city, body_of(seen, latest_checkpoint(watched), wrong))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_proof"
    relation.refresh_from_db()
    assert relation.last_size == seen and Cosignature.objects.count() == 1
    assert not Inconsistency.objects.exists()


def test_a_checkpoint_without_the_log_quorum_is_forbidden(client, city, watched, relation):
    checkpoint = latest_checkpoint(watched)
    body, _, _ = checkpoint.partition("\n\n")
    stranger = base64.b64encode(b"\x00\x01\x02\x03" + bytes(64)).decode()
    forged = f"{body}\n\n\u2014 someone.example/log {stranger}\n"
    response = push(client, city, body_of(0, forged))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    relation.refresh_from_db()
    assert relation.last_size is None and not Cosignature.objects.exists()


def test_unknown_cities_and_logs_are_not_found(client, city, watched, relation, operator):
    checkpoint = latest_checkpoint(watched)
    url = reverse("witnesses_api:add_checkpoint", kwargs={"slug": "nowhere"})
    assert client.generic("POST", url, body_of(0, checkpoint), "text/plain").status_code == 404
    own = selectors.block_checkpoint(block=selectors.block_latest_final(chain=city.chain))
    response = push(client, city, body_of(0, own))  # its own chain: not witnessed
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_malformed_push_is_a_bad_request(client, city, relation):
    response = push(client, city, b"{}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_another_root_for_the_size_cosigned_is_kept_as_evidence(client, city, watched, relation):
    push(client, city, body_of(0, latest_checkpoint(watched)))
    seen = watched.chain.sealed_size
    fork = signed_checkpoint(watched.chain.slug, seen, b"\x42" * 32)
    response = push(client, city, body_of(seen, fork))
    assert response.status_code == 409
    assert response.content == f"{seen}\n".encode()
    [evidence] = Inconsistency.objects.all()
    assert evidence.reason == Reason.FORK and evidence.new_checkpoint == fork
    assert evidence.entry.chain_id == city.chain_id


def test_a_pushed_checkpoint_follows_a_validator_change(client, city, watched, relation):
    push(client, city, body_of(0, latest_checkpoint(watched)))
    seen = watched.chain.sealed_size
    members = [platform_validator().did, watched.identity.did]
    validator_set_schedule(chain=watched.chain, members=members, quorum=2, actor=watched.identity)
    grow(watched, 1)  # seals the change, signed by the platform alone
    grow(watched, 1)  # the new set's first block
    size = watched.chain.sealed_size
    response = push(
        client, city, body_of(seen, latest_checkpoint(watched), proof_between(watched, seen, size))
    )
    assert response.status_code == 200, response.content
    relation.refresh_from_db()
    assert (relation.log_keys, relation.quorum, relation.last_size) == (members, 2, size)

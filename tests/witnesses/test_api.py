"""The public witnessing API: the witnessed checkpoint (log signatures, then cosignatures),
the cosignatures list, a city's relations; JSON errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from witnesses.cosignature import verify_cosignature, verify_log_signatures
from witnesses.services import (
    local_log_set,
    witness_add,
    witness_key_name,
    witness_observe,
)


@pytest.fixture
def witnessed(city, staff, watched):
    relation = witness_add(city=city, by=staff, chain=watched.chain)
    witness_observe(relation=relation)
    return relation


def test_the_checkpoint_carries_the_logs_signatures_then_the_cosignatures(
    client, city, watched, witnessed
):
    response = client.get(reverse("witnesses_api:checkpoint", args=[watched.chain.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    keys, quorum = local_log_set(watched.chain)
    from ledger.didkey import public_key_from_did

    verify_log_signatures(text, public_keys=[public_key_from_did(k) for k in keys], quorum=quorum)
    verify_cosignature(text, name=witness_key_name(city), public_key=city.identity.public_key)
    assert text.rstrip("\n").splitlines()[-1].startswith(f"\u2014 {witness_key_name(city)} ")


def test_errors_are_json(client, city, witnessed):
    for slug in (city.chain.slug, "nowhere"):  # not witnessed; no such chain
        response = client.get(reverse("witnesses_api:checkpoint", args=[slug]))
        assert response.status_code == 404
        assert "code" in response.json()["error"]
    response = client.get(
        reverse("witnesses_api:cosignatures", args=[city.chain.slug]), {"limit": "x"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_cosignatures_and_relations_lists(client, city, watched, witnessed):
    rows = client.get(reverse("witnesses_api:cosignatures", args=[watched.chain.slug])).json()
    assert [(r["witness"], r["tree_size"]) for r in rows] == [
        ("sete", witnessed.cosignatures.get().tree_size)
    ]
    body = client.get(reverse("witnesses_api:city_relations", args=[watched.slug])).json()
    assert [r["witness"] for r in body["witnessed_by"]] == ["sete"]
    assert body["witnesses_logs"] == [] and body["inconsistencies"] == []
    body = client.get(reverse("witnesses_api:city_relations", args=[city.slug])).json()
    assert body["witnesses_logs"][0]["public_id"] == witnessed.public_id

"""`GET /api/v1/ledger/chains/<slug>/validator-changes`: a chain's validator-change
transactions in an index range, in index order, one bounded page at a time; the other
entries of the range are never listed, and a page costs the same however many there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.export import transaction_dict
from ledger.quorum import ROTATE_KIND, SET_KIND
from ledger.selectors import VALIDATOR_CHANGES_PAGE
from ledger.services import chain_seal
from ledger.signing import platform_validator
from ledger.validators import validator_key_rotate, validator_set_schedule
from tests.factories import ChainFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many

API = "/api/v1/ledger/chains"


@pytest.fixture
def changed_chain(db, signer):
    """Entries 0-9 plain, 10 a set change, 11-29 plain, 30 a set change, 31-39 plain."""
    chain = ChainFactory()
    append_many(chain, signer, 10)
    members = [platform_validator().did]
    validator_set_schedule(chain=chain, members=members, quorum=1, actor=signer)
    append_many(chain, signer, 19, start=11)
    chain_seal(chain=chain)
    validator_set_schedule(chain=chain, members=members, quorum=1, actor=signer)
    append_many(chain, signer, 9, start=31)
    chain_seal(chain=chain)
    chain.refresh_from_db()
    return chain


def page(client, chain, **params):
    return client.get(f"{API}/{chain.slug}/validator-changes", params)


def test_only_the_changes_of_the_range_are_listed_as_signed(client, changed_chain):
    response = page(client, changed_chain)
    assert response.status_code == 200
    body = response.json()
    assert (body["chain"], body["start"], body["stop"]) == (changed_chain.slug, 0, 40)
    assert [c["index"] for c in body["changes"]] == [10, 30]
    assert all(c["kind"] == SET_KIND for c in body["changes"])
    entry = changed_chain.entries.get(index=10)
    assert body["changes"][0] == transaction_dict(entry)
    assert body["next"] is None

    assert [c["index"] for c in page(client, changed_chain, start=11).json()["changes"]] == [30]
    assert [c["index"] for c in page(client, changed_chain, stop=30).json()["changes"]] == [10]
    assert page(client, changed_chain, start=11, stop=30).json()["changes"] == []
    assert page(client, changed_chain, start=30, stop=30).json()["changes"] == []


def test_a_range_is_paged_by_index(client, changed_chain):
    first = page(client, changed_chain, limit=1).json()
    assert [c["index"] for c in first["changes"]] == [10]
    assert first["next"] == 11
    second = page(client, changed_chain, limit=1, start=first["next"]).json()
    assert [c["index"] for c in second["changes"]] == [30]
    assert second["next"] is None


def test_a_rotation_is_a_change_too(client, db, signer):
    chain = ChainFactory()
    append_many(chain, signer, 3)
    chain_seal(chain=chain)
    rotation = validator_key_rotate(
        chain=chain, validator=platform_validator(), successor=new_signer()
    )
    body = page(client, chain).json()
    assert [(c["index"], c["kind"]) for c in body["changes"]] == [
        (rotation.entry.index, ROTATE_KIND)
    ]


def test_a_page_costs_the_same_whatever_the_entries_of_the_range(client, changed_chain, signer):
    with CaptureQueriesContext(connection) as small:
        page(client, changed_chain)
    append_many(changed_chain, signer, 300, start=40)
    chain_seal(chain=changed_chain)
    with CaptureQueriesContext(connection) as large:
        body = page(client, changed_chain).json()
    assert body["stop"] == 340 and [c["index"] for c in body["changes"]] == [10, 30]
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.parametrize(
    "params",
    [
        {"start": "-1"},
        {"start": "x"},
        {"stop": "²"},
        {"start": 5, "stop": 4},
        {"limit": 0},
        {"limit": VALIDATOR_CHANGES_PAGE + 1},
    ],
)
def test_bad_ranges_are_400_with_a_json_error(client, changed_chain, params):
    response = page(client, changed_chain, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "proof_unavailable"


def test_an_unknown_chain_is_404(client, db):
    response = client.get(f"{API}/nowhere/validator-changes")
    assert response.status_code == 404
    assert "error" in response.json()

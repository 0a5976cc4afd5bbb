"""The municipality's page of its validators: staff only, the set in force with who holds
each DID, the latest blocks' signatures, in a number of queries that does not grow."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from governance.rules import default_rules
from ledger.models import ValidatorChange
from ledger.services import chain_seal, ledger_append
from ledger.signing import KeySigner, platform_validator
from ledger.validators import validator_set_schedule

from .conftest import logged_in, url

pytestmark = pytest.mark.django_db


def test_staff_see_their_validators_in_constant_queries(client, city, staff, resident):
    members = [platform_validator().did, city.identity.did, staff.identity.did]
    validator_set_schedule(chain=city.chain, members=members, quorum=2, actor=city.identity)
    chain_seal(chain=city.chain)
    logged_in(client, staff.user)
    page_url = url("admin_validators", city)
    client.get(page_url)  # warm the session and the caches

    with CaptureQueriesContext(connection) as few:
        page = client.get(page_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="validator"') == 3
    assert staff.identity.did in html and 'data-final="true"' in html
    for n in range(3):
        ledger_append(
            chain=city.chain, actor=city.identity, kind="test.thing.record", payload={"n": n}
        )
        chain_seal(chain=city.chain)
    with CaptureQueriesContext(connection) as more:
        assert client.get(page_url).status_code == 200
    assert len(more) == len(few)


def test_residents_may_not_see_the_validators_page(client, city, resident):
    logged_in(client, resident.user)
    assert client.get(url("admin_validators", city)).status_code == 403
    assert "validators" not in default_rules()  # a city starts with the genesis set


def test_staff_see_a_rotation_a_self_custody_validator_made_through_the_api(client, city, staff):
    own = KeySigner(Ed25519PrivateKey.generate())  # a validator that keeps its own key
    successor = KeySigner(Ed25519PrivateKey.generate())
    members = [platform_validator().did, city.identity.did, own.did]
    validator_set_schedule(chain=city.chain, members=members, quorum=2, actor=city.identity)
    chain_seal(chain=city.chain)
    api = Client()
    prepared = api.post(
        f"/api/v1/ledger/chains/{city.chain.slug}/validators/rotate/prepare",
        {"validator": own.did, "successor": successor.did},
        content_type="application/json",
    ).json()
    rotated = api.post(
        f"/api/v1/ledger/chains/{city.chain.slug}/validators/rotate",
        {
            "validator": own.did,
            "successor": successor.did,
            "effective_height": prepared["effective_height"],
            "created_at": prepared["created_at"],
            "signature": own.sign(base64.b64decode(prepared["signing_input"])).hex(),
            "successor_signature": successor.sign(
                base64.b64decode(prepared["successor_signing_input"])
            ).hex(),
        },
        content_type="application/json",
    )
    assert rotated.status_code == 201, rotated.content

    logged_in(client, staff.user)
    html = client.get(url("admin_validators", city)).content.decode()
    changes = html.split('data-testid="validator-changes"')[1].split("</ul>")[0]
    assert own.did[:31] in changes and successor.did[:31] in changes
    assert f"block {prepared['effective_height']}" in changes.replace("bloc ", "block ")
    # The new key's proof of possession is kept and shown with the rotation.
    rotations = html.split('data-testid="key-rotations"')[1].split("</ul>")[0]
    assert rotated.json()["tx_hash"] and successor.did[:31] in rotations
    change = ValidatorChange.objects.get(chain=city.chain, kind="ledger.validators.rotate")
    assert change.successor_signature and change.successor_signature in rotations

"""The municipality's page of its validators: staff only, the set in force with who holds
each DID, the latest blocks' signatures, in a number of queries that does not grow."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.rules import default_rules
from ledger.services import chain_seal, ledger_append
from ledger.signing import platform_validator
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

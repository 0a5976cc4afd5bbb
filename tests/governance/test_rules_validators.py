"""The city chain's validator set is a rule: validated (distinct did:key DIDs, a quorum above
half), and an accepted amendment that changes it records the new set on the city's chain,
signed by the city's DID, in force from the block after the one that seals it."""

from __future__ import annotations

import copy

import pytest

from governance.errors import InvalidRules
from governance.rules import default_rules, validate_rules
from ledger.models import ValidatorChange
from ledger.selectors import validator_set_at
from ledger.services import chain_seal
from ledger.signing import platform_validator
from tests.ledger.conftest import new_signer

from .helpers import adopt_rules, city_transactions

pytestmark = pytest.mark.django_db

SLUGS = {"residents", "providers", "municipality"}


def with_validators(members, quorum) -> dict:
    rules = default_rules()
    rules["validators"] = {"members": members, "quorum": quorum}
    return rules


def test_a_three_of_four_set_is_valid():
    dids = [new_signer().did for _ in range(4)]
    clean = validate_rules(with_validators(dids, 3), college_slugs=SLUGS)
    assert clean["validators"] == {"members": dids, "quorum": 3}


@pytest.mark.parametrize(
    ("members", "quorum", "reason"),
    [
        ([], 1, "at least one"),
        (["did:web:example.org"], 1, "did:key"),
        ("twice", 1, "twice"),
        ("four", 2, "more than half"),
        ("four", 5, "from 1 to 4"),
        ("four", "3", "from 1 to 4"),
    ],
)
def test_a_bad_validator_set_is_refused(members, quorum, reason):
    one = new_signer().did
    if members == "twice":
        members = [one, one]
    elif members == "four":
        members = [new_signer().did for _ in range(4)]
    with pytest.raises(InvalidRules, match=reason):
        validate_rules(with_validators(members, quorum), college_slugs=SLUGS)


def test_an_accepted_amendment_schedules_the_set_on_the_city_chain(city, mayor):
    chain_seal(chain=city.chain)
    city.chain.refresh_from_db()
    next_block = city.chain.block_count
    members = [platform_validator().did, city.identity.did, mayor.identity.did]
    rules = with_validators(members, 2)
    adopt_rules(city, mayor, rules)
    change = ValidatorChange.objects.get(chain=city.chain)
    assert change.effective_height == next_block + 1
    entry = city_transactions(city, "ledger.validators.set").get()
    assert entry.actor == city.identity.did
    assert entry.payload == {"members": members, "quorum": 2, "effective_height": next_block + 1}
    assert validator_set_at(chain=city.chain, height=next_block).members == (
        platform_validator().did,
    )
    assert validator_set_at(chain=city.chain, height=next_block + 1).members == tuple(members)
    # Adopting other rules that keep the same set records no new change.
    again = copy.deepcopy(rules)
    again["approval_threshold_percent"] = 60
    adopt_rules(city, mayor, again)
    assert ValidatorChange.objects.filter(chain=city.chain).count() == 1

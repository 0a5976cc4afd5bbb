"""The operator creates a city: its chain, its municipality DID, colleges, rules, accounts."""

from __future__ import annotations

import hashlib

import pytest

from governance.errors import NotAllowed, WrongState
from governance.models import Account, City, RulesVersion
from governance.rules import default_rules
from governance.services import city_create, rules_in_force
from ledger.canonical import canonical_json
from ledger.models import NETWORK_CHAIN_SLUG, Transaction
from tests.factories import UserFactory

from .helpers import POSTAL_CODES, ledger_verifies, writes_nothing

pytestmark = pytest.mark.django_db


def network_entries(kind: str):
    return Transaction.objects.filter(chain__slug=NETWORK_CHAIN_SLUG, kind=kind)


def test_a_city_gets_its_own_chain_and_municipality_did(city, operator):
    assert city.chain.slug == "bourg"
    assert city.postal_codes == POSTAL_CODES
    assert city.identity.did.startswith("did:key:z6Mk")
    assert city.identity.user.is_active is False  # a service account: nobody logs in as it
    assert city.identity.user != operator


def test_a_city_has_the_three_default_colleges_and_the_chart_of_accounts(city):
    colleges = list(city.colleges.values_list("slug", "kind", "position"))
    assert colleges == [
        ("residents", "residents", 0),
        ("providers", "providers", 1),
        ("municipality", "municipality", 2),
    ]
    assert set(Account.objects.filter(city=city).values_list("code", "kind")) == {
        ("bank", "asset"),
        ("fees", "revenue"),
        ("impact-funds", "revenue"),
        ("grants", "revenue"),
        ("project-payouts", "expense"),
        ("operator-share", "expense"),
        ("operator-payable", "liability"),
        ("data-owners-payable", "liability"),
    }


def test_a_city_starts_with_version_1_of_the_default_rules_on_its_chain(city):
    rules = rules_in_force(city)
    assert (rules.version, rules.rules, rules.adopted_by) == (1, default_rules(), None)
    assert rules.digest == hashlib.sha256(canonical_json(default_rules())).hexdigest()
    (adopt,) = Transaction.objects.filter(chain=city.chain, kind="governance.rules.adopt")
    assert adopt.actor == city.identity.did
    assert adopt.payload == {
        "city": "bourg",
        "version": 1,
        "rules": default_rules(),
        "digest": rules.digest,
    }


def test_the_network_chain_records_the_creation_signed_by_the_operator(city, operator):
    (created,) = network_entries("governance.city.create")
    assert created.actor == operator.primary_identity.did
    assert created.payload == {"city": "bourg", "municipality": city.identity.did}
    assert network_entries("ledger.chain.create").filter(payload__chain="bourg").exists()
    assert "OK bourg" in ledger_verifies(city)


def test_only_the_operator_creates_a_city(db):
    someone = UserFactory()
    with writes_nothing(), pytest.raises(NotAllowed):
        city_create(operator=someone, slug="bourg", name="Bourg", postal_codes=POSTAL_CODES)
    assert not City.objects.exists()
    assert not RulesVersion.objects.exists()


def test_two_cities_are_independent(city, other_city):
    assert city.chain != other_city.chain
    assert city.identity != other_city.identity
    assert other_city.colleges.count() == 3
    assert rules_in_force(other_city).city == other_city


@pytest.mark.parametrize("slug", ["bourg", NETWORK_CHAIN_SLUG])
def test_a_city_never_takes_over_an_existing_chain(city, operator, slug):
    with writes_nothing(), pytest.raises(WrongState):
        city_create(operator=operator, slug=slug, name="Usurper", postal_codes=["99999"])

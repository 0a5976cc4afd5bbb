"""The operator's cooperative: one governance body on the network chain, kept out of the
cities."""

from __future__ import annotations

import pytest

from cooperative.services import cooperative_body, cooperative_setup
from governance.errors import NotAllowed
from governance.models import City
from governance.selectors import city_list
from governance.services import city_create
from ledger.models import NETWORK_CHAIN_SLUG, Transaction
from tests.factories import UserFactory


def test_setup_binds_four_colleges_and_rules_to_the_network_chain(body, operator):
    assert body.is_network_body
    assert body.chain.slug == NETWORK_CHAIN_SLUG
    assert sorted(body.colleges.values_list("kind", flat=True)) == [
        "clients",
        "data_providers",
        "investors",
        "operators",
    ]
    rules = body.rules_versions.get().rules
    assert sum(c["weight"] for c in rules["colleges"].values()) == 100
    assert rules["cooperative"]["distribution_rate_basis_points"] == 4250
    kinds = list(
        Transaction.objects.filter(chain__slug=NETWORK_CHAIN_SLUG).values_list("kind", flat=True)
    )
    assert "cooperative.body.create" in kinds
    assert "governance.rules.adopt" in kinds


def test_setup_is_idempotent(body, operator):
    assert cooperative_setup(operator=operator).pk == body.pk
    assert City.all_bodies.filter(is_network_body=True).count() == 1


def test_only_the_operator_sets_it_up(db):
    with pytest.raises(NotAllowed):
        cooperative_setup(operator=UserFactory())
    assert cooperative_body() is None


def test_the_cooperative_is_not_a_city(body, operator):
    city = city_create(operator=operator, slug="bourg", name="Bourg", postal_codes=["01000"])
    assert list(City.objects.all()) == [city]
    assert [c.slug for c in city_list()] == ["bourg"]


def test_city_pages_do_not_serve_it(client, body):
    assert client.get(f"/c/{body.slug}/").status_code == 404
    assert client.get(f"/api/v1/governance/cities/{body.slug}/").status_code == 404

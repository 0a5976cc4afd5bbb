"""The witnessing page of a city and the explorer's witnesses: public reading, staff forms,
a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Block
from tests.factories import UserFactory
from witnesses.models import WitnessRelation
from witnesses.services import witness_add, witness_observe


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_anyone_reads_the_page_staff_get_the_forms(client, city, staff, watched):
    url = reverse("witnesses:city", args=[city.slug])
    page = client.get(url).content.decode()
    assert 'data-testid="watched-logs"' in page and "witness-add-form" not in page
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="watched">') and "<h1>" not in fragment
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "witness-add-form" in page


def test_staff_add_check_and_remove_from_the_page(client, city, staff, watched):
    client.force_login(staff)
    response = client.post(
        reverse("witnesses:add", args=[city.slug]), {"chain": watched.chain.slug, "quorum": ""}
    )
    assert response.status_code == 400  # the quorum is required
    response = client.post(
        reverse("witnesses:add", args=[city.slug]), {"chain": watched.chain.slug, "quorum": "1"}
    )
    assert response.status_code == 302
    relation = WitnessRelation.objects.get()
    client.post(reverse("witnesses:check", args=[city.slug]))
    assert relation.cosignatures.count() == 1
    page = client.get(reverse("witnesses:city", args=[watched.slug])).content.decode()
    assert 'data-testid="witness-sete"' in page and 'id="witnessed-checkpoint"' in page
    client.post(reverse("witnesses:remove", args=[city.slug, relation.public_id]))
    relation.refresh_from_db()
    assert relation.removed_at is not None


def test_others_may_not_post(client, city, watched):
    client.force_login(UserFactory())
    for name, args in (("add", [city.slug]), ("check", [city.slug])):
        response = client.post(reverse(f"witnesses:{name}", args=args), {"chain": "agde"})
        assert response.status_code == 403
    assert not WitnessRelation.objects.exists()


def test_the_explorer_shows_each_checkpoints_witnesses(client, city, staff, watched):
    relation = witness_add(city=city, by=staff, chain=watched.chain)
    chain_url = reverse("ledger:chain_detail", args=[watched.chain.slug])
    with CaptureQueriesContext(connection) as before:
        page = client.get(chain_url).content.decode()
    assert 'data-testid="checkpoint-witnesses"' in page and "Sète" not in page
    witness_observe(relation=relation)
    with CaptureQueriesContext(connection) as after:
        page = client.get(chain_url).content.decode()
    assert 'data-testid="cosignature"' in page and "Sète" in page
    assert len(after) <= len(before) + 1  # the cosignatures' witnesses, in one join
    block = Block.objects.filter(chain=watched.chain).order_by("-height").first()
    page = client.get(
        reverse("ledger:block_detail", args=[watched.chain.slug, block.height])
    ).content.decode()
    assert 'data-testid="cosignature"' in page

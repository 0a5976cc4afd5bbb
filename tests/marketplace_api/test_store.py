import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import audited_version_make, provider_make, service_make, version_make
from tests.governance.helpers import open_vote
from tests.marketplace.helpers import decide, propose

from .support import Api, assert_error


def test_anyone_reads_the_app_store_of_a_city(city, version):
    response = Api().get("cities/bourg/services/")
    assert response.status_code == 200
    (entry,) = response.json()
    assert entry["service"]["public_id"] == version.service.public_id
    assert entry["service"]["provider"]["did"] == version.service.provider.identity.did
    assert entry["version"]["public_id"] == version.public_id
    assert entry["version"]["declaration"]["legal_basis"] == "contract"
    assert entry["version"]["impact_indicators"] == ["11.2.1"]
    assert entry["version"]["deployment_fee_cents"] == 10_000
    assert sorted(a["kind"] for a in entry["version"]["audits"]) == ["legal", "technical"]
    assert entry["version"]["audits"][0]["entry"]["chain"] == "network"
    assert (entry["deployed_here"], entry["proposal"]) == (False, None)


def test_the_store_says_deployed_and_the_latest_proposal(city, mayor, version):
    proposal = decide(mayor, version)
    (entry,) = Api().get("cities/bourg/services/").json()
    assert entry["deployed_here"] and entry["deployed_version"] == version.public_id
    assert entry["proposal"]["public_id"] == proposal.public_id
    assert entry["proposal"]["status"] == "executed"
    detail = Api().get(f"cities/bourg/services/{version.service.public_id}/")
    assert detail.status_code == 200 and detail.json()["deployed_here"]


def test_filters_and_search(city, version, auditor, provider):
    audited_version_make(
        service=service_make(provider=provider, name="Agenda culturel", category="culture"),
        auditor=auditor,
    )
    names = lambda params: [  # noqa: E731
        e["service"]["name"] for e in Api().get("cities/bourg/services/", params).json()
    ]
    assert names({"category": "culture"}) == ["Agenda culturel"]
    assert names({"q": "agenda"}) == ["Agenda culturel"]
    assert len(names({})) == 2
    assert_error(Api().get("cities/bourg/services/", {"category": "casino"}), 400, "invalid")


def test_unaudited_services_and_unknown_cities_are_404(city, service):
    version_make(service=service)
    other = service_make(provider=service.provider)
    assert Api().get("cities/bourg/services/").json() == []
    assert_error(Api().get(f"cities/bourg/services/{other.public_id}/"), 404)
    assert_error(Api().get("cities/nowhere/services/"), 404)


def test_the_store_query_count_does_not_grow_with_services(city, mayor, auditor):
    provider = provider_make()

    def grow(count):
        for _ in range(count):
            version = audited_version_make(service=service_make(provider=provider), auditor=auditor)
            open_vote(propose(mayor, version))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert Api().get("cities/bourg/services/").status_code == 200
        return len(captured)

    grow(3)
    few = queries()
    grow(9)
    assert queries() == few


@pytest.mark.parametrize("path", ["deployments/", "awaiting-vote", "processing-register"])
def test_city_lists_are_public_and_404_for_an_unknown_city(city, path):
    assert Api().get(f"cities/bourg/{path}").status_code == 200
    assert_error(Api().get(f"cities/nowhere/{path}"), 404)


def test_deployed_services_with_usage_revenue_and_the_article_30_register(city, mayor, version):
    from marketplace.models import Deployment
    from marketplace.services import execution_record

    decide(mayor, version)
    execution_record(deployment=Deployment.objects.get(), reference="one")
    (row,) = Api().get("cities/bourg/deployments/").json()
    assert (row["usage_count"], row["revenue_cents"], row["active"]) == (1, 10_025, True)
    (record,) = Api().get("cities/bourg/processing-register").json()
    assert record["purposes"] == version.purposes
    assert record["declaration_digest"] == version.declaration_digest

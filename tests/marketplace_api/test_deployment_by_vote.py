"""Only the city's vote deploys: there is no endpoint to deploy, and the governance API
refuses a deploy_service proposal the app store does not allow."""

import pytest

from marketplace.models import Deployment
from tests.factories import version_make
from tests.governance_api.support import Api as GovernanceApi
from tests.marketplace.helpers import propose

from .support import Api, assert_error


@pytest.mark.parametrize(
    "path",
    [
        "cities/bourg/deployments/",
        "cities/bourg/services/",
        "cities/bourg/processing-register",
    ],
)
def test_no_endpoint_deploys_directly(city, version, staff, operator, path):
    for someone in (staff, operator, version.service.provider.owner):
        response = Api(someone).post(path, {"service_version": version.public_id})
        assert_error(response, 405)
    assert not Deployment.objects.exists()


def test_the_governance_api_validates_deploy_service_parameters(city, mayor, service, version):
    client = GovernanceApi(mayor.user)
    draft = version_make(service=service)
    refused = client.post(
        "cities/bourg/proposals/",
        {
            "kind": "deploy_service",
            "title": "Déployer",
            "parameters": {"action": "deploy", "service_version": draft.public_id},
        },
    )
    assert_error(refused, 409, "not_audited")
    accepted = client.post(
        "cities/bourg/proposals/",
        {
            "kind": "deploy_service",
            "title": "Déployer",
            "parameters": {"action": "deploy", "service_version": version.public_id},
        },
    )
    assert accepted.status_code == 201, accepted.content


def test_drafts_awaiting_a_vote_are_for_the_city_staff(city, other_city, operator, mayor, version):
    from tests.governance.helpers import appoint, join

    draft = propose(mayor, version)
    other_staff = appoint(other_city, operator).user
    resident = join(city, "residents", by=mayor.user)
    assert [
        r["proposal"]["public_id"] for r in Api(mayor.user).get("cities/bourg/awaiting-vote").json()
    ] == [draft.public_id]
    for someone in (other_staff, resident.user, None):
        assert Api(someone).get("cities/bourg/awaiting-vote").json() == []

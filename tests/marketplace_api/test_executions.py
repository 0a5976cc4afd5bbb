import pytest

from marketplace.models import ContractExecution, Deployment, Fee, Provider
from tests.governance.helpers import balance
from tests.identity.support import ClientKey
from tests.marketplace.helpers import decide, go_self_custody

from .support import Api, assert_error


@pytest.fixture
def deployment(city, mayor, version):
    decide(mayor, version)
    return Deployment.objects.get()


def path(deployment, suffix=""):
    return f"deployments/{deployment.public_id}/executions{suffix}"


def test_a_custodial_provider_records_an_execution(city, deployment):
    client = Api(deployment.service.provider.owner)
    response = client.post(path(deployment), {"reference": "run-1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["fee_cents"], body["operator_cents"], body["local_projects_cents"]) == (25, 5, 12)
    assert body["entry"]["chain"] == "bourg"
    again = client.post(path(deployment), {"reference": "run-1"})
    assert again.status_code == 201 and again.json()["public_id"] == body["public_id"]
    assert Fee.objects.filter(kind="execution").count() == 1
    assert balance(city, "bank") == 10_025


def test_a_self_custody_provider_prepares_signs_and_submits(city, deployment):
    provider = deployment.service.provider
    key = ClientKey.generate()
    Provider.objects.filter(pk=provider.pk).update(identity=go_self_custody(provider.owner, key))
    client = Api(provider.owner)
    assert_error(client.post(path(deployment), {"reference": "r"}), 400, "no_custodial_key")
    prepared = client.post(path(deployment, "/prepare"), {"reference": "signed-1"})
    assert prepared.status_code == 200, prepared.content
    prepared = prepared.json()
    assert prepared["actor"] == key.did and prepared["payload"]["fee_cents"] == 25
    forged = ClientKey.generate().sign_prepared(prepared)
    submit = {"reference": "signed-1", "created_at": prepared["created_at"]}
    assert_error(client.post(path(deployment), {**submit, "signature": forged}), 400)
    assert not ContractExecution.objects.exists()
    response = client.post(path(deployment), {**submit, "signature": key.sign_prepared(prepared)})
    assert response.status_code == 201, response.content
    assert ContractExecution.objects.get().entry.actor == key.did


def test_only_the_provider_records_and_only_while_deployed(
    city, mayor, deployment, resident, operator
):
    for someone in (resident.user, operator, mayor.user):
        assert_error(Api(someone).post(path(deployment), {"reference": "x"}), 403)
        assert_error(Api(someone).post(path(deployment, "/prepare"), {"reference": "x"}), 403)
    assert_error(Api().post(path(deployment), {"reference": "x"}), 401)
    owner = Api(deployment.service.provider.owner)
    assert_error(owner.post(path(deployment), {"reference": "a b"}), 400, "invalid")
    assert_error(owner.post("deployments/nope/executions", {"reference": "x"}), 404)
    decide(mayor, deployment.version, "undeploy")
    assert_error(owner.post(path(deployment), {"reference": "x"}), 409, "not_deployed")
    assert not ContractExecution.objects.exists()

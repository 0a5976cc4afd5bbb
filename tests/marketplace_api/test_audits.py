from marketplace.models import Audit, VersionStatus
from tests.factories import provider_make, service_make, version_make

from .support import Api, assert_error

PASS = {"kind": "technical", "verdict": "pass", "findings": "Rien à signaler."}


def sent_to_audit(service):
    version = version_make(service=service)
    response = Api(service.provider.owner).post(f"versions/{version.public_id}/audit-request")
    assert response.status_code == 201, response.content
    assert sorted(t["kind"] for t in response.json()) == ["audit_legal", "audit_technical"]
    return version


def test_the_operator_audits_a_version(service, auditor):
    version = sent_to_audit(service)
    client = Api(auditor)
    assert [v["public_id"] for v in client.get("audits/queue").json()] == [version.public_id]
    first = client.post(f"versions/{version.public_id}/audits", PASS)
    assert first.status_code == 201, first.content
    assert first.json()["auditor_did"] == auditor.primary_identity.did
    assert first.json()["entry"]["chain"] == "network"
    second = client.post(f"versions/{version.public_id}/audits", {**PASS, "kind": "legal"})
    assert second.status_code == 201
    version.refresh_from_db()
    assert version.status == VersionStatus.AUDITED
    assert client.get("audits/queue").json() == []
    assert_error(client.post(f"versions/{version.public_id}/audits", PASS), 409, "already_audited")


def test_a_rejection_says_why(service, auditor):
    version = sent_to_audit(service)
    fail = {"kind": "legal", "verdict": "fail", "findings": "Durée excessive."}
    assert_error(Api(auditor).post(f"versions/{version.public_id}/audits", fail), 400)
    response = Api(auditor).post(
        f"versions/{version.public_id}/audits", {**fail, "reason": "13 mois est trop long."}
    )
    assert response.status_code == 201
    body = Api(service.provider.owner).get(f"versions/{version.public_id}/").json()
    assert (body["status"], body["status_reason"]) == ("rejected", "13 mois est trop long.")


def test_a_provider_cannot_audit_its_own_service(operator):
    provider = provider_make(owner=operator, by=operator)
    version = sent_to_audit(service_make(provider=provider))
    assert_error(
        Api(operator).post(f"versions/{version.public_id}/audits", PASS), 403, "own_service"
    )
    assert not Audit.objects.exists()


def test_only_the_operator_audits(service, resident, staff):
    version = sent_to_audit(service)
    # The provider sees its version but may not audit it; others do not even see it.
    assert_error(
        Api(service.provider.owner).post(f"versions/{version.public_id}/audits", PASS),
        403,
        "not_allowed",
    )
    for someone in (resident.user, staff):
        assert_error(Api(someone).post(f"versions/{version.public_id}/audits", PASS), 404)
        assert_error(Api(someone).get("audits/queue"), 403)
    assert_error(Api().post(f"versions/{version.public_id}/audits", PASS), 401)
    assert not Audit.objects.exists()


def test_only_the_provider_sends_a_version_to_audit(service, operator):
    version = version_make(service=service)
    assert_error(Api(operator).post(f"versions/{version.public_id}/audit-request"), 403)
    assert_error(Api().get(f"versions/{version.public_id}/"), 404)


def test_the_operator_withdraws_an_audit(version, operator, resident):
    path = f"versions/{version.public_id}/suspend"
    assert_error(Api(resident.user).post(path, {"reason": "x"}), 403)
    assert_error(Api(operator).post(path, {}), 400)
    response = Api(operator).post(path, {"reason": "Faille."})
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert_error(Api(operator).post(path, {"reason": "Faille."}), 409)

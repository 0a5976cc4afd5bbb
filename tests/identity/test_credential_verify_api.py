"""POST /api/v1/identity/credentials/verify: anyone checks a credential's proof and, for one
issued here, whether it was revoked. Bad input is a 400 in JSON, never a 500."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from identity.services import credential_issue, credential_revoke
from tests.factories import UserFactory

from .support import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/identity/credentials/verify"
VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


@pytest.fixture
def issuer(db):
    return UserFactory(email="mairie@example.org").primary_identity


@pytest.fixture
def credential(issuer, user):
    return credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={"city": "montpellier"},
    )


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def verify(client, credential_document):
    return client.post(URL, {"credential": credential_document}, content_type="application/json")


def test_a_credential_issued_here_verifies(client, credential):
    response = verify(client, credential.document)

    assert response.status_code == 200
    assert response.json() == {"verified": True, "reason": "ok", "issued_here": True}


def test_a_revoked_credential_no_longer_verifies(client, credential, issuer):
    credential_revoke(credential=credential, by=issuer)

    response = verify(client, credential.document)

    assert response.status_code == 200
    assert response.json() == {"verified": False, "reason": "revoked"}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["credentialSubject"].update(city="paris"),
        lambda d: d.update(issuer="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        lambda d: d["type"].append("MayorCredential"),
        lambda d: d["proof"].update(created="2020-01-01T00:00:00Z"),
        lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2] + "zz"),
        lambda d: d.pop("proof"),
    ],
    ids=["claim", "issuer", "type", "proof-created", "proof-value", "no-proof"],
)
def test_a_tampered_credential_does_not_verify(client, credential, tamper):
    document = copy.deepcopy(credential.document)
    tamper(document)

    response = verify(client, document)

    assert response.status_code == 200
    assert response.json()["verified"] is False
    assert response.json()["reason"] != "ok"


def test_the_w3c_test_vector_verifies(client, network_chain):
    signed = json.loads((VECTORS / "eddsa-jcs-2022" / "signedJCS.json").read_text())

    response = verify(client, signed)

    assert response.status_code == 200
    assert response.json() == {"verified": True, "reason": "ok", "issued_here": False}


def test_the_w3c_test_vector_tampered_does_not_verify(client, network_chain):
    signed = json.loads((VECTORS / "eddsa-jcs-2022" / "signedJCS.json").read_text())
    signed["credentialSubject"]["alumniOf"] = "Another University"

    response = verify(client, signed)

    assert response.json() == {"verified": False, "reason": "signature does not verify"}


def test_verifying_needs_no_account_and_no_csrf_token(credential):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)

    response = verify(browser, credential.document)

    assert response.status_code == 200
    assert response.json()["verified"] is True


def test_verifying_changes_nothing(client, credential):
    from ledger.models import Transaction

    count = Transaction.objects.count()

    verify(client, credential.document)

    assert Transaction.objects.count() == count


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"a credential"',
        "42",
        "null",
        "{}",
        '{"vc": {}}',
        '{"credential": null}',
        "{",
        "not json at all",
        '{"credential": NaN}',
        '{"credential": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"credential": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
    ],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "empty-object",
        "missing-key",
        "credential-null",
        "truncated",
        "not-json",
        "nan",
        "deep-list",
        "deep-object",
    ],
)
def test_a_garbage_body_is_a_json_400(client, network_chain, body):
    response = client.post(URL, data=body, content_type="application/json")

    assert_error(response, 400)


def test_a_body_that_is_not_utf8_is_a_json_400(client, network_chain):
    response = client.post(URL, data=b"\xff\xfe{}", content_type="application/json")

    assert_error(response, 400)


@pytest.mark.parametrize(
    "document",
    [
        "a credential",
        [1, 2, 3],
        {"proof": "x"},
        {"proof": [{"type": "DataIntegrityProof"}]},
        {"issuer": {"id": 7}, "proof": {"type": "DataIntegrityProof"}},
        {"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofValue": 1}},
        {"a": "\ud800"},
        {"amount": 1.5, "proof": {}},
        {"big": 2**80},
        {"x": nested(600)},
    ],
    ids=[
        "string",
        "list",
        "proof-string",
        "proof-set",
        "issuer-object",
        "proof-value-number",
        "lone-surrogate",
        "float",
        "huge-int",
        "nested",
    ],
)
def test_a_credential_that_is_not_one_is_answered_not_verified(client, network_chain, document):
    response = verify(client, document)

    assert response.status_code == 200
    assert response.json()["verified"] is False


def test_a_credential_with_a_float_next_to_a_valid_proof_does_not_verify(client, credential):
    document = copy.deepcopy(credential.document)
    document["credentialSubject"]["score"] = 1.5

    response = verify(client, document)

    assert response.status_code == 200
    assert response.json()["verified"] is False


def test_get_is_not_allowed_in_json(client, network_chain):
    response = client.get(URL)

    assert_error(response, 405)

"""The profile pages (/me/): my DIDs, credentials and ledger history; attesting a document;
my API token; downloading and revoking credentials."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from identity.models import Attestation, Credential
from identity.services import (
    KIND_CREDENTIAL_REVOKE,
    KIND_DOCUMENT_ATTEST,
    credential_issue,
    document_attest,
)
from ledger.models import Transaction
from ledger.services import ledger_append
from tests.factories import PASSWORD, UserFactory

from .support import world_state

pytestmark = pytest.mark.django_db

PROFILE = "/me/"


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def reauthenticated(logged_in):
    """A session that has just typed its password again (creating a token asks for it:
    tests/security/test_reauthentication.py)."""
    logged_in.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return logged_in


def attest_digest(identity, number: int) -> Attestation:
    digest = hashlib.sha256(f"document {number}".encode()).hexdigest()
    return document_attest(
        identity=identity,
        digest=digest,
        append=lambda: ledger_append(
            chain="network",
            actor=identity,
            kind=KIND_DOCUMENT_ATTEST,
            payload={"did": identity.did, "digest": digest},
        ),
    )


@pytest.fixture
def issuer(db):
    return UserFactory(email="mairie@example.org").primary_identity


@pytest.fixture
def credential(issuer, user) -> Credential:
    return credential_issue(
        issuer=issuer,
        subject_did=user.primary_identity.did,
        types=["ResidentCredential"],
        claims={"city": "montpellier"},
    )


# The profile page -------------------------------------------------------------------------


def test_the_profile_needs_a_login(client, network_chain):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={PROFILE}"


def test_the_profile_shows_my_did_and_my_ledger_history(logged_in, user):
    identity = user.primary_identity
    attestation = attest_digest(identity, 1)

    response = logged_in.get(PROFILE)

    assert response.status_code == 200
    page = response.content.decode()
    assert identity.did in page
    assert "identity.did.register" in page
    assert KIND_DOCUMENT_ATTEST in page
    assert attestation.digest in page
    entry_url = reverse("ledger:entry_detail", args=["network", attestation.entry.index])
    assert f'href="{entry_url}"' in page
    assert list(response.context["history"]) == list(
        Transaction.objects.filter(actor=identity.did).order_by("-created_at")
    )


def test_the_profile_shows_only_my_own_dids_and_history(logged_in, user, other_user):
    attest_digest(other_user.primary_identity, 1)

    page = logged_in.get(PROFILE).content.decode()

    assert other_user.primary_identity.did not in page
    assert KIND_DOCUMENT_ATTEST not in page


def test_the_profile_shows_my_self_custody_key(logged_in, self_custody_did):
    page = logged_in.get(PROFILE).content.decode()

    assert self_custody_did.did in page
    assert page.count('name="did" value="') == 1  # only the custodial key can be exported


def test_the_profile_shows_credentials_i_hold_and_issued(client, credential, issuer, user):
    client.force_login(user)
    held = client.get(PROFILE).content.decode()
    client.force_login(issuer.user)
    issued = client.get(PROFILE).content.decode()

    download = reverse("identity:credential_download", args=[credential.public_id])
    revoke = reverse("identity:credential_revoke", args=[credential.public_id])
    assert "ResidentCredential" in held and download in held and revoke not in held
    assert "ResidentCredential" in issued and revoke in issued


def profile_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PROFILE)
    assert response.status_code == 200
    return len(queries)


def test_the_profile_query_count_does_not_grow_with_my_history(logged_in, user, issuer):
    identity = user.primary_identity
    attest_digest(identity, 0)
    credential_issue(issuer=issuer, subject_did=identity.did, types=["A"], claims={})
    logged_in.get(PROFILE)  # warm the session and the site caches
    with_one = profile_queries(logged_in)

    for number in range(1, 10):
        attest_digest(identity, number)
        credential_issue(issuer=issuer, subject_did=identity.did, types=["A"], claims={})
    with_ten = profile_queries(logged_in)

    assert Transaction.objects.filter(kind=KIND_DOCUMENT_ATTEST, actor=identity.did).count() == 10
    assert with_ten == with_one


def test_the_profile_query_count_does_not_grow_with_what_i_issued(client, issuer, user):
    client.force_login(issuer.user)
    credential_issue(issuer=issuer, subject_did=user.primary_identity.did, types=["A"], claims={})
    client.get(PROFILE)
    with_one = profile_queries(client)

    for _ in range(9):
        credential_issue(
            issuer=issuer, subject_did=user.primary_identity.did, types=["A"], claims={}
        )
    with_ten = profile_queries(client)

    assert with_ten == with_one


# Attesting a document from the page ---------------------------------------------------------


def test_uploading_a_document_attests_its_sha256(logged_in, user):
    content = b"%PDF-1.7 the minutes of the council\n" * 1000
    upload = SimpleUploadedFile("minutes.pdf", content, content_type="application/pdf")

    response = logged_in.post(reverse("identity:attest"), {"document": upload})

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    attestation = Attestation.objects.get()
    assert attestation.digest == hashlib.sha256(content).hexdigest()
    assert attestation.identity == user.primary_identity
    assert attestation.entry.actor == user.primary_identity.did
    assert attestation.entry.payload == {
        "did": user.primary_identity.did,
        "digest": hashlib.sha256(content).hexdigest(),
    }
    assert "minutes" not in str(attestation.entry.payload)


def test_attesting_the_same_document_twice_keeps_one_attestation(logged_in):
    for _ in range(2):
        upload = SimpleUploadedFile("a.txt", b"same bytes")
        response = logged_in.post(reverse("identity:attest"), {"document": upload}, follow=True)

    assert response.status_code == 200
    assert Attestation.objects.count() == 1
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_attesting_without_a_document_attests_nothing(logged_in):
    before = world_state()

    response = logged_in.post(reverse("identity:attest"), {}, follow=True)

    assert response.status_code == 200
    assert world_state() == before
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_attesting_needs_a_login_and_a_post(client, logged_in, network_chain):
    from django.test import Client

    assert Client().post(reverse("identity:attest")).status_code == 302
    assert logged_in.get(reverse("identity:attest")).status_code == 405


# The API token --------------------------------------------------------------------------------


def test_a_new_api_token_is_shown_once(reauthenticated, user):
    logged_in = reauthenticated
    response = logged_in.post(reverse("identity:token_create"), follow=True)

    token = Token.objects.get(user=user)
    assert token.key in response.content.decode()
    assert token.key not in logged_in.get(PROFILE).content.decode()


def test_a_new_api_token_replaces_the_old_one(reauthenticated, user):
    from django.test import Client

    logged_in = reauthenticated
    logged_in.post(reverse("identity:token_create"))
    old = Token.objects.get(user=user).key

    logged_in.post(reverse("identity:token_create"))

    new = Token.objects.get(user=user).key
    assert new != old
    api = Client()
    assert api.get("/api/v1/identity/me", HTTP_AUTHORIZATION=f"Token {old}").status_code in (
        401,
        403,
    )
    me = api.get("/api/v1/identity/me", HTTP_AUTHORIZATION=f"Token {new}")
    assert me.status_code == 200
    assert me.json()["account"] == user.public_id


def test_an_api_token_needs_a_login_and_a_post(client, logged_in, network_chain):
    from django.test import Client

    assert Client().post(reverse("identity:token_create")).status_code == 302
    assert logged_in.get(reverse("identity:token_create")).status_code == 405
    assert not Token.objects.exists()


# Credentials ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["subject", "issuer"])
def test_the_subject_and_the_issuer_download_a_credential(client, credential, user, issuer, who):
    client.force_login(user if who == "subject" else issuer.user)

    response = client.get(reverse("identity:credential_download", args=[credential.public_id]))

    assert response.status_code == 200
    assert response.json() == credential.document
    assert "attachment" in response["Content-Disposition"]


def test_another_account_cannot_download_a_credential(client, credential):
    client.force_login(UserFactory())

    response = client.get(reverse("identity:credential_download", args=[credential.public_id]))

    assert response.status_code == 404


def test_an_unknown_credential_is_not_found(logged_in):
    response = logged_in.get(reverse("identity:credential_download", args=["nope"]))

    assert response.status_code == 404


def test_downloading_a_credential_needs_a_login(client, credential):
    response = client.get(reverse("identity:credential_download", args=[credential.public_id]))

    assert response.status_code == 302


def test_the_issuer_revokes_from_the_page(client, credential, issuer):
    client.force_login(issuer.user)

    response = client.post(reverse("identity:credential_revoke", args=[credential.public_id]))

    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.is_revoked
    assert Transaction.objects.get(kind=KIND_CREDENTIAL_REVOKE).actor == issuer.did


def test_the_subject_cannot_revoke_from_the_page(client, credential, user):
    client.force_login(user)
    before = world_state()

    response = client.post(
        reverse("identity:credential_revoke", args=[credential.public_id]), follow=True
    )

    assert response.status_code == 200
    assert world_state() == before
    credential.refresh_from_db()
    assert not credential.is_revoked
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_a_stranger_cannot_revoke_from_the_page(client, credential):
    client.force_login(UserFactory())
    before = world_state()

    response = client.post(reverse("identity:credential_revoke", args=[credential.public_id]))

    assert response.status_code == 404
    assert world_state() == before


def test_revoking_twice_from_the_page_says_so(client, credential, issuer):
    client.force_login(issuer.user)
    url = reverse("identity:credential_revoke", args=[credential.public_id])
    client.post(url, follow=True)
    before = world_state()

    response = client.post(url, follow=True)

    assert world_state() == before
    assert [m.level_tag for m in response.context["messages"]] == ["error"]

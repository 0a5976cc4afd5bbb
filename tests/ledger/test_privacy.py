"""No personal data in clear on the ledger: after real identity actions, no payload names anyone."""

from __future__ import annotations

import hashlib
import json

import pytest

from identity.actions import AttestDocument
from identity.services import (
    credential_issue,
    credential_revoke,
    identity_create_custodial,
    identity_revoke,
)
from identity.signed_actions import action_execute
from ledger.errors import PersonalDataRefused
from ledger.models import Transaction
from ledger.services import ledger_append
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = [
    {
        "username": "elodie.dupont",
        "email": "elodie.dupont@example.org",
        "first_name": "Élodie",
        "last_name": "Dupont-Martin",
    },
    {
        "username": "jbaptiste",
        "email": "jean-baptiste.nguyen@mairie-exemple.fr",
        "first_name": "Jean-Baptiste",
        "last_name": "Nguyen",
    },
    {
        "username": "amina_k",
        "email": "amina.kone@example.com",
        "first_name": "Amina",
        "last_name": "Koné",
    },
]


@pytest.fixture
def people():
    return [UserFactory(**person) for person in PEOPLE]


def test_identity_actions_put_no_personal_data_on_the_ledger(people):
    elodie, jean, amina = people
    city = elodie.primary_identity
    second = identity_create_custodial(user=jean, label=f"{jean.first_name} {jean.last_name}")

    credential = credential_issue(
        issuer=city,
        subject_did=amina.primary_identity.did,
        types=["VerifiableCredential", "ResidentCredential"],
        claims={
            "name": f"{amina.first_name} {amina.last_name}",
            "email": amina.email,
            "address": "12 rue de la Paix, 75002 Paris",
        },
    )
    credential_revoke(credential=credential, by=city, reason="moved-out")
    document = f"Attestation de domicile de {jean.first_name} {jean.last_name}".encode()
    action_execute(
        AttestDocument(),
        user=jean,
        data={"did": jean.primary_identity.did, "digest": hashlib.sha256(document).hexdigest()},
    )
    identity_revoke(identity=second, by=jean.primary_identity)

    kinds = set(Transaction.objects.values_list("kind", flat=True))
    assert {
        "identity.did.register",
        "identity.did.revoke",
        "identity.credential.issue",
        "identity.credential.revoke",
        "identity.document.attest",
    } <= kinds

    ledger = [
        json.dumps([tx.kind, tx.actor, tx.payload], ensure_ascii=False).casefold()
        for tx in Transaction.objects.all()
    ]
    assert len(ledger) >= 8
    secrets = [
        value
        for person in PEOPLE
        for value in (
            person["email"],
            person["username"],
            person["first_name"],
            person["last_name"],
            person["email"].split("@")[0],
        )
    ] + ["rue de la paix", "75002"]
    for text in ledger:
        for secret in secrets:
            assert secret.casefold() not in text, (secret, text)


def test_a_service_that_tries_to_write_a_name_is_refused(people):
    identity = people[0].primary_identity
    before = Transaction.objects.count()
    for payload in (
        {"member": f"{people[0].first_name} {people[0].last_name}"},
        {"member": people[0].email},
        {"address": "12 rue de la Paix"},
    ):
        with pytest.raises(PersonalDataRefused):
            ledger_append(
                chain="network", actor=identity, kind="identity.test.leak", payload=payload
            )
    assert Transaction.objects.count() == before

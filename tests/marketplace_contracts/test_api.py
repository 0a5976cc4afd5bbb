"""The contracts API: offers, quotes, signed acceptance, the data stream with its receipt,
consents, purges (acknowledged by a self-custody consumer: prepare, sign, submit) and
billing; every refusal is a JSON error with 400/401/403/404/409, never a 500."""

from __future__ import annotations

import base64
import hashlib

import pytest

from marketplace.data.models import Agreement, Delivery, PurgeRequest
from tests.factories import DATA_CSV
from tests.identity.support import ClientKey
from tests.marketplace.helpers import go_self_custody
from tests.marketplace_api.support import Api, assert_error

from .helpers import OPEN_POLICY, PERSONAL_POLICY, agree, answer, consent_of, policy


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def offer_via_api(staff, dataset, policy=OPEN_POLICY, **fields) -> dict:
    response = Api(staff).post(
        "offers",
        {"dataset": dataset.public_id, "policy": policy, "pricing_model": "free", **fields},
    )
    assert response.status_code == 201, response.content
    return response.json()


def accept_via_api(client, offer_id: str, **accept) -> dict:
    quote = client.post(f"offers/{offer_id}/quotes", {})
    assert quote.status_code == 201, quote.content
    response = client.post(f"quotes/{quote.json()['public_id']}/accept", accept)
    assert response.status_code == 201, response.content
    assert response.json()["public_id"] == quote.json()["agreement"]
    return response.json()


def test_the_whole_flow_through_the_api(open_dataset, staff, consumer):
    offer = offer_via_api(staff, open_dataset)
    assert offer["policy"]["@type"] == "Offer"
    client = Api(consumer)
    policy_doc = client.get(f"offers/{offer['public_id']}/policy")
    assert policy_doc.json()["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    agreement = accept_via_api(client, offer["public_id"])
    assert (
        agreement["status"] == "active" and agreement["consumer"] == consumer.primary_identity.did
    )
    odrl = client.get(f"agreements/{agreement['public_id']}/policy").json()
    assert odrl["@type"] == "Agreement" and odrl["assignee"] == consumer.primary_identity.did

    response = client.get(f"/api/v1/marketplace/agreements/{agreement['public_id']}/data")
    assert response.status_code == 200
    data = body_of(response)
    assert data == DATA_CSV
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert response["Repr-Digest"] == f"sha-256=:{digest}:"
    assert response["Cache-Control"] == "no-store"
    receipt = response["X-Delivery-Receipt"]

    deliveries = client.get(f"agreements/{agreement['public_id']}/deliveries").json()
    assert [d["public_id"] for d in deliveries] == [receipt]
    assert deliveries[0]["sha256"] == hashlib.sha256(data).hexdigest()
    ack = client.post(f"agreements/{agreement['public_id']}/deliveries/{receipt}/acknowledge")
    assert ack.status_code == 200, ack.content
    assert ack.json()["ack_entry"]["tx_hash"]


def test_no_data_without_an_agreement_of_one_s_own(open_offer, consumer, residents):
    agreement = agree(open_offer, consumer)
    url = f"agreements/{agreement.public_id}/data"
    assert_error(Api(residents[0].user).get(url), 404, "not_found")
    assert_error(Api().get(url), 401)
    assert_error(Api(consumer).get("agreements/nope/data"), 404)
    assert not Delivery.objects.exists()


def test_refusals_are_json_errors(open_dataset, staff, consumer):
    assert_error(
        Api(staff).post(
            "offers",
            {
                "dataset": open_dataset.public_id,
                "policy": policy(count=-1),
                "pricing_model": "free",
            },
        ),
        400,
        "invalid_policy",
    )
    offer = offer_via_api(staff, open_dataset, policy=policy(count=1))
    client = Api(consumer)
    agreement = accept_via_api(client, offer["public_id"])
    url = f"agreements/{agreement['public_id']}/data"
    assert client.get(url).status_code == 200
    assert_error(client.get(url), 409, "over_limit")
    assert_error(client.get(url, {"start": 3, "end": 1}), 400)
    assert client.post(f"agreements/{agreement['public_id']}/revoke").status_code == 200
    assert_error(client.get(url), 403, "agreement_revoked")


def test_personal_data_through_the_api(personal_offer, consumer, residents):
    alice, bob, _ = residents
    client = Api(consumer)
    agreement = accept_via_api(client, personal_offer.public_id, purposes=["research"])
    url = f"agreements/{agreement['public_id']}/data"
    assert_error(client.get(url), 409, "not_consented")
    requests = Api(alice.user).get("consents").json()
    assert [c["status"] for c in requests] == ["requested"]
    decided = Api(alice.user).post(
        f"consents/{requests[0]['public_id']}/decide", {"decision": "give"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "given"
    bob_request = Api(bob.user).get("consents").json()[0]["public_id"]
    assert_error(Api(alice.user).post(f"consents/{bob_request}/decide", {"decision": "give"}), 404)
    body = body_of(client.get(url))
    assert alice.identity.did.encode() in body and bob.identity.did.encode() not in body
    revoked = Api(alice.user).post(f"consents/{requests[0]['public_id']}/revoke")
    assert revoked.json()["status"] == "revoked"
    assert_error(client.get(url), 409, "not_consented")


def test_a_self_custody_consumer_signs_its_acceptance_and_purge_acknowledgement(
    personal_dataset, staff, consumer, residents
):
    alice = residents[0]
    key = ClientKey.generate()
    go_self_custody(consumer, key)
    offer = offer_via_api(staff, personal_dataset, policy=PERSONAL_POLICY)
    client = Api(consumer)
    quote = client.post(f"offers/{offer['public_id']}/quotes", {}).json()
    accept = {"purposes": ["research"]}
    assert_error(client.post(f"quotes/{quote['public_id']}/accept", accept), 400)
    prepared = client.post(f"quotes/{quote['public_id']}/accept/prepare", accept).json()
    assert prepared["actor"] == key.did
    signed = {**accept, "created_at": prepared["created_at"]}
    forged = ClientKey.generate().sign_prepared(prepared)
    assert_error(
        client.post(f"quotes/{quote['public_id']}/accept", {**signed, "signature": forged}), 400
    )
    response = client.post(
        f"quotes/{quote['public_id']}/accept", {**signed, "signature": key.sign_prepared(prepared)}
    )
    assert response.status_code == 201, response.content
    agreement = Agreement.objects.get()
    assert agreement.consumer_entry.actor == key.did

    answer(agreement, alice)
    body_of(client.get(f"agreements/{agreement.public_id}/data"))
    Api(alice.user).post(f"consents/{consent_of(agreement, alice).public_id}/revoke")
    purge = PurgeRequest.objects.get()
    listed = client.get("purges").json()
    assert listed[0]["public_id"] == purge.public_id and listed[0]["subject"] == alice.identity.did
    path = f"purges/{purge.public_id}/acknowledge"
    assert_error(client.post(path), 400, "no_custodial_key")
    prepared = client.post(f"{path}/prepare").json()
    ack = client.post(
        path, {"created_at": prepared["created_at"], "signature": key.sign_prepared(prepared)}
    )
    assert ack.status_code == 200, ack.content
    assert ack.json()["status"] == "acknowledged"
    purge.refresh_from_db()
    assert purge.ack_entry.actor == key.did
    assert_error(Api(alice.user).post(path), 404)


@pytest.fixture
def invoice_id(open_dataset, staff, consumer):
    offer = offer_via_api(staff, open_dataset, pricing_model="per_request", unit_price_cents=500)
    client = Api(consumer)
    agreement = accept_via_api(client, offer["public_id"])
    body_of(client.get(f"agreements/{agreement['public_id']}/data"))
    from marketplace.data.services.billing import invoice_issue

    return invoice_issue(agreement=Agreement.objects.get()).public_id


def test_billing_through_the_api(invoice_id, consumer, staff, city, operator):
    client = Api(consumer)
    invoice = client.get(f"invoices/{invoice_id}").json()
    assert invoice["total_cents"] == 500 and invoice["lines"][0]["quantity"] == 1
    assert_error(client.post(f"invoices/{invoice_id}/pay/prepaid"), 409, "insufficient_balance")
    assert_error(
        Api(consumer).post(
            f"cities/{city.slug}/balances",
            {"consumer_did": consumer.primary_identity.did, "amount_cents": 500},
        ),
        403,
    )
    topped = Api(staff).post(
        f"cities/{city.slug}/balances",
        {"consumer_did": consumer.primary_identity.did, "amount_cents": 800},
    )
    assert topped.status_code == 201 and topped.json()["cents"] == 800
    assert_error(
        client.post(f"invoices/{invoice_id}/pay/sepa", {"debtor_name": "A", "iban": "FR76 1"}),
        400,
        "invalid",
    )
    paid = client.post(f"invoices/{invoice_id}/pay/prepaid")
    assert paid.status_code == 201, paid.content
    assert client.get("balances").json() == [{"city": city.slug, "cents": 300}]
    shares = client.get(f"invoices/{invoice_id}").json()["shares"]
    assert sum(s["amount_cents"] for s in shares) == 500


def test_a_sepa_file_is_downloaded_by_its_payer(invoice_id, consumer, residents):
    client = Api(consumer)
    payment = client.post(
        f"invoices/{invoice_id}/pay/sepa",
        {"debtor_name": "Analyses SAS", "iban": "DE89 3704 0044 0532 0130 00"},
    )
    assert payment.status_code == 201, payment.content
    xml = client.get(f"payments/{payment.json()['public_id']}/pain001")
    assert xml["Content-Type"] == "application/xml"
    assert b"pain.001.001.09" in xml.content
    assert_error(Api(residents[0].user).get(f"payments/{payment.json()['public_id']}/pain001"), 404)


def test_a_debtor_name_xml_cannot_carry_is_a_400_not_a_500(invoice_id, consumer):
    """Found by the property tests (tests/properties): a control character in the debtor's
    name broke the XML writer, an exception the API answered with a 500."""
    response = Api(consumer).post(
        f"invoices/{invoice_id}/pay/sepa",
        {"debtor_name": "Analyses\x0bSAS", "iban": "DE89 3704 0044 0532 0130 00"},
    )
    assert_error(response, 400, "invalid")

"""A member's portfolio through the pages: balances and serial ranges, a transfer to a
member named by DID or username, a retirement and its public certificate (serials, claim,
credential digest, ledger receipt that verifies), redemption for provider-college members
only."""

from __future__ import annotations

import json

from impact.models import Holding, Redemption, Retirement, Transfer
from impact.services import redemption_rate_set
from ledger.models import Transaction
from ledger.receipt_check import receipt_check
from ledger.services import chain_seal
from tests.impact.helpers import balance, issued, portfolio, tco2e, writes_nothing

from .conftest import logged_in, url


def test_the_portfolio_shows_balances_and_serial_ranges(client, city, resident, curator_member):
    batch = issued(resident, curator_member, "1000")
    page = logged_in(client, resident).get(url("portfolio", city)).content.decode()
    assert "193\u00a0kg CO2e" in page
    assert f"{batch.serial_prefix}-1..193" in page


def test_a_member_with_no_token_sees_an_empty_portfolio(client, city, resident):
    response = logged_in(client, resident).get(url("portfolio", city))
    assert response.status_code == 200
    assert "No token yet" in response.content.decode()


def test_transfer_to_a_member_by_username_or_did(client, city, resident, neighbour, curator_member):
    issued(resident, curator_member, "1000")
    logged_in(client, resident)
    data = {"token_class": "tco2e-avoided", "quantity": "20"}
    response = client.post(url("transfer", city), {**data, "recipient": neighbour.user.username})
    assert response.status_code == 302
    response = client.post(url("transfer", city), {**data, "recipient": neighbour.identity.did})
    assert response.status_code == 302
    assert balance(portfolio(neighbour)) == 40
    assert balance(portfolio(resident)) == 153
    assert Transfer.objects.filter(sender=portfolio(resident)).count() == 2


def test_a_transfer_to_a_stranger_or_beyond_the_balance_is_refused(
    client, city, resident, curator_member, foreign_member
):
    issued(resident, curator_member, "1000")
    logged_in(client, resident)
    with writes_nothing():
        stranger = client.post(
            url("transfer", city),
            {
                "recipient": foreign_member.identity.did,
                "token_class": "tco2e-avoided",
                "quantity": "1",
            },
        )
    assert stranger.status_code == 400
    assert "No approved member of this city" in stranger.content.decode()
    with writes_nothing():
        too_much = client.post(
            url("transfer", city),
            {
                "recipient": curator_member.user.username,
                "token_class": "tco2e-avoided",
                "quantity": "194",
            },
        )
    assert too_much.status_code == 409


def test_retiring_leads_to_a_certificate_whose_receipt_verifies(
    client, city, resident, curator_member
):
    batch = issued(resident, curator_member, "1000")
    logged_in(client, resident)
    response = client.post(
        url("retire", city),
        {
            "token_class": "tco2e-avoided",
            "quantity": "50",
            "reason": "on_behalf",
            "beneficiary_name": "École Jules Ferry",
        },
    )
    retirement = Retirement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("certificate", city, retirement.public_id)
    assert balance(portfolio(resident), "retired") == 50
    entry = retirement.entry
    assert entry.payload["beneficiary"] != "École Jules Ferry"  # its digest, not the name

    client.logout()  # the certificate is public
    page = client.get(url("certificate", city, retirement.public_id)).content.decode()
    assert f"{batch.serial_prefix}-1..50" in page
    assert batch.claim.public_id in page and batch.credential.digest in page
    assert "École Jules Ferry" in page
    assert "reload this page to get its receipt" in page  # not sealed yet

    chain_seal(chain=city.chain)
    page = client.get(url("certificate", city, retirement.public_id)).content.decode()
    assert "Verify this receipt" in page and entry.tx_hash in page
    response = client.get(url("certificate", city, retirement.public_id))
    receipt = response.context["cert"].receipt
    assert receipt["tx_hash"] == entry.tx_hash
    assert receipt_check(json.loads(json.dumps(receipt)))["holds"] is True
    # The page's form posts exactly that receipt to the ledger's verification page.
    verified = client.post("/ledger/verify/", {"receipt": response.context["receipt_json"]})
    assert "The receipt holds." in verified.content.decode()


def test_a_certificate_of_another_city_is_404(client, city, other_city, resident, curator_member):
    issued(resident, curator_member)
    logged_in(client, resident).post(
        url("retire", city), {"token_class": "tco2e-avoided", "quantity": "5", "reason": "offset"}
    )
    retirement = Retirement.objects.get()
    assert client.get(url("certificate", other_city, retirement.public_id)).status_code == 404


def test_a_resident_cannot_redeem(client, city, resident, curator_member, staff):
    issued(resident, curator_member)
    redemption_rate_set(city=city, by=staff, token_class=tco2e(), cents_per_unit=3000)
    logged_in(client, resident)
    assert "Redeem for money" not in client.get(url("portfolio", city)).content.decode()
    with writes_nothing():
        response = client.post(
            url("redeem", city), {"token_class": "tco2e-avoided", "quantity": "100"}
        )
    assert response.status_code == 403
    assert not Redemption.objects.exists()


def test_a_provider_redeems_at_the_citys_rate(client, city, provider_member, curator_member, staff):
    issued(provider_member, curator_member, "1000")
    redemption_rate_set(city=city, by=staff, token_class=tco2e(), cents_per_unit=3000)
    logged_in(client, provider_member)
    assert "Redeem for money" in client.get(url("portfolio", city)).content.decode()
    response = client.post(url("redeem", city), {"token_class": "tco2e-avoided", "quantity": "100"})
    assert response.status_code == 302
    redemption = Redemption.objects.get()
    assert redemption.amount_cents == 300  # 100 kg at 30 € per tonne
    assert Holding.objects.filter(redemption=redemption, state="redeemed").exists()


def test_forward_consent_is_recorded(client, city, resident):
    logged_in(client, resident).post(url("forward_consent", city), {"accepts": "on"})
    assert portfolio(resident).accepts_forward_orders is True
    assert Transaction.objects.filter(kind="impact.portfolio.forward_consent").exists()

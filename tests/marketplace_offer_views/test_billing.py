"""The staff's data billing page (/c/<slug>/data/offers/billing/): the city's bank account,
set through a form that works without JavaScript and signed on the ledger; the page says
plainly when transfers go to the deployment's (example) account; anyone but the city's staff
gets 403, an anonymous visitor the login page, and staff without a second factor its setup."""

from __future__ import annotations

import pytest

from governance.services import city_create
from ledger.models import Transaction
from marketplace.data.models import CreditorAccount
from marketplace.data.services.creditor import KIND_CREDITOR_ACCOUNT_SET
from tests.governance.helpers import appoint

from .conftest import login_redirect, url

CITY_IBAN = "FR183000600001DEMO340000144"
FORM = {"holder_name": "Ville de Bourg", "iban": "FR18 3000 6000 01DE MO34 0000 144", "bic": ""}


def _page(client, city):
    return client.get(url("billing", city.slug))


def test_the_staff_see_that_transfers_go_to_the_example_account(client, city, staff):
    client.force_login(staff)
    response = _page(client, city)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="creditor-fallback"' in text
    assert "published example, not a real account" in text
    assert "FR7630006000011234567890189" in text


def test_the_staff_set_the_account_and_see_it(client, city, staff):
    client.force_login(staff)
    response = client.post(url("billing", city.slug), FORM)
    assert response.status_code == 302 and response["Location"] == url("billing", city.slug)
    account = CreditorAccount.objects.get(city=city)
    assert (account.holder_name, account.iban, account.bic) == (
        "Ville de Bourg",
        CITY_IBAN,
        "AGRIFRPPXXX",
    )
    assert account.entry.actor == staff.primary_identity.did
    text = _page(client, city).content.decode()
    assert "FR18 3000 6000 01DE MO34 0000 144" in text
    assert "creditor-fallback" not in text and "signed on the ledger" in text


def test_htmx_posts_are_redirected_by_header(client, city, staff):
    client.force_login(staff)
    response = client.post(url("billing", city.slug), FORM, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == url("billing", city.slug)


def test_a_bad_iban_is_shown_on_the_form_and_nothing_is_written(client, city, staff):
    client.force_login(staff)
    before = Transaction.objects.count()
    response = client.post(url("billing", city.slug), {**FORM, "iban": "FR00 1234"})
    assert response.status_code == 400
    assert "This IBAN is not valid" in response.content.decode()
    assert not CreditorAccount.objects.exists() and Transaction.objects.count() == before


def test_without_a_fallback_the_page_says_transfers_are_refused(client, city, staff, settings):
    settings.SMARTB_DATA_CREDITOR_FALLBACK = False
    client.force_login(staff)
    text = _page(client, city).content.decode()
    assert 'data-testid="creditor-none"' in text and "cannot pay" in text


def test_a_real_deployment_account_is_named_not_called_an_example(client, city, staff, settings):
    settings.SMARTB_DATA_CREDITOR_NAME = "SMART B SCIC"
    settings.SMARTB_DATA_CREDITOR_IBAN = "DE89370400440532013000"
    settings.SMARTB_DATA_CREDITOR_BIC = "COBADEFFXXX"
    client.force_login(staff)
    text = _page(client, city).content.decode()
    assert "SMART B SCIC" in text and "ending in 3000" in text
    assert "published example" not in text and "DE89370400440532013000" not in text


@pytest.mark.parametrize("who", ["consumer", "resident", "operator", "foreign_staff"])
def test_anyone_but_the_citys_staff_gets_403_and_writes_nothing(
    client, city, consumer, residents, operator, who
):
    if who == "foreign_staff":
        other = city_create(operator=operator, slug="annecy", name="Annecy", postal_codes=["74000"])
        user = appoint(other, operator).user
    else:
        user = {"consumer": consumer, "resident": residents[0].user, "operator": operator}[who]
    client.force_login(user)
    assert _page(client, city).status_code == 403
    before = Transaction.objects.count()
    assert client.post(url("billing", city.slug), FORM).status_code == 403
    assert not CreditorAccount.objects.exists() and Transaction.objects.count() == before


def test_an_anonymous_visitor_is_sent_to_log_in(client, city):
    assert login_redirect(_page(client, city))
    assert login_redirect(client.post(url("billing", city.slug), FORM))
    assert not CreditorAccount.objects.exists()


def test_staff_without_a_second_factor_are_sent_to_set_it_up(client, city, staff, settings):
    settings.SMARTB_MFA_REQUIRED = True
    client.force_login(staff)
    response = client.post(url("billing", city.slug), FORM)
    assert response.status_code == 302 and "/2fa/" in response["Location"]
    assert not CreditorAccount.objects.exists()
    assert not Transaction.objects.filter(kind=KIND_CREDITOR_ACCOUNT_SET).exists()


def test_the_municipality_portal_links_to_the_billing_page(client, city, staff):
    client.force_login(staff)
    response = client.get(f"/c/{city.slug}/admin/")
    assert url("billing", city.slug) in response.content.decode()

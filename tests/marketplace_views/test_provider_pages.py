"""The providers' pages: register one's organisation, list a service, add a version (its
GDPR declaration and fees typed in euros, stored in cents), ask for the audit and read the
verdicts with their reasons."""

from __future__ import annotations

import pytest

from marketplace.models import Provider, Service, ServiceVersion, Task
from marketplace.services import audit_record, audit_request
from tests.factories import UserFactory, valid_siret, version_make
from tests.marketplace.helpers import writes_nothing

from .conftest import HX, logged_in, url

pytestmark = pytest.mark.django_db

VERSION_FORM = {
    "label": "1.0",
    "changelog": "",
    "purposes": "Réserver une place de parking.",
    "legal_basis": "contract",
    "personal_data": "plaque d'immatriculation\n\nidentifiant de compte\n",
    "data_subjects": "automobilistes",
    "recipients": "",
    "retention": "1 an",
    "transfers_outside_eu": "",
    "impact_indicators": "11.2.1, 11.6.2",
    "deployment_fee": "1500.50",
    "execution_fee": "0.25",
}


def test_a_provider_member_registers_their_organisation(client, provider_member):
    user = provider_member.user
    logged_in(client, user)
    assert "Register my organisation" in client.get(url("provider_home")).content.decode()

    response = client.post(
        url("provider_register"),
        {"name": "Parkings du Centre", "siret": valid_siret(), "website": "https://p.example"},
    )

    assert response.status_code == 302 and response["Location"] == url("provider_home")
    provider = Provider.objects.get(name="Parkings du Centre")
    assert (provider.owner, provider.membership) == (user, provider_member)


def test_a_resident_cannot_register_an_organisation(client, resident):
    logged_in(client, resident.user)

    assert "ask the operator" in client.get(url("provider_register")).content.decode()
    with writes_nothing():
        response = client.post(
            url("provider_register"), {"name": "Moi SARL", "siret": valid_siret()}
        )
    assert response.status_code == 403


def test_a_wrong_siret_is_shown_on_its_field(client, provider_member):
    logged_in(client, provider_member.user)

    with writes_nothing():
        response = client.post(
            url("provider_register"), {"name": "Parkings", "siret": "73282932000075"}
        )

    assert response.status_code == 400
    assert "This SIRET number is not valid." in response.content.decode()


def test_list_a_service(client, provider):
    logged_in(client, provider.owner)

    response = client.post(
        url("service_create", provider.public_id),
        {
            "name": "Parking malin",
            "description": "Trouver une place libre.",
            "category": "mobility",
            "website": "",
            "logo_url": "",
        },
    )

    service = Service.objects.get(name="Parking malin")
    assert response.status_code == 302
    assert response["Location"] == url("version_create", service.public_id)
    assert service.provider == provider


def test_nobody_else_lists_a_service_for_a_provider(client, provider, operator):
    logged_in(client, UserFactory())
    assert client.get(url("service_create", provider.public_id)).status_code == 404
    logged_in(client, operator)  # sees providers, but lists nothing in their name
    with writes_nothing():
        response = client.post(
            url("service_create", provider.public_id),
            {"name": "X", "description": "Y", "category": "mobility"},
        )
    assert response.status_code == 403


def test_add_a_version_with_fees_in_euros_and_its_declaration(client, service):
    logged_in(client, service.provider.owner)

    response = client.post(url("version_create", service.public_id), VERSION_FORM)

    assert response.status_code == 302 and response["Location"] == url("provider_home")
    version = ServiceVersion.objects.get(service=service)
    assert (version.deployment_fee_cents, version.execution_fee_cents) == (150_050, 25)
    assert version.personal_data == ["plaque d'immatriculation", "identifiant de compte"]
    assert version.data_subjects == ["automobilistes"]
    assert version.recipients == []
    assert version.impact_indicators == ["11.2.1", "11.6.2"]
    assert version.status == "draft" and version.label == "1.0"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("deployment_fee", "10.505", "no more than 2 decimal places"),
        ("execution_fee", "-1", "greater than or equal to 0"),
        ("impact_indicators", "beaucoup", "SDG indicator id such as 11.6.1"),
        ("data_subjects", "", "Data subjects needs at least one entry."),
    ],
)
def test_a_bad_version_is_refused_in_place_for_htmx(client, service, field, value, message):
    logged_in(client, service.provider.owner)

    with writes_nothing():
        response = client.post(
            url("version_create", service.public_id), {**VERSION_FORM, field: value}, **HX
        )

    assert response.status_code == 400
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="version-form"')
    assert message in page


def test_request_the_audit_then_read_the_rejection_and_its_reason(client, service, auditor):
    version = version_make(service=service)
    owner = service.provider.owner
    logged_in(client, owner)

    response = client.post(url("audit_request", version.public_id))

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "in_audit"
    assert Task.objects.filter(work_id=version.pk).count() == 2
    assert "awaiting audit" in client.get(url("provider_home")).content.decode()

    audit_record(
        version=version,
        auditor=auditor,
        kind="legal",
        findings="Pas de base légale pour les trajets.",
        verdict="fail",
        reason="La durée de conservation des trajets est excessive.",
    )
    page = client.get(url("provider_home")).content.decode()
    assert "rejected" in page
    assert "La durée de conservation des trajets est excessive." in page


def test_asking_twice_for_an_audit_says_why_not(client, service):
    version = version_make(service=service)
    audit_request(version=version, by=service.provider.owner)
    logged_in(client, service.provider.owner)

    response = client.post(url("audit_request", version.public_id), follow=True)

    assert "Only a draft version is sent to audit." in response.content.decode()


def test_only_the_owner_asks_for_an_audit(client, service, resident):
    version = version_make(service=service)
    logged_in(client, resident.user)

    with writes_nothing():
        response = client.post(url("audit_request", version.public_id))

    assert response.status_code == 404  # a draft is invisible to others


def test_provider_pages_need_a_login(client, provider):
    for target in (url("provider_home"), url("provider_register")):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_fees_typed_the_french_way_are_cents_too(client, service):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    logged_in(client, service.provider.owner)

    client.post(
        url("version_create", service.public_id),
        {**VERSION_FORM, "deployment_fee": "1 500,50", "execution_fee": "0,25"},
    )

    version = ServiceVersion.objects.get(service=service)
    assert (version.deployment_fee_cents, version.execution_fee_cents) == (150_050, 25)

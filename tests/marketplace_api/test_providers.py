import pytest

from marketplace.models import Provider, Service, ServiceVersion
from tests.factories import DECLARATION, UserFactory, valid_siret

from .support import Api, assert_error

VERSION = {
    **DECLARATION,
    "label": "1.0",
    "deployment_fee_cents": 10_000,
    "execution_fee_cents": 25,
}
SERVICE = {
    "name": "Vélos partagés",
    "description": "Des vélos en libre-service.",
    "category": "mobility",
    "website": "https://velos.example.org",
}


def test_a_provider_member_registers_its_organisation(provider_member):
    response = Api(provider_member.user).post(
        "providers/", {"name": "Vélo & Co", "siret": valid_siret()}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["did"] == provider_member.identity.did
    assert body["entry"]["chain"] == "network"
    assert Provider.objects.get(public_id=body["public_id"]).membership == provider_member


def test_the_operator_registers_a_provider_for_its_owner(operator):
    owner = UserFactory()
    response = Api(operator).post(
        "providers/",
        {"name": "Énergie SCOP", "siret": valid_siret(), "owner_did": owner.primary_identity.did},
    )
    assert response.status_code == 201, response.content
    assert Provider.objects.get().owner == owner


def test_registration_refusals(operator, resident, provider):
    assert_error(
        Api(resident.user).post("providers/", {"name": "X", "siret": valid_siret()}),
        403,
        "not_allowed",
    )
    assert_error(
        Api(operator).post(
            "providers/", {"name": "X", "siret": "73282932000075", "owner_did": "did:key:z6Mk"}
        ),
        400,
    )
    assert_error(
        Api(operator).post("providers/", {"name": "X", "siret": "73282932000075"}),
        400,
        "invalid_siret",
    )
    assert_error(
        Api(operator).post("providers/", {"name": "X", "siret": provider.siret}),
        409,
        "provider_exists",
    )
    assert_error(Api().post("providers/", {"name": "X", "siret": valid_siret()}), 401)


def test_a_provider_is_seen_by_its_owner_and_the_operator_only(provider, operator, resident):
    path = f"providers/{provider.public_id}/"
    assert Api(provider.owner).get(path).json()["siret"] == provider.siret
    assert Api(operator).get(path).status_code == 200
    assert_error(Api(resident.user).get(path), 404)
    assert_error(Api().get(path), 401)


def test_the_owner_lists_a_service_and_adds_a_version(provider):
    owner = Api(provider.owner)
    response = owner.post(f"providers/{provider.public_id}/services", SERVICE)
    assert response.status_code == 201, response.content
    service = Service.objects.get(public_id=response.json()["public_id"])
    response = owner.post(f"services/{service.public_id}/versions", VERSION)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["number"], body["label"]) == ("draft", 1, "1.0")
    version = ServiceVersion.objects.get(public_id=body["public_id"])
    assert body["declaration_digest"] == version.declaration_digest
    detail = owner.get(f"providers/{provider.public_id}/").json()
    assert detail["services"][0]["versions"] == [
        {"public_id": version.public_id, "label": "1.0", "status": "draft"}
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"legal_basis": "because"},
        {"impact_indicators": []},
        {"impact_indicators": ["onze"]},
        {"deployment_fee_cents": -1},
        {"execution_fee_cents": 2.5},
        {"purposes": ""},
    ],
)
def test_a_version_is_validated(service, change):
    response = Api(service.provider.owner).post(
        f"services/{service.public_id}/versions", {**VERSION, **change}
    )
    assert_error(response, 400)
    assert not ServiceVersion.objects.exists()


def test_others_cannot_list_or_version_the_provider_services(provider, service, operator, resident):
    assert_error(Api(resident.user).post(f"providers/{provider.public_id}/services", SERVICE), 404)
    assert_error(Api(operator).post(f"providers/{provider.public_id}/services", SERVICE), 403)
    assert_error(Api(resident.user).post(f"services/{service.public_id}/versions", VERSION), 404)
    assert_error(Api(operator).post(f"services/{service.public_id}/versions", VERSION), 403)

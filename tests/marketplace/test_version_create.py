import pytest

from marketplace.errors import InvalidInput, NotAllowed
from marketplace.models import VersionStatus
from marketplace.services import declaration_of, version_create
from marketplace.services._common import sha256_json
from tests.factories import DECLARATION

from .helpers import writes_nothing


def create(service, by=None, **changes):
    fields = {
        **DECLARATION,
        "deployment_fee_cents": 50_000,
        "execution_fee_cents": 12,
        **changes,
    }
    return version_create(service=service, by=by or service.provider.owner, **fields)


def test_a_version_carries_its_declaration_digest_not_its_text(service):
    version = create(service, label="1.0.0")
    assert (version.number, version.label, version.status) == (1, "1.0.0", VersionStatus.DRAFT)
    assert version.declaration_digest == sha256_json(declaration_of(version))
    entry = version.entry
    assert (entry.chain.slug, entry.kind, entry.actor) == (
        "network",
        "marketplace.version.create",
        service.provider.identity.did,
    )
    assert entry.payload == {
        "version": version.public_id,
        "service": service.public_id,
        "number": 1,
        "declaration": version.declaration_digest,
        "legal_basis": "contract",
        "impact_indicators": ["11.2.1"],
        "deployment_fee_cents": 50_000,
        "execution_fee_cents": 12,
    }
    assert "Réserver" not in str(entry.payload)


def test_versions_are_numbered_and_any_change_changes_the_digest(service):
    first = create(service)
    second = create(service, retention="6 mois")
    assert (first.number, second.number, second.label) == (1, 2, "2")
    assert first.declaration_digest != second.declaration_digest


def test_a_service_processing_no_personal_data_declares_none(service):
    version = create(service, personal_data=[], data_subjects=[], recipients=[])
    assert version.personal_data == [] and version.data_subjects == []


def test_only_the_provider_owner_adds_versions(service, operator, resident):
    for someone in (operator, resident.user):
        with writes_nothing(), pytest.raises(NotAllowed):
            create(service, by=someone)


@pytest.mark.parametrize(
    "change",
    [
        {"purposes": " "},
        {"retention": ""},
        {"legal_basis": "because"},
        {"impact_indicators": []},
        {"impact_indicators": ["eleven"]},
        {"personal_data": ["adresse"], "data_subjects": []},
        {"personal_data": "adresse"},
        {"deployment_fee_cents": -1},
        {"execution_fee_cents": 0.5},
        {"execution_fee_cents": True},
        {"deployment_fee_cents": "100"},
    ],
)
def test_the_declaration_and_pricing_are_checked(service, change):
    with writes_nothing(), pytest.raises(InvalidInput):
        create(service, **change)

import pytest

from identity.services import identity_revoke
from marketplace.errors import InvalidInput, NotAllowed
from marketplace.services import service_create
from marketplace.services._common import sha256_json
from marketplace.services.catalogue import service_content

from .helpers import writes_nothing

LISTING = {
    "name": "Vélos partagés",
    "description": "Des vélos en libre-service.",
    "category": "mobility",
    "website": "https://velos.example.org",
    "logo_url": "https://velos.example.org/logo.png",
}


def test_the_provider_lists_a_service_signed_by_its_did(provider):
    service = service_create(provider=provider, by=provider.owner, **LISTING)
    entry = service.entry
    assert (entry.chain.slug, entry.kind) == ("network", "marketplace.service.create")
    assert entry.actor == provider.identity.did
    assert entry.payload == {
        "service": service.public_id,
        "provider": provider.public_id,
        "category": "mobility",
        "content": sha256_json(service_content(service)),
    }


def test_only_the_provider_owner_lists_its_services(provider, resident, operator):
    for someone in (resident.user, operator):
        with writes_nothing(), pytest.raises(NotAllowed):
            service_create(provider=provider, by=someone, **LISTING)


@pytest.mark.parametrize(
    "change",
    [
        {"name": " "},
        {"description": ""},
        {"category": "casino"},
        {"website": "ftp://velos"},
        {"logo_url": "data:image/png;base64,AAAA"},
        {"name": "x" * 201},
    ],
)
def test_a_listing_is_complete_and_valid(provider, change):
    with writes_nothing(), pytest.raises(InvalidInput):
        service_create(provider=provider, by=provider.owner, **{**LISTING, **change})


def test_a_provider_whose_did_was_revoked_gets_a_clear_refusal(provider):
    identity_revoke(identity=provider.identity, by=provider.identity)
    with writes_nothing(), pytest.raises(NotAllowed, match="revoked"):
        service_create(provider=provider, by=provider.owner, **LISTING)

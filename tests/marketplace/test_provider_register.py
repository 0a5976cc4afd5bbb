import pytest

from governance.errors import InvalidSiret
from ledger.models import Transaction
from marketplace.errors import AlreadyRegistered, InvalidInput, NotAllowed
from marketplace.services import provider_register
from tests.factories import UserFactory, valid_siret
from tests.governance.helpers import request

from .helpers import writes_nothing


def network_entries(kind):
    return Transaction.objects.filter(chain__slug="network", kind=kind)


def test_the_operator_registers_a_provider_on_the_network_chain(operator):
    owner = UserFactory()
    siret = valid_siret()
    provider = provider_register(
        by=operator, owner=owner, name="Énergie Locale SCOP", siret=siret, website="https://e.fr"
    )
    assert (provider.owner, provider.identity.did) == (owner, owner.primary_identity.did)
    assert provider.membership is None
    entry = network_entries("marketplace.provider.register").get()
    assert entry == provider.entry
    assert entry.actor == operator.primary_identity.did
    assert entry.payload["owner"] == owner.primary_identity.did
    assert entry.payload["provider"] == provider.public_id
    # Name and SIRET are committed to, never written in clear.
    assert "Énergie" not in str(entry.payload) and siret not in str(entry.payload)


def test_a_member_of_a_providers_college_registers_their_own_organisation(provider_member):
    owner = provider_member.user
    provider = provider_register(by=owner, owner=owner, name="Vélo & Co", siret=valid_siret())
    assert provider.membership == provider_member
    assert provider.entry.actor == owner.primary_identity.did


def test_a_resident_cannot_register_a_provider(resident):
    with writes_nothing(), pytest.raises(NotAllowed):
        provider_register(by=resident.user, owner=resident.user, name="X", siret=valid_siret())


def test_a_pending_provider_request_is_not_enough(city):
    pending = request(city, "providers")
    with writes_nothing(), pytest.raises(NotAllowed):
        provider_register(by=pending.user, owner=pending.user, name="X", siret=valid_siret())


def test_a_member_cannot_register_someone_else(provider_member):
    someone = UserFactory()
    with writes_nothing(), pytest.raises(NotAllowed):
        provider_register(by=provider_member.user, owner=someone, name="X", siret=valid_siret())


def test_the_siret_is_checked_and_unique(operator):
    owner = UserFactory()
    with writes_nothing(), pytest.raises(InvalidSiret):
        provider_register(by=operator, owner=owner, name="X", siret="73282932000075")
    siret = valid_siret()
    provider_register(by=operator, owner=owner, name="X", siret=f" {siret[:9]} {siret[9:]} ")
    other = UserFactory()
    with writes_nothing(), pytest.raises(AlreadyRegistered):
        provider_register(by=operator, owner=other, name="Y", siret=siret)


@pytest.mark.parametrize(
    ("name", "website"), [("", "https://x.fr"), ("  ", ""), ("X", "javascript:alert(1)")]
)
def test_a_name_is_required_and_a_website_is_a_web_address(operator, name, website):
    owner = UserFactory()
    with writes_nothing(), pytest.raises(InvalidInput):
        provider_register(by=operator, owner=owner, name=name, siret=valid_siret(), website=website)

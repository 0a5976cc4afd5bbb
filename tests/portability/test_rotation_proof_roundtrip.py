"""A city export carries the successor's proof of possession of a validator key rotation
(on the rotation's row of the ledger bundle), the import keeps it, and a changed byte of it
is refused before anything is written."""

from __future__ import annotations

import pytest

from governance.models import City
from governance.services import city_create
from ledger.models import ValidatorChange
from ledger.quorum import ROTATE_KIND
from ledger.services import chain_seal, ledger_append
from ledger.signing import platform_validator
from ledger.validators import validator_key_rotate
from smartb.portability import ImportRefused
from smartb.portability.services import city_export, city_import
from tests.governance.helpers import POSTAL_CODES
from tests.ledger.helpers import flip_hex

from .helpers import export_dir, rewrite_json, row_counts, wipe_database


@pytest.fixture
def rotated_city(operator) -> tuple[City, str]:
    """A city whose chain's platform validator rotated, custodially, to the city's own DID;
    the rotation sealed and in force. Returns the city and the kept signature."""
    city = city_create(
        operator=operator, slug="bourg", name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )
    change = validator_key_rotate(
        chain=city.chain, validator=platform_validator(), successor=city.identity.did
    )
    for n in range(2):  # seals the rotation, then a block the city's key signs
        chain_seal(chain=city.chain)
        ledger_append(
            chain=city.chain, actor=city.identity, kind="test.thing.record", payload={"n": n}
        )
    chain_seal(chain=city.chain)
    change.refresh_from_db()
    assert change.successor_signature
    return city, change.successor_signature


def test_the_proof_leaves_with_the_city_and_comes_back(rotated_city, tmp_path):
    city, kept = rotated_city
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    wipe_database()
    city_import(directory=directory)
    rotation = ValidatorChange.objects.get(chain__slug=city.chain.slug, kind=ROTATE_KIND)
    assert rotation.successor_signature == kept


def test_a_changed_byte_of_the_proof_is_refused(rotated_city, tmp_path):
    city, _ = rotated_city
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    wipe_database()

    def change_the_proof(data):
        [row] = [tx for tx in data["transactions"] if tx["kind"] == ROTATE_KIND]
        row["successor_signature"] = flip_hex(row["successor_signature"], 10)

    rewrite_json(directory, f"ledger/{city.chain.slug}.json", change_the_proof, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match="successor's signature"):
        city_import(directory=directory)
    assert row_counts() == counts

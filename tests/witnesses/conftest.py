"""Fixtures of the witnesses tests: two cities, each with its municipality staff, their
chains sealed; helpers to grow a chain and to forge checkpoints the log really signed."""

from __future__ import annotations

import pytest

from governance.services import city_create
from ledger.checkpoint import checkpoint_text, note_body, signature_line
from ledger.services import chain_seal, ledger_append
from ledger.signing import checkpoint_origin, platform_validator
from smartb.celery import app as celery_app
from tests.factories import UserFactory
from tests.governance.helpers import appoint


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def city(operator):
    """The witnessing city, with its staff; its chain sealed."""
    city = city_create(operator=operator, slug="sete", name="Sète", postal_codes=["34200"])
    appoint(city, operator)
    chain_seal(chain=city.chain)
    city.chain.refresh_from_db()
    return city


@pytest.fixture
def staff(city):
    return city.memberships.get(college__kind="municipality").user


@pytest.fixture
def watched(operator):
    """The watched city, with its staff; its chain sealed."""
    city = city_create(operator=operator, slug="agde", name="Agde", postal_codes=["34300"])
    appoint(city, operator)
    chain_seal(chain=city.chain)
    city.chain.refresh_from_db()
    return city


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def grow(city, count: int = 2):
    """Append `count` transactions signed by the city's DID to its chain, then seal."""
    for position in range(count):
        ledger_append(
            chain=city.chain,
            actor=city.identity,
            kind="tests.witness.grow",
            payload={"n": position, "size": city.chain.size},
        )
    block = chain_seal(chain=city.chain)
    city.chain.refresh_from_db()
    return block


def signed_checkpoint(slug: str, size: int, root: bytes) -> str:
    """A checkpoint of any size and root, validly signed by the platform validator (the key
    the log really uses): what a misbehaving log would show."""
    origin = checkpoint_origin(slug)
    validator = platform_validator()
    body = note_body(origin, size, root)
    line = signature_line(origin, validator.public_key, validator.sign(body.encode()))
    return checkpoint_text(body, [line])


class FakeFetcher:
    """Serves a fixed checkpoint text and proof (a log showing the witness what it likes)."""

    def __init__(self, text: str, proof: list[bytes] | None = None) -> None:
        self.text, self.proof = text, proof or []
        self.asked: list[tuple[int, int]] = []

    def checkpoint(self) -> str:
        return self.text

    def consistency(self, first: int, second: int) -> list[bytes]:
        self.asked.append((first, second))
        return self.proof

    def validator_changes(self, start: int, stop: int) -> list[dict]:
        return []  # this log shows no validator change

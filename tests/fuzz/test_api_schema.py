"""Every operation of the API, fuzzed by schemathesis from the schema it publishes
(`/api/schema/`), as each persona: no answer is a 5xx, and every answer is one the schema
describes (its status, its content type, its body).

The operations are read from the schema when the tests are collected, so an API that lands
tomorrow is fuzzed without touching this file. The requests go in-process to the WSGI
application (no server); the world is the authorization matrix's (`tests/authz/world.py`),
built once for the module inside a transaction rolled back at the end, and each test (one
operation) runs in a savepoint of it, so what a fuzzed write changes is undone
before the next test.

Each test draws `MAX_EXAMPLES` cases of its operation and sends each as every persona of
`seeds.PERSONAS` (anonymous, resident, provider, municipality staff, curator, operator and a
member of another city); the cases are derandomized (the same cases on every run, so CI is
reproducible): half follow the schema (positive), half break it (negative: wrong types,
missing fields); their path parameters are either the ids of real objects (from the matrix's
rows, or a guess among the world's ids for an operation no row covers) or generated. The
valid bodies of the matrix's rows are sent too, so the success answers are checked as well.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.authz.world import world_build

from .seeds import PERSONAS, known_ids, row_seeds, tokens

MAX_EXAMPLES = 5  # cases per operation, each sent as the 7 personas: fits the CI budget
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

APPLICATION = get_wsgi_application()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APPLICATION)
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def test_the_schema_has_operations_to_fuzz():
    """The schema loaded and every one of its operations is valid OpenAPI for schemathesis
    (an invalid one would be an error here, not a silently skipped operation)."""
    assert len(OPERATIONS) > 100
    assert all(result.ok() for result in SCHEMA.get_all_operations())


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        world = world_build()
        world.tokens = tokens(world)
        world.seeds = row_seeds(world, sorted({op.path for op in OPERATIONS.values()}))
        world.guesses = known_ids(world)
        yield world
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def one_connection():
    """The WSGI handler closes the database connection after each request, as in production;
    here that would end the world's transaction, so the requests keep it (as Django's test
    client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _strategy(operation, world):
    """Positive and negative cases, with real path parameters or generated ones, and the
    matrix's valid bodies."""
    seeds = world.seeds.get((operation.method.upper(), operation.path), [])
    names = [parameter.name for parameter in operation.path_parameters]
    guessed = {name: world.guesses[name] for name in names if name in world.guesses}
    path_choices = [seed["path"] for seed in seeds]
    if not path_choices and guessed:
        path_choices = [
            {name: values[i % len(values)] for name, values in guessed.items()}
            for i in range(max(len(values) for values in guessed.values()))
        ]
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if path_choices:
            strategies.append(
                st.sampled_from(path_choices).flatmap(
                    lambda path, mode=mode: operation.as_strategy(
                        generation_mode=mode, path_parameters=path
                    )
                )
            )
    valid = [seed for seed in seeds if seed["body"] is not None]
    if valid and operation.body:
        strategies.append(
            st.sampled_from(valid).flatmap(
                lambda seed: operation.as_strategy(
                    path_parameters=seed["path"],
                    body=seed["body"],
                    media_type="application/json",
                )
            )
        )
    return st.one_of(strategies)


def fuzz_operation(operation, world, *, max_examples: int = MAX_EXAMPLES) -> None:
    """Draw the operation's cases and send each as every persona in turn (generating a case
    costs more than sending it), so every persona meets the operation with the same inputs;
    the first failing check raises, naming the persona."""
    headers = {
        persona: {"Authorization": f"Token {world.tokens[persona]}"}
        if persona in world.tokens
        else {}
        for persona in PERSONAS
    }

    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, world))
    def fuzz(case):
        for persona in PERSONAS:
            try:
                case.call_and_validate(headers=headers[persona], checks=CHECKS)
            except BaseException as failure:
                failure.add_note(f"as the persona {persona!r}")
                raise

    fuzz()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_error_and_every_answer_as_the_schema_says(world, db, label):
    fuzz_operation(OPERATIONS[label], world)


def test_the_fuzzer_fails_on_a_server_error(world, db, monkeypatch):
    """The check above can fail: the cities list made to crash is a 500 the fuzzer reports."""
    from governance import selectors

    def crash():
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "city_list", crash)
    with pytest.raises(BaseExceptionGroup, match="Server error"):
        fuzz_operation(OPERATIONS["GET /api/v1/governance/cities/"], world, max_examples=1)


def test_the_fuzzer_fails_on_an_answer_the_schema_does_not_describe(world, db, monkeypatch):
    """... and on an answer outside the schema: the cities list made to answer a bare list of
    numbers breaks its response schema."""
    from governance import api

    monkeypatch.setattr(api.CityOutput, "to_representation", lambda self, city: 42)
    with pytest.raises(BaseExceptionGroup, match="Response violates schema"):
        fuzz_operation(OPERATIONS["GET /api/v1/governance/cities/"], world, max_examples=1)

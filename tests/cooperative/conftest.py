"""Fixtures of the cooperative tests: the operator's cooperative, built through its services,
and members of its colleges with shares."""

from __future__ import annotations

import pytest

from cooperative.services import cooperative_setup
from tests.factories import UserFactory

from .helpers import admitted


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def body(operator):
    return cooperative_setup(operator=operator)


@pytest.fixture
def board_member(body, operator):
    """The operator, admitted to the operators college with 10 shares."""
    return admitted(body, operator, "operators", shares=10, by=operator)


@pytest.fixture
def investor(body, operator):
    return admitted(body, UserFactory(), "investors", shares=30, horizon=10, by=operator)


@pytest.fixture
def client_member(body, operator):
    return admitted(body, UserFactory(), "clients", shares=2, by=operator)

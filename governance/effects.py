"""Proposal kinds whose parameters and effect belong to another app.

Dependencies point one way (governance ← marketplace, impact), so governance cannot import
the app store to deploy a service. An app registers, from its `AppConfig.ready`, how to
validate a kind's parameters when a proposal is drafted and how to carry out its effect when
the proposal is executed. Both run inside the proposal's database transaction: the effect
writes its own state and ledger transactions, and returns the JSON summary that goes into
the `governance.proposal.execute` transaction. To make the proposal fail with a reason (and
leave nothing half done), the effect raises `EffectFailed` or another `GovernanceError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .errors import GovernanceError

if TYPE_CHECKING:
    from .models import City, Proposal


class EffectFailed(GovernanceError):
    code = "effect_failed"
    status = 409
    default_message = _("The decision could not be carried out.")


@dataclass(frozen=True)
class KindHandler:
    # validate(city=..., parameters=..., author=...) -> clean parameters, or raises InvalidInput
    validate: Callable[..., dict]
    # execute(proposal=...) -> effect summary (ids, digests, integers: ledger-safe JSON)
    execute: Callable[..., dict]


_HANDLERS: dict[str, KindHandler] = {}


def register_kind(kind: str, *, validate: Callable[..., dict], execute: Callable[..., dict]):
    """Let another app own the parameters and the effect of proposals of `kind`."""
    _HANDLERS[kind] = KindHandler(validate=validate, execute=execute)


def registered_kinds() -> set[str]:
    """The kinds other apps registered: rules may name them among `proposers`."""
    return set(_HANDLERS)


def handler_for(kind: str) -> KindHandler | None:
    return _HANDLERS.get(kind)


def validate_registered(*, city: City, kind: str, parameters: dict, author=None) -> dict | None:
    handler = handler_for(kind)
    if handler is None:
        return None
    return handler.validate(city=city, parameters=parameters, author=author)


def execute_registered(proposal: Proposal) -> dict | None:
    handler = handler_for(proposal.kind)
    if handler is None:
        return None
    return handler.execute(proposal=proposal)

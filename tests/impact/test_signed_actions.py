"""Transfers and retirements signed by a self-custody holder: the signed payload names the
exact serials; if the portfolio changed before the signature came back, nothing happens
and the client prepares again."""

from __future__ import annotations

import pytest

from identity.signed_actions import action_execute, action_prepare
from impact.actions import RetireTokens, TransferTokens
from impact.errors import PlanChanged
from impact.models import Portfolio
from impact.services import token_transfer
from ledger.errors import BadSignature
from tests.identity.support import ClientKey
from tests.marketplace.helpers import go_self_custody

from .helpers import balance, issued, portfolio, tco2e, writes_nothing


@pytest.fixture
def holder(resident, curator_member):
    """The resident holds 193 units and signs with a key only the client holds."""
    issued(resident, curator_member, "1000")
    key = ClientKey.generate()
    identity = go_self_custody(resident.user, key)
    Portfolio.objects.filter(pk=portfolio(resident).pk).update(identity=identity)
    return resident, key


def test_a_self_custody_transfer_names_its_serials(holder, neighbour):
    resident, key = holder
    data = {
        "sender": portfolio(resident),
        "recipient": portfolio(neighbour),
        "token_class": tco2e(),
        "quantity": 20,
    }
    prepared = action_prepare(TransferTokens(), user=resident.user, data=data)
    assert prepared.payload["serials"][0][1:] == [1, 20]
    transfer = action_execute(
        TransferTokens(),
        user=resident.user,
        data=data,
        created_at=prepared.created_at,
        signature=key.sign(prepared.signing_bytes).hex(),
    )
    assert transfer.entry.actor == key.did
    assert balance(portfolio(neighbour)) == 20


def test_a_signature_over_serials_that_moved_since_is_refused(holder, neighbour, provider_member):
    resident, key = holder
    data = {
        "sender": portfolio(resident),
        "recipient": portfolio(neighbour),
        "token_class": tco2e(),
        "quantity": 20,
    }
    prepared = action_prepare(TransferTokens(), user=resident.user, data=data)
    signature = key.sign(prepared.signing_bytes).hex()
    # Meanwhile another signed transfer moved serials 1..5 (here the platform would refuse
    # to sign for a self-custody DID, so the move is made as the city would for a fill).
    from impact.services.tokens import lock_portfolio, transfer_execute

    sender = lock_portfolio(portfolio(resident))
    transfer_execute(
        sender=sender,
        recipient=portfolio(provider_member),
        token_class=tco2e(),
        quantity=5,
        actor=resident.city.identity,
        purpose="forward",
    )
    signed = {**data, "serials": prepared.payload["serials"]}
    with writes_nothing(), pytest.raises(PlanChanged):
        action_execute(
            TransferTokens(),
            user=resident.user,
            data=signed,
            created_at=prepared.created_at,
            signature=signature,
        )
    # Without the serials it signed, the server's bytes differ from the signed ones.
    with writes_nothing(), pytest.raises(BadSignature):
        action_execute(
            TransferTokens(),
            user=resident.user,
            data=data,
            created_at=prepared.created_at,
            signature=signature,
        )


def test_a_self_custody_retirement(holder):
    resident, key = holder
    data = {
        "portfolio": portfolio(resident),
        "token_class": tco2e(),
        "quantity": 10,
        "reason_code": "offset",
        "beneficiary_name": "Léa Martin",
    }
    prepared = action_prepare(RetireTokens(), user=resident.user, data=data)
    retirement = action_execute(
        RetireTokens(),
        user=resident.user,
        data=data,
        created_at=prepared.created_at,
        signature=key.sign(prepared.signing_bytes).hex(),
    )
    assert retirement.entry.actor == key.did and retirement.beneficiary_name == "Léa Martin"
    assert balance(portfolio(resident), "retired") == 10


def test_the_platform_does_not_sign_for_a_self_custody_holder(holder, neighbour):
    from identity.errors import NoCustodialKey

    resident, _key = holder
    with writes_nothing(), pytest.raises(NoCustodialKey):
        token_transfer(
            sender=portfolio(resident),
            recipient=portfolio(neighbour),
            by=resident.user,
            token_class=tco2e(),
            quantity=1,
        )

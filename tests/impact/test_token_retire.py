"""Retirement: irreversible, for a beneficiary (a DID, or a name kept off the ledger) and a
reason code; the certificate lists the serials and the ledger entry with its proof."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from impact.errors import InsufficientTokens, InvalidInput, NotAllowed
from impact.selectors import retirement_certificate, retirement_get
from impact.services import token_retire
from ledger.receipt_check import receipt_check

from .helpers import balance, issued, portfolio, tco2e, writes_nothing


@pytest.fixture
def batch(resident, curator_member):
    return issued(resident, curator_member, "1000")


def retire(member, quantity, **kwargs):
    kwargs.setdefault("reason_code", "on_behalf")
    return token_retire(
        portfolio=portfolio(member),
        by=member.user,
        token_class=tco2e(),
        quantity=quantity,
        **kwargs,
    )


def test_a_retirement_for_a_named_beneficiary_keeps_the_name_off_the_ledger(batch, resident):
    retirement = retire(resident, 40, beneficiary_name="Association Vélo Cité")

    assert retirement.serials == [[batch.public_id, 1, 40]]
    assert balance(portfolio(resident)) == 153 and balance(portfolio(resident), "retired") == 40
    payload = retirement.entry.payload
    assert payload["beneficiary"] == hashlib.sha256("Association Vélo Cité".encode()).hexdigest()
    assert "Vélo" not in str(payload)
    assert payload["reason"] == "on_behalf" and payload["quantity"] == 40
    assert retirement.entry.actor == resident.identity.did


def test_a_retirement_for_a_did(batch, resident, neighbour):
    retirement = retire(resident, 1, beneficiary_did=neighbour.identity.did)
    assert retirement.entry.payload["beneficiary"] == neighbour.identity.did


def test_retired_tokens_never_come_back(batch, resident):
    retire(resident, 193)
    with writes_nothing(), pytest.raises(InsufficientTokens):
        retire(resident, 1)


def test_bad_reasons_and_beneficiaries_are_refused(batch, resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        retire(resident, 1, reason_code="because")
    with writes_nothing(), pytest.raises(InvalidInput):
        retire(resident, 1, beneficiary_did="did:web:example.org")


def test_only_the_holder_retires(batch, resident, neighbour):
    with writes_nothing(), pytest.raises(NotAllowed):
        token_retire(
            portfolio=portfolio(resident),
            by=neighbour.user,
            token_class=tco2e(),
            quantity=1,
            reason_code="offset",
        )


def test_the_certificate_lists_the_serials_and_proves_the_entry(batch, resident, city):
    retirement = retire(resident, 40, beneficiary_name="Léa")
    certificate = retirement_certificate(retirement=retirement_get(public_id=retirement.public_id))
    assert [r.label for r in certificate.ranges] == ["BOURG-TCO2E-AVOIDED-2026-00001-1..40"]
    assert certificate.entry == retirement.entry
    assert certificate.receipt is None  # not sealed yet
    assert certificate.credentials == [batch.credential.digest]

    call_command("ledger_seal", "--chain", city.chain.slug, verbosity=0)
    certificate = retirement_certificate(retirement=retirement_get(public_id=retirement.public_id))
    assert certificate.receipt["tx_hash"] == retirement.entry.tx_hash
    check = receipt_check(certificate.receipt)
    assert check["holds"] is True and check["recorded_here"] is True

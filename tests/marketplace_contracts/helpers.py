"""Helpers of the contract tests: policies, offers, agreements, consents and deliveries built
through the services, and reading what a delivery streamed."""

from __future__ import annotations

import copy

from marketplace.data.services.access import delivery_open
from marketplace.data.services.consents import consent_decide
from marketplace.data.services.contracts import agreement_accept, offer_create, quote_create

OPEN_POLICY = {
    "permission": [
        {
            "action": "read",
            "constraint": [
                {"leftOperand": "count", "operator": "lteq", "rightOperand": 100},
            ],
        },
        {"action": "aggregate"},
        {"action": "derive"},
    ],
    "prohibition": [{"action": "sell"}],
}

PERSONAL_POLICY = {
    "permission": [
        {
            "action": "read",
            "constraint": [
                {
                    "leftOperand": "purpose",
                    "operator": "isAnyOf",
                    "rightOperand": ["water-leak-detection", "research"],
                },
                {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P90D"},
            ],
            "duty": [
                {
                    "action": "delete",
                    "constraint": [
                        {"leftOperand": "delayPeriod", "operator": "eq", "rightOperand": "P30D"}
                    ],
                }
            ],
        },
        {"action": "aggregate"},
    ],
    "prohibition": [{"action": "distribute"}, {"action": "smartb:trainModel"}],
}


def policy(**changes) -> dict:
    """OPEN_POLICY with its first permission's constraints replaced by `changes`."""
    document = copy.deepcopy(OPEN_POLICY)
    document["permission"][0]["constraint"] = [
        {"leftOperand": left, "operator": "lteq", "rightOperand": right}
        for left, right in changes.items()
    ]
    return document


def personal_csv(residents, rows_each: int = 2) -> bytes:
    """A CSV of water readings, `rows_each` rows per resident, the DID in `subject`."""
    lines = ["subject,date,litres"]
    for number, member in enumerate(residents):
        for day in range(rows_each):
            lines.append(f"{member.identity.did},2026-03-0{day + 1},{100 * (number + 1) + day}")
    return ("\n".join(lines) + "\n").encode()


def offer_make(*, dataset, by, policy=OPEN_POLICY, pricing_model="free", **fields):
    return offer_create(
        dataset=dataset, by=by, policy=policy, pricing_model=pricing_model, **fields
    )


def agree(offer, consumer, *, purposes=None, **quote_fields):
    """Quote and accept `offer` for `consumer` (the offer's first purpose if it names some)."""
    if purposes is None:
        allowed = offer.purposes
        purposes = allowed[:1]
    quote = quote_create(offer=offer, consumer=consumer, **quote_fields)
    return agreement_accept(quote=quote, consumer=consumer, purposes=purposes)


def consent_of(agreement, membership):
    return agreement.consents.get(subject=membership.identity)


def answer(agreement, membership, give: bool = True):
    return consent_decide(
        consent=consent_of(agreement, membership), user=membership.user, give=give
    )


def download(agreement, user, **options) -> tuple[bytes, object]:
    """Everything one data request streams, and its delivery stream."""
    stream = delivery_open(agreement=agreement, user=user, **options)
    return b"".join(stream), stream

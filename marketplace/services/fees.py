"""Fees paid by providers into a city's treasury, split by the city's rules, and the
recorded executions of deployed services' contracts that charge them."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import Proposal
from governance.rules import revenue_split
from governance.services import rules_in_force, treasury_move
from identity.models import User
from ledger.models import Transaction
from ledger.services import actor_register, ledger_append
from ledger.signing import platform_validator

from ..errors import InvalidInput, NotAllowed, NotDeployed
from ..models import ContractExecution, Deployment, Fee, FeeKind
from ..permissions import owns_provider
from ..revenue import split_amount
from ._common import TOKEN, provider_signer

# Treasury accounts credited with each share (governance.services.DEFAULT_ACCOUNTS): what is
# owed to the operator and to data owners is a liability until paid; the local projects'
# share is the city's revenue.
SHARE_ACCOUNTS = {
    "operator": "operator-payable",
    "data_owners": "data-owners-payable",
    "local_projects": "fees",
}


def fee_charge(
    *,
    deployment: Deployment,
    kind: str,
    amount_cents: int,
    label: str,
    proposal: Proposal | None = None,
) -> Fee:
    """Book a fee the provider pays into the city's treasury (money coming in: debit the
    bank, credit each share's account) and its split by the revenue split of the rules in
    force (`revenue.split_amount`: largest remainder, no cent lost or created). Runs inside
    the caller's transaction; a zero amount is refused (the caller books nothing)."""
    city = deployment.city
    percents = revenue_split(rules_in_force(city).rules)
    shares = split_amount(amount_cents, percents)
    postings = [("bank", amount_cents)] + [
        (SHARE_ACCOUNTS[share], -cents) for share, cents in shares.items() if cents
    ]
    movement = treasury_move(city=city, label=label, postings=postings, proposal=proposal)
    return Fee.objects.create(
        city=city,
        deployment=deployment,
        kind=kind,
        amount_cents=amount_cents,
        operator_cents=shares["operator"],
        data_owners_cents=shares["data_owners"],
        local_projects_cents=shares["local_projects"],
        movement=movement,
        proposal=proposal,
    )


def execution_payload(*, deployment: Deployment, reference: str) -> dict:
    """What an execution's transaction commits to; the provider signs it as it is."""
    return {
        "deployment": deployment.public_id,
        "service_version": deployment.version.public_id,
        "reference": reference,
        "fee_cents": deployment.version.execution_fee_cents,
    }


KIND_EXECUTION = "marketplace.execution.record"


@transaction.atomic
def execution_record(
    *,
    deployment: Deployment,
    reference: str,
    by: User | None = None,
    append: Callable[[], Transaction] | None = None,
) -> ContractExecution:
    """Record one execution of a deployed service's contract on the city's chain and charge
    its per-execution fee into the city's treasury, split by the city's rules.

    `by` is the provider's owner: the provider's DID signs, through the platform for a
    custodial DID or by the client itself (`append` writes the transaction it signed, see
    `identity.signed_actions`; it must be the provider's DID with exactly
    `execution_payload(...)`). `by=None` is the platform recording a platform-run action,
    signed by the platform's validator key.

    `reference` is the caller's id of the execution: recording the same reference again
    returns the first record and charges nothing (executions of one deployment queue on its
    row, so two concurrent recordings never charge twice).
    """
    deployment = (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("city__chain", "version", "service__provider__identity")
        .get(pk=deployment.pk)
    )
    if by is not None and not owns_provider(by, deployment.service.provider):
        raise NotAllowed(_("Only the service's provider records its executions."))
    if not deployment.active:
        raise NotDeployed()
    if not isinstance(reference, str) or not TOKEN.match(reference):
        raise InvalidInput(_("The reference is an id of 1 to 64 letters, digits and . _ : -"))
    existing = ContractExecution.objects.filter(deployment=deployment, reference=reference)
    if existing.exists():
        return existing.select_related("fee", "entry__chain").get()
    payload = execution_payload(deployment=deployment, reference=reference)
    chain = deployment.city.chain
    if append is not None:
        entry = append()
        if (
            entry.actor != deployment.service.provider.identity.did
            or entry.kind != KIND_EXECUTION
            or entry.payload != payload
            or entry.chain_id != chain.pk
        ):
            raise NotAllowed(_("The signed transaction is not this execution by this provider."))
    else:
        if by is None:
            signer = platform_validator()
            actor_register(did=signer.did)
        else:
            signer = provider_signer(deployment.service.provider)
        entry = ledger_append(chain=chain, actor=signer, kind=KIND_EXECUTION, payload=payload)
    fee = None
    if deployment.version.execution_fee_cents:
        fee = fee_charge(
            deployment=deployment,
            kind=FeeKind.EXECUTION,
            amount_cents=deployment.version.execution_fee_cents,
            label=f"{deployment.service.name} ({reference})"[:200],
        )
    return ContractExecution.objects.create(
        deployment=deployment,
        version=deployment.version,
        reference=reference,
        recorded_by=by,
        fee=fee,
        entry=entry,
    )

"""The signed actions of impact (see `identity.signed_actions`): prepare → sign → submit.

- A service's batch of claims, signed by its provider's DID.
- A transfer and a retirement, signed by the holder's DID. Their payload names the exact
  serials that would move, computed when the action is prepared. The client submits the
  serials it signed (`serials`, from the prepare answer's payload); if the portfolio changed
  meanwhile, the service refuses (`PlanChanged`, 409) and the client prepares again: what
  was signed is exactly what happened.

A custodial DID lets the platform sign (no prepare needed). The API resolves the city, the
portfolios and the token class (with the permission checks) and hands them over in `data`.
"""

from __future__ import annotations

from identity.models import User
from identity.signed_actions import SignedAction

from . import services
from .services.claims import claim_batch_plan
from .services.tokens import (
    beneficiary_clean,
    plan_takes,
    retirement_payload,
    serial_ranges,
    transfer_payload,
)

KIND_CLAIM_BATCH = "impact.claim.batch"
KIND_TRANSFER = "impact.token.transfer"
KIND_RETIRE = "impact.token.retire"


def _serials(data: dict, portfolio) -> list:
    """The serials the client signed (submitted back), or those that would move now."""
    if data.get("serials"):
        return data["serials"]
    takes = plan_takes(
        portfolio, data["token_class"], data["quantity"], batch=data.get("batch"), lock=False
    )
    return serial_ranges(takes)


class SubmitClaimBatch(SignedAction):
    """`data`: the `city`, the deployed `service` (Deployment public id), the batch
    `reference` and its `items`."""

    kind = KIND_CLAIM_BATCH

    def _plan(self, *, user: User, data: dict):
        if "_plan" not in data:
            data["_plan"] = claim_batch_plan(
                city=data["city"],
                service_ref=data["service"],
                by=user,
                reference=data["reference"],
                items=data["items"],
            )
        return data["_plan"]

    def chain_for(self, *, user: User, data: dict) -> str:
        return data["city"].chain.slug

    def actor_did(self, *, user: User, data: dict) -> str:
        return self._plan(user=user, data=data).provider.did

    def payload(self, *, user: User, data: dict) -> dict:
        return self._plan(user=user, data=data).payload

    def perform(self, *, user: User, data: dict, append):
        return services.claim_batch_submit(
            city=data["city"],
            service_ref=data["service"],
            by=user,
            reference=data["reference"],
            items=data["items"],
            append=append,
        )


class TransferTokens(SignedAction):
    """`data`: the `sender` and `recipient` portfolios, the `token_class`, the `quantity`
    and optionally the `batch` to take from."""

    kind = KIND_TRANSFER

    def chain_for(self, *, user: User, data: dict) -> str:
        return data["sender"].city.chain.slug

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["sender"].identity.did

    def payload(self, *, user: User, data: dict) -> dict:
        return transfer_payload(
            sender=data["sender"],
            recipient=data["recipient"],
            token_class=data["token_class"],
            quantity=data["quantity"],
            serials=_serials(data, data["sender"]),
            purpose="transfer",
        )

    def perform(self, *, user: User, data: dict, append):
        return services.token_transfer(
            sender=data["sender"],
            recipient=data["recipient"],
            by=user,
            token_class=data["token_class"],
            quantity=data["quantity"],
            batch=data.get("batch"),
            append=append,
        )


class RetireTokens(SignedAction):
    """`data`: the `portfolio`, `token_class`, `quantity`, `reason_code`, and the
    beneficiary (`beneficiary_did` or `beneficiary_name`), optionally the `batch`."""

    kind = KIND_RETIRE

    def chain_for(self, *, user: User, data: dict) -> str:
        return data["portfolio"].city.chain.slug

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["portfolio"].identity.did

    def payload(self, *, user: User, data: dict) -> dict:
        _did, _name, on_ledger = beneficiary_clean(
            data.get("beneficiary_did", ""), data.get("beneficiary_name", "")
        )
        return retirement_payload(
            portfolio=data["portfolio"],
            token_class=data["token_class"],
            quantity=data["quantity"],
            serials=_serials(data, data["portfolio"]),
            reason_code=data["reason_code"],
            beneficiary=on_ledger,
        )

    def perform(self, *, user: User, data: dict, append):
        return services.token_retire(
            portfolio=data["portfolio"],
            by=user,
            token_class=data["token_class"],
            quantity=data["quantity"],
            reason_code=data["reason_code"],
            beneficiary_did=data.get("beneficiary_did", ""),
            beneficiary_name=data.get("beneficiary_name", ""),
            batch=data.get("batch"),
            append=append,
        )

"""The signed actions of the app store (see `identity.signed_actions`): a provider records
an execution of its deployed service's contract, signed by the provider's DID. A custodial
provider lets the platform sign; a self-custody one prepares, signs the canonical bytes
with its own key and submits the signature.

The API resolves the deployment (and checks the caller is its provider) before the action
runs, and hands it over in `data`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from identity.models import User
from identity.signed_actions import SignedAction

from .errors import InvalidInput, NotAllowed, NotDeployed
from .models import ContractExecution
from .permissions import owns_provider
from .services._common import TOKEN, provider_signer
from .services.fees import KIND_EXECUTION, execution_payload, execution_record


class RecordExecution(SignedAction):
    """`data`: the `deployment` and the caller's `reference` of the execution."""

    kind = KIND_EXECUTION

    def _checked(self, user: User, data: dict):
        deployment = data["deployment"]
        if not owns_provider(user, deployment.service.provider):
            raise NotAllowed(_("Only the service's provider records its executions."))
        if not deployment.active:
            raise NotDeployed()
        if not TOKEN.match(data["reference"]):
            raise InvalidInput(_("The reference is an id of 1 to 64 letters, digits and . _ : -"))
        return deployment

    def chain_for(self, *, user: User, data: dict) -> str:
        return data["deployment"].city.chain.slug

    def actor_did(self, *, user: User, data: dict) -> str:
        return data["deployment"].service.provider.identity.did

    def payload(self, *, user: User, data: dict) -> dict:
        deployment = self._checked(user, data)
        return execution_payload(deployment=deployment, reference=data["reference"])

    def custodial_signer(self, *, user: User, data: dict):
        return provider_signer(data["deployment"].service.provider)

    def perform(self, *, user: User, data: dict, append) -> ContractExecution:
        return execution_record(
            deployment=data["deployment"], reference=data["reference"], by=user, append=append
        )

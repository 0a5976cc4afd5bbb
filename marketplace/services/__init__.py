"""The only writers of the app store's state. Each service runs in one database transaction
and writes its signed ledger transaction beside the state it changes."""

from .audits import audit_record, audit_request, version_suspend
from .bounties import task_claim, task_complete, task_create, task_pay
from .catalogue import declaration_of, service_create, version_create
from .deployments import deploy_effect_execute, deploy_parameters_validate
from .fees import execution_payload, execution_record, fee_charge
from .providers import provider_register

__all__ = [
    "audit_record",
    "audit_request",
    "declaration_of",
    "deploy_effect_execute",
    "deploy_parameters_validate",
    "execution_payload",
    "execution_record",
    "fee_charge",
    "provider_register",
    "service_create",
    "task_claim",
    "task_complete",
    "task_create",
    "task_pay",
    "version_create",
    "version_suspend",
]

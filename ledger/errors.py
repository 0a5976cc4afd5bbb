"""Domain errors of the ledger. Each has a stable code the pages and the API turn into a
clear message and an HTTP status."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class LedgerError(Exception):
    code = "ledger_error"
    status = 400
    default_message = _("The ledger refused this transaction.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class UnknownChain(LedgerError):
    code = "unknown_chain"
    status = 404
    default_message = _("No such chain.")


class UnknownActor(LedgerError):
    code = "unknown_actor"
    status = 403
    default_message = _("This DID is not a registered, active actor of the ledger.")


class BadSignature(LedgerError):
    code = "bad_signature"
    status = 400
    default_message = _("The signature does not verify for this actor and these bytes.")


class UnsafePayload(LedgerError):
    code = "unsafe_payload"
    status = 400
    default_message = _("The payload is not JSON the ledger can sign.")


class PersonalDataRefused(LedgerError):
    code = "personal_data_refused"
    status = 400
    default_message = _("The ledger holds DIDs, ids and digests only, never personal data.")


class ReplayedTransaction(LedgerError):
    code = "replayed_transaction"
    status = 409
    default_message = _("This signed transaction was already recorded.")


class StaleTransaction(LedgerError):
    code = "stale_transaction"
    status = 400
    default_message = _("The transaction's timestamp is too old or in the future; prepare again.")


class BadKind(LedgerError):
    code = "bad_kind"
    status = 400
    default_message = _("A transaction kind is a dotted lowercase name, e.g. app.thing.verb.")


class ProofUnavailable(LedgerError):
    code = "proof_unavailable"
    status = 400
    default_message = _("No proof exists for these sizes or this index.")


class InvalidValidatorChange(LedgerError):
    code = "invalid_validator_set"
    status = 400
    default_message = _("This validator set or change cannot be recorded.")


class NotAValidator(LedgerError):
    code = "not_a_validator"
    status = 403
    default_message = _("This DID is not a validator of the chain at this block height.")


class EquivocationDetected(LedgerError):
    code = "equivocation"
    status = 409
    default_message = _(
        "This validator signed another header for the same height: the evidence is kept."
    )


class InvalidEvidence(LedgerError):
    code = "invalid_evidence"
    status = 400
    default_message = _("This is not evidence of equivocation.")


class RotationPending(LedgerError):
    code = "rotation_pending"
    status = 409
    default_message = _(
        "A rotation of this validator's key, or to this successor, is already scheduled."
    )

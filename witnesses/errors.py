"""Domain errors of the witnesses app, each with a stable code and an HTTP status."""

from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError


class WitnessError(LedgerError):
    code = "witness_error"
    status = 400
    default_message = _("This witness action was refused.")


class NotAllowed(WitnessError):
    code = "not_allowed"
    status = 403
    default_message = _("Only the city's municipality staff manage its witnessing.")


class InvalidWitness(WitnessError):
    code = "invalid"
    status = 400
    default_message = _("Some information is missing or not valid.")


class AlreadyWitnessing(WitnessError):
    code = "already_witnessing"
    status = 409
    default_message = _("This city already witnesses that log.")


class NotWitnessed(WitnessError):
    code = "not_witnessed"
    status = 404
    default_message = _("No witness has cosigned a checkpoint of this chain yet.")


class FetchFailed(WitnessError):
    """The log could not be read (network, HTTP status, format): not evidence of anything."""

    code = "fetch_failed"
    status = 502
    default_message = _("The log could not be fetched.")


# C2SP tlog-witness `add-checkpoint` (a log pushing its checkpoint): the spec's statuses.


class PushMalformed(WitnessError):
    code = "invalid"
    status = 400
    default_message = _("The request is not an old size, a consistency proof and a checkpoint.")


class UnknownLog(WitnessError):
    code = "not_found"
    status = 404
    default_message = _("This city does not witness a log of that origin.")


class LogNotAuthenticated(WitnessError):
    code = "not_allowed"
    status = 403
    default_message = _("The checkpoint is not signed by a quorum of the log's validators.")


class OldSizeMismatch(WitnessError):
    """The old size is not the size the witness last cosigned (`size`), or the same size
    came with another root."""

    code = "conflict"
    status = 409
    default_message = _("The old size is not the size this witness last cosigned.")

    def __init__(self, size: int, message=None) -> None:
        super().__init__(message)
        self.size = size


class ProofRejected(WitnessError):
    code = "bad_proof"
    status = 422
    default_message = _("The consistency proof does not hold.")

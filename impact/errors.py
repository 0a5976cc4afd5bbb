"""Domain errors of impact, each with a stable code and an HTTP status (the API turns them
into `{"error": {"code", "message"}}`, the pages into a message)."""

from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError


class ImpactError(LedgerError):
    code = "impact_error"
    status = 400
    default_message = _("This impact action was refused.")


class InvalidInput(ImpactError):
    code = "invalid"
    status = 400
    default_message = _("Some information is missing or not valid.")


class InvalidParameters(ImpactError):
    code = "invalid_parameters"
    status = 400
    default_message = _("The measured values do not fit the methodology.")


class NotAllowed(ImpactError):
    code = "not_allowed"
    status = 403
    default_message = _("You are not allowed to do this.")


class NotFound(ImpactError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class WrongState(ImpactError):
    code = "wrong_state"
    status = 409
    default_message = _("This cannot be done in the current state.")


class NotCurator(ImpactError):
    code = "not_curator"
    status = 403
    default_message = _("Only a curator of this city verifies impact claims.")


class OwnClaim(ImpactError):
    code = "own_claim"
    status = 403
    default_message = _("A curator cannot verify a claim they made or submitted.")


class MissingEvidence(ImpactError):
    code = "missing_evidence"
    status = 409
    default_message = _(
        "This claim lacks evidence the methodology requires: it cannot be approved."
    )


class QuantityMismatch(ImpactError):
    code = "quantity_mismatch"
    status = 409
    default_message = _("The recomputed quantity does not match the methodology's result.")


class InsufficientTokens(ImpactError):
    code = "insufficient_tokens"
    status = 409
    default_message = _("The portfolio does not hold enough available tokens of this class.")


class PlanChanged(ImpactError):
    code = "plan_changed"
    status = 409
    default_message = _(
        "The tokens this signature names are no longer the ones that would move: prepare "
        "the action again and sign the new bytes."
    )


class AlreadyIssued(ImpactError):
    code = "already_issued"
    status = 409
    default_message = _("Tokens were already issued for this claim.")

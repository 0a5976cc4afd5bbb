"""Domain errors of governance, each with a stable code and an HTTP status."""

from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError


class GovernanceError(LedgerError):
    code = "governance_error"
    status = 400
    default_message = _("This governance action was refused.")


class InvalidInput(GovernanceError):
    code = "invalid"
    status = 400
    default_message = _("Some information is missing or not valid.")


class InvalidRules(GovernanceError):
    code = "invalid_rules"
    default_message = _("These governance rules are not valid.")


class AlreadyMember(GovernanceError):
    code = "already_member"
    status = 409
    default_message = _("You already have a membership (or a pending request) in this city.")


class ResidencyNotProven(GovernanceError):
    code = "residency_not_proven"
    default_message = _("The postal code is not one of this city's.")


class InvalidSiret(GovernanceError):
    code = "invalid_siret"
    default_message = _("This SIRET number is not valid.")


class NotAllowed(GovernanceError):
    code = "not_allowed"
    status = 403
    default_message = _("You are not allowed to do this in this city.")


class WrongState(GovernanceError):
    code = "wrong_state"
    status = 409
    default_message = _("This cannot be done in the current state.")


class VoteClosed(GovernanceError):
    code = "vote_closed"
    status = 409
    default_message = _("This vote is not open.")


class NotInElectorate(GovernanceError):
    code = "not_in_electorate"
    status = 403
    default_message = _("You were not a member of a college when this vote opened.")


class VoteNotChangeable(GovernanceError):
    code = "vote_not_changeable"
    status = 409
    default_message = _("The rules of this vote do not allow changing a vote.")


class InvalidPeriod(GovernanceError):
    code = "invalid_period"
    default_message = _("The voting period is outside what the rules allow.")


class InsufficientFunds(GovernanceError):
    code = "insufficient_funds"
    status = 409
    default_message = _("The treasury cannot pay this amount.")

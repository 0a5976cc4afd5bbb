"""Domain errors of the cooperative, each with a stable code and an HTTP status."""

from django.utils.translation import gettext_lazy as _

from governance.errors import GovernanceError


class CooperativeError(GovernanceError):
    code = "cooperative_error"
    status = 400
    default_message = _("This action on the cooperative was refused.")


class NoCooperative(CooperativeError):
    code = "no_cooperative"
    status = 404
    default_message = _("The operator's cooperative has not been set up yet.")


class InsufficientShares(CooperativeError):
    code = "insufficient_shares"
    status = 409
    default_message = _("You do not hold that many shares under this horizon.")


class NotAMember(CooperativeError):
    code = "not_a_member"
    status = 403
    default_message = _("Only members of the cooperative can do this.")


class NoSuchMember(CooperativeError):
    code = "no_such_member"
    status = 404
    default_message = _("No member of the cooperative has this DID.")


class SubscriptionPending(CooperativeError):
    code = "subscription_pending"
    status = 409
    default_message = _("You already have a subscription waiting for admission.")

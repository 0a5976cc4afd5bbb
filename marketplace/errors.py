"""Domain errors of the app store, each with a stable code and an HTTP status.

They are governance errors: a deploy_service proposal refused by the app store's validation
reaches the governance pages and API as any other refusal of a proposal.
"""

from django.utils.translation import gettext_lazy as _

from governance.errors import GovernanceError, InvalidInput, NotAllowed, WrongState

__all__ = [
    "AlreadyAudited",
    "AlreadyDeployed",
    "AlreadyRegistered",
    "InvalidInput",
    "MarketplaceError",
    "NotAllowed",
    "NotAudited",
    "NotDeployed",
    "NotQualified",
    "OwnService",
    "WrongState",
]


class MarketplaceError(GovernanceError):
    code = "marketplace_error"
    status = 400
    default_message = _("This app store action was refused.")


class AlreadyRegistered(MarketplaceError):
    code = "provider_exists"
    status = 409
    default_message = _("A provider with this SIRET is already registered.")


class OwnService(MarketplaceError):
    code = "own_service"
    status = 403
    default_message = _("A provider may never audit its own service.")


class AlreadyAudited(MarketplaceError):
    code = "already_audited"
    status = 409
    default_message = _("This review of this version is already recorded.")


class NotAudited(MarketplaceError):
    code = "not_audited"
    status = 409
    default_message = _(
        "This version has not passed both audits (technical and legal): it cannot be offered "
        "to cities."
    )


class AlreadyDeployed(MarketplaceError):
    code = "already_deployed"
    status = 409
    default_message = _("This service is already deployed in this city.")


class NotDeployed(MarketplaceError):
    code = "not_deployed"
    status = 409
    default_message = _("This service is not deployed in this city.")


class NotQualified(MarketplaceError):
    code = "not_qualified"
    status = 403
    default_message = _("You are not qualified for this task.")

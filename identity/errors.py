from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError


class IdentityError(LedgerError):
    code = "identity_error"
    status = 400
    default_message = _("This identity action was refused.")


class NotYourIdentity(IdentityError):
    code = "not_your_identity"
    status = 403
    default_message = _("This DID does not belong to your account.")


class NoCustodialKey(IdentityError):
    code = "no_custodial_key"
    status = 400
    default_message = _(
        "This DID is self-custody: prepare the transaction, sign it and send the signature."
    )


class AlreadyRegistered(IdentityError):
    code = "already_registered"
    status = 409
    default_message = _("This DID is already registered.")


class AlreadyAttested(IdentityError):
    code = "already_attested"
    status = 409
    default_message = _("This identity already attested this digest.")


class CredentialRevoked(IdentityError):
    code = "already_revoked"
    status = 409
    default_message = _("This credential is already revoked.")


class WrongPassword(IdentityError):
    code = "wrong_password"
    status = 403
    default_message = _("Your account password is not correct.")

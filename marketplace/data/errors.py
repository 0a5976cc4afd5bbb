"""Domain errors of the data marketplace, each with a stable code and an HTTP status (the API
answers them as JSON bodies through `smartb.api`)."""

from django.utils.translation import gettext_lazy as _

from ..errors import InvalidInput, MarketplaceError, NotAllowed, WrongState

__all__ = [
    "AlreadyCurated",
    "ChecksumMismatch",
    "DataError",
    "InvalidInput",
    "InvalidOntology",
    "NoCreditorAccount",
    "NotAllowed",
    "NotCurator",
    "StoredDataCorrupt",
    "UploadTooLarge",
    "WrongState",
]


class DataError(MarketplaceError):
    code = "data_error"
    status = 400
    default_message = _("This data marketplace action was refused.")


class ChecksumMismatch(DataError):
    code = "wrong_checksum"
    status = 400
    default_message = _("The file's SHA-256 checksum is not the one declared: nothing was kept.")


class UploadTooLarge(DataError):
    code = "too_large"
    status = 413
    default_message = _("This file is larger than the platform accepts.")


class InvalidOntology(DataError):
    code = "invalid_ontology"
    status = 400
    default_message = _("This ontology file could not be read.")


class NotCurator(DataError):
    code = "not_curator"
    status = 403
    default_message = _("Only a curator of this city (its curators college) decides this.")


class AlreadyCurated(DataError):
    code = "already_curated"
    status = 409
    default_message = _("You already decided on this.")


class StoredDataCorrupt(DataError):
    code = "stored_data_corrupt"
    status = 409
    default_message = _(
        "The stored file does not decrypt (altered or incomplete): nothing is served from it."
    )


class NoCreditorAccount(DataError):
    code = "no_creditor_account"
    status = 409
    default_message = _(
        "This city has not set the bank account its data invoices are paid into: pay from a "
        "prepaid balance, or ask the municipality to set its account."
    )

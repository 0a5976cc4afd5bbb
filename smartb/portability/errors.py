"""Why an export or an import was refused (a stable code and a clear message)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError


class PortabilityError(LedgerError):
    code = "portability_error"
    status = 400
    default_message = _("The city export could not be processed.")


class ExportRefused(PortabilityError):
    code = "export_refused"
    status = 409
    default_message = _("This city cannot be exported.")


class ImportRefused(PortabilityError):
    """Nothing was written: the directory is not a faithful export, or the city exists."""

    code = "import_refused"
    status = 409
    default_message = _("This export cannot be imported.")

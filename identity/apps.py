from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from ledger.signing import register_custodial_resolver

        from . import signals  # noqa: F401
        from .services import custodial_validator_signers

        # Blocks are co-signed by the custodial validators the platform holds keys for.
        register_custodial_resolver(custodial_validator_signers)

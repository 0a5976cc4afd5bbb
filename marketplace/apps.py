from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketplace"

    def ready(self) -> None:
        from governance.effects import register_kind
        from governance.models import ProposalKind

        from .services.deployments import deploy_effect_execute, deploy_parameters_validate

        register_kind(
            ProposalKind.DEPLOY_SERVICE.value,
            validate=deploy_parameters_validate,
            execute=deploy_effect_execute,
        )
        self._register_portability()

    @staticmethod
    def _register_portability() -> None:
        """A city that leaves takes its deployed services along (`city_export`)."""
        from smartb.portability import register_section

        from .portability import check_marketplace, export_marketplace, import_marketplace

        register_section(
            "marketplace",
            exporter=export_marketplace,
            importer=import_marketplace,
            checker=check_marketplace,
            after=("ledger", "identity", "governance"),
        )
        # ... and the bank account its data invoices are paid into.
        from .data.portability import check_data_billing, export_data_billing, import_data_billing

        register_section(
            "data_billing",
            exporter=export_data_billing,
            importer=import_data_billing,
            checker=check_data_billing,
            after=("ledger", "governance"),
        )

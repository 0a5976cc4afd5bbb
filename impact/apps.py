from django.apps import AppConfig


class ImpactConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "impact"

    def ready(self) -> None:
        self._register_portability()

    @staticmethod
    def _register_portability() -> None:
        """A city that leaves takes its claims, tokens and certificates along
        (`city_export`): the app owns its section, the framework names no app."""
        from smartb.portability import register_section

        from .portability import check_impact, export_impact, import_impact

        register_section(
            "impact",
            exporter=export_impact,
            importer=import_impact,
            checker=check_impact,
            after=("ledger", "identity", "governance"),
        )

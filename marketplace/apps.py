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

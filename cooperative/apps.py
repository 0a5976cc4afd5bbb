from django.apps import AppConfig


class CooperativeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cooperative"
    verbose_name = "Cooperative"

    def ready(self) -> None:
        # The network decisions and the approval of the accounts are governance proposal
        # kinds whose parameters and effects belong here (governance.effects).
        from .decisions import register

        register()

from django.apps import AppConfig


class SmartbConfig(AppConfig):
    name = "smartb"

    def ready(self) -> None:
        # Connects the receiver that records the login time in the session (timeouts).
        from . import middleware  # noqa: F401

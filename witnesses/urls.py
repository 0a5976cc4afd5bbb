"""Pages of the witnesses app."""

from django.urls import path  # noqa: F401

app_name = "witnesses"
urlpatterns: list = []

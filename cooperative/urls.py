"""Pages of the cooperative app."""

from django.urls import path  # noqa: F401

app_name = "cooperative"
urlpatterns: list = []

"""REST API of the cooperative app, mounted at /api/v1/cooperative/ (namespace cooperative_api)."""

from .api import urlpatterns  # noqa: F401

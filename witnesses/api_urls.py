"""REST API of the witnesses app."""

urlpatterns: list = []

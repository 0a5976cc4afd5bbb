"""REST API of the cooperative app."""

urlpatterns: list = []

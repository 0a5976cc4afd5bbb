from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("keys/export/", views.key_export, name="key_export"),
    path("attest/", views.attest, name="attest"),
    path("token/", views.token_create, name="token_create"),
    path("notifications/", views.notification_settings, name="notification_settings"),
    path("credentials/<str:public_id>/", views.credential_download, name="credential_download"),
    path(
        "credentials/<str:public_id>/revoke/",
        views.credential_revoke_view,
        name="credential_revoke",
    ),
]

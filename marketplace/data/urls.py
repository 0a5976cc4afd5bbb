"""The personal-data wallet's pages, mounted at /me/data/ (see smartb/urls.py)."""

from django.urls import path

from . import views

app_name = "marketplace_data"

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("consents/<str:public_id>/answer/", views.consent_answer, name="consent_answer"),
    path("consents/<str:public_id>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("consents/<str:public_id>/receipt.json", views.consent_receipt, name="consent_receipt"),
    path("export.json", views.gdpr_download, name="gdpr_export"),
    path("erase/", views.account_erase, name="account_erase"),
]

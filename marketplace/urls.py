"""The app store's pages, mounted at the site's root (see smartb/urls.py): a city's store and
record of processing under /c/<slug>/apps/, its municipality's page under
/c/<slug>/admin/apps/, the providers' pages under /apps/provider/ and the operator's portal
under /operator/."""

from django.urls import path

from . import views

app_name = "marketplace"

city = "c/<slug:slug>/"

urlpatterns = [
    # a city's app store (public)
    path(f"{city}apps/", views.store, name="store"),
    path(f"{city}apps/s/<str:public_id>/", views.service_detail, name="service_detail"),
    path(f"{city}apps/propose/", views.propose, name="propose"),
    path(f"{city}apps/register/", views.gdpr_register, name="register"),
    path(f"{city}apps/register.csv", views.gdpr_register_csv, name="register_csv"),
    # the municipality's page of its services
    path(f"{city}admin/apps/", views.admin_apps, name="admin_apps"),
    # providers
    path("apps/provider/", views.provider_home, name="provider_home"),
    path("apps/provider/register/", views.provider_register, name="provider_register"),
    path(
        "apps/provider/<str:provider_id>/services/new/",
        views.service_create,
        name="service_create",
    ),
    path(
        "apps/provider/services/<str:service_id>/versions/new/",
        views.version_create,
        name="version_create",
    ),
    path(
        "apps/provider/versions/<str:version_id>/audit/",
        views.audit_request,
        name="audit_request",
    ),
    # the operator's portal
    path("operator/", views.operator_home, name="operator_home"),
    path("operator/cities/new/", views.operator_city_create, name="operator_city_create"),
    path(
        "operator/providers/new/",
        views.operator_provider_register,
        name="operator_provider_register",
    ),
    path("operator/audits/", views.operator_audits, name="operator_audits"),
    path("operator/audits/<str:version_id>/", views.operator_audit, name="operator_audit"),
    path("operator/tasks/", views.operator_tasks, name="operator_tasks"),
    path("operator/tasks/<str:task_id>/pay/", views.operator_task_pay, name="operator_task_pay"),
]

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

api_v1 = [
    path("ledger/", include(("ledger.api_urls", "ledger_api"))),
    path("identity/", include(("identity.api", "identity_api"))),
    path("governance/", include(("governance.api", "governance_api"))),
    path("marketplace/data/", include(("marketplace.data.api", "marketplace_data_api"))),
    path("marketplace/", include(("marketplace.data.api_contracts", "data_contracts_api"))),
    path("marketplace/", include(("marketplace.api", "marketplace_api"))),
    path("impact/simulation/", include(("impact.simulation.api", "impact_simulation_api"))),
    path("impact/", include(("impact.api", "impact_api"))),
    path("witnesses/", include(("witnesses.api_urls", "witnesses_api"))),
    path("cooperative/", include(("cooperative.api_urls", "cooperative_api"))),
]

# A URL that matches no route answers JSON under /api/ (the API's error body), HTML elsewhere.
handler404 = "smartb.views.not_found"
# The database unreachable outside a view: 503, not 500 (smartb.middleware).
handler500 = "smartb.middleware.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("me/data/", include("marketplace.data.urls")),  # the personal-data wallet
    path("me/", include("identity.urls")),
    path("ledger/", include("ledger.urls")),
    path("", include("marketplace.urls")),  # /c/<slug>/apps/, /apps/provider/, /operator/
    path("c/<slug:slug>/data/offers/", include("marketplace.data.offer_urls")),  # offers, access
    path("c/<slug:slug>/data/", include("marketplace.data.catalogue_urls")),  # data catalogue
    path("c/<slug:slug>/impact/scenarios/", include("impact.simulation.urls")),
    path("c/<slug:slug>/impact/", include("impact.urls")),  # impact pages of a city
    path("witnesses/", include("witnesses.urls")),  # cities witnessing each other
    path("cooperative/", include("cooperative.urls")),  # the operator's own governance
    path("c/", include("governance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's settings as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

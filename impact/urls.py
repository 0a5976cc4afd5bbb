"""The impact pages of a city, mounted at /c/<slug>/impact/ (see smartb/urls.py)."""

from django.urls import path

from . import views

app_name = "impact"

urlpatterns = [
    path("", views.home, name="home"),
    # the catalogue (public)
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<str:public_id>/", views.methodology_detail, name="methodology"),
    # claims and their verification
    path("claims/", views.claim_list, name="claims"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/<str:public_id>/", views.claim_detail, name="claim_detail"),
    path("claims/<str:public_id>/submit/", views.claim_submit, name="claim_submit"),
    path("claims/<str:public_id>/evidence/", views.evidence_add, name="evidence_add"),
    path("claims/<str:public_id>/verify/", views.claim_verify, name="claim_verify"),
    path("evidence/<str:public_id>/", views.evidence_download, name="evidence_download"),
    path("queue/", views.queue, name="queue"),
    # credentials (public)
    path("credentials/verify/", views.credential_check, name="credential_verify"),
    path("credentials/<str:public_id>.json", views.credential_download, name="credential"),
    # portfolio and certificates
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/transfer/", views.transfer, name="transfer"),
    path("portfolio/retire/", views.retire, name="retire"),
    path("portfolio/redeem/", views.redeem, name="redeem"),
    path("portfolio/forward-orders/", views.forward_consent, name="forward_consent"),
    path("retirements/<str:public_id>/", views.certificate, name="certificate"),
    # market, merchants, projects, participation calls
    path("market/", views.market, name="market"),
    path("market/offers/new/", views.offer_create, name="offer_create"),
    path("market/offers/<str:public_id>/buy/", views.offer_buy, name="offer_buy"),
    path("market/offers/<str:public_id>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
    path("market/forward/new/", views.forward_create, name="forward_create"),
    path("market/forward/<str:public_id>/cancel/", views.forward_cancel, name="forward_cancel"),
    path("market/merchants/new/", views.merchant_create, name="merchant_create"),
    path("market/merchants/<str:public_id>/redeem/", views.merchant_redeem, name="merchant_redeem"),
    path("market/merchants/<str:public_id>/close/", views.merchant_close, name="merchant_close"),
    path("market/projects/new/", views.project_create, name="project_create"),
    path(
        "market/projects/<str:public_id>/contribute/",
        views.project_contribute,
        name="project_contribute",
    ),
    path("market/calls/<str:public_id>/register/", views.call_register, name="call_register"),
    # dashboards
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/public/", views.dashboard_public, name="dashboard_public"),
    path("dashboard/curators/", views.curator_grant, name="curator_grant"),
    path("dashboard/rates/", views.rate_set, name="rate_set"),
    path("dashboard/calls/new/", views.call_create, name="call_create"),
    path(
        "dashboard/calls/<str:public_id>/reward/<str:membership_id>/",
        views.participation_reward,
        name="participation_reward",
    ),
]

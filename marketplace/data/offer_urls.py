"""Offers and access requests of a city's data marketplace, mounted at
/c/<slug>/data/offers/ (see smartb/urls.py; the catalogue's own pages are in
catalogue_urls.py, none of them under offers/)."""

from django.urls import path

from . import billing_views
from . import offer_views as views

app_name = "data_offers"

urlpatterns = [
    # the publisher
    path("new/<str:dataset_id>/", views.offer_create, name="offer_create"),
    path("o/<str:public_id>/withdraw/", views.offer_withdraw, name="offer_withdraw"),
    # the consumer
    path("o/<str:public_id>/", views.offer_detail, name="offer_detail"),
    path("o/<str:public_id>/request/", views.offer_request, name="offer_request"),
    path("q/<str:public_id>/", views.quote_detail, name="quote_detail"),
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("a/<str:public_id>/", views.agreement_detail, name="agreement_detail"),
    path("a/<str:public_id>/download/", views.agreement_download, name="agreement_download"),
    path("purges/<str:public_id>/acknowledge/", views.purge_acknowledge, name="purge_acknowledge"),
    # the municipality staff: the city's creditor account, transfers waiting
    path("billing/", billing_views.billing, name="billing"),
]

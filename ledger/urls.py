from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.chain_list, name="chain_list"),
    path("verify/", views.receipt_verify, name="receipt_verify"),
    path("<slug:slug>/", views.chain_detail, name="chain_detail"),
    path("<slug:slug>/blocks/<int:height>/", views.block_detail, name="block_detail"),
    path("<slug:slug>/entries/<int:index>/", views.entry_detail, name="entry_detail"),
]

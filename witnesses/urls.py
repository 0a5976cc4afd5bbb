"""Pages of the witnesses app (`/witnesses/`)."""

from django.urls import path

from . import views

app_name = "witnesses"
urlpatterns = [
    path("<slug:slug>/", views.city_witnesses, name="city"),
    path("<slug:slug>/add/", views.witness_add, name="add"),
    path("<slug:slug>/check/", views.witness_check, name="check"),
    path("<slug:slug>/<str:public_id>/remove/", views.witness_remove, name="remove"),
]

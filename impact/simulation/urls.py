"""The impact simulation pages of a city, mounted at /c/<slug>/impact/scenarios/ (see
smartb/urls.py, before the impact pages)."""

from django.urls import path

from . import views

app_name = "impact_simulation"

urlpatterns = [
    path("", views.scenario_list, name="list"),
    path("new/", views.scenario_create, name="create"),
    path("compare/", views.scenario_compare, name="compare"),
    path("compare.csv", views.scenario_compare_csv, name="compare_csv"),
    path("<str:public_id>/", views.scenario_detail, name="detail"),
    path("<str:public_id>/attach/", views.scenario_attach, name="attach"),
    path("<str:public_id>/forecast/", views.scenario_forecast, name="forecast"),
]

"""The data marketplace's pages of a city, mounted at /c/<slug>/data/ (see smartb/urls.py):
the catalogue and its datasets, producers' pages, the ontology registry and the curators."""

from django.urls import path

from . import catalogue_views as views

app_name = "data_catalogue"

urlpatterns = [
    # the catalogue (public)
    path("", views.catalogue, name="catalogue"),
    path("d/<str:public_id>/", views.dataset_detail, name="dataset_detail"),
    # producers
    path("new/", views.dataset_create, name="dataset_create"),
    path("d/<str:public_id>/versions/new/", views.version_create, name="version_create"),
    path("d/<str:public_id>/links/new/", views.mapping_create, name="mapping_create"),
    path("v/<str:version_id>/files/", views.version_upload, name="version_upload"),
    path("v/<str:version_id>/access-url/", views.distribution_link, name="distribution_link"),
    # the ontology registry
    path("ontologies/", views.ontology_list, name="ontology_list"),
    path("ontologies/new/", views.ontology_submit, name="ontology_submit"),
    path("ontologies/<str:public_id>/", views.ontology_detail, name="ontology_detail"),
    # the curators
    path("curation/", views.curation_queue, name="curation_queue"),
    path("curation/college/", views.curators_open, name="curators_open"),
    path("curation/rewards/", views.curator_rewards, name="curator_rewards"),
    path("curation/ontologies/<str:public_id>/", views.ontology_curate, name="ontology_curate"),
    path("curation/links/<str:public_id>/", views.mapping_curate, name="mapping_curate"),
]

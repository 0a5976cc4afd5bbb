"""REST API of the witnesses app (`/api/v1/witnesses/`)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "cities/<slug:slug>/relations",
        api.CityRelationsApi.as_view(),
        name="city_relations",
    ),
    path(
        "cities/<slug:slug>/add-checkpoint",
        api.AddCheckpointApi.as_view(),
        name="add_checkpoint",
    ),
    path("<slug:slug>/checkpoint", api.WitnessedCheckpointApi.as_view(), name="checkpoint"),
    path("<slug:slug>/cosignatures", api.CosignatureListApi.as_view(), name="cosignatures"),
]

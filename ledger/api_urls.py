from django.urls import path

from . import api

urlpatterns = [
    path("chains/", api.ChainListApi.as_view(), name="chains"),
    path("chains/<slug:slug>/checkpoint", api.CheckpointApi.as_view(), name="checkpoint"),
    path("chains/<slug:slug>/blocks/<int:height>", api.BlockApi.as_view(), name="block"),
    path(
        "chains/<slug:slug>/blocks/<int:height>/signatures",
        api.BlockSignatureApi.as_view(),
        name="block_signatures",
    ),
    path("chains/<slug:slug>/blocks/awaiting", api.BlocksAwaitingApi.as_view(), name="awaiting"),
    path("chains/<slug:slug>/validators", api.ValidatorsApi.as_view(), name="validators"),
    path(
        "chains/<slug:slug>/validator-changes",
        api.ValidatorChangeListApi.as_view(),
        name="validator_changes",
    ),
    path(
        "chains/<slug:slug>/validators/rotate/prepare",
        api.ValidatorRotatePrepareApi.as_view(),
        name="validator_rotate_prepare",
    ),
    path(
        "chains/<slug:slug>/validators/rotate",
        api.ValidatorRotateApi.as_view(),
        name="validator_rotate",
    ),
    path(
        "chains/<slug:slug>/equivocations",
        api.EquivocationListApi.as_view(),
        name="equivocations",
    ),
    path("equivocations", api.EquivocationApi.as_view(), name="equivocation_submit"),
    path("chains/<slug:slug>/entries/<int:index>", api.EntryApi.as_view(), name="entry"),
    path(
        "chains/<slug:slug>/entries/<int:index>/proof",
        api.EntryProofApi.as_view(),
        name="entry_proof",
    ),
    path("chains/<slug:slug>/consistency", api.ConsistencyApi.as_view(), name="consistency"),
    path("receipts/verify", api.ReceiptVerifyApi.as_view(), name="receipt_verify"),
]

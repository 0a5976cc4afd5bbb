"""Pages of the operator's cooperative, mounted at /cooperative/ (see smartb/urls.py)."""

from django.urls import path

from . import views

app_name = "cooperative"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("setup/", views.setup, name="setup"),
    path("proposals/new/", views.proposal_create, name="proposal_create"),
    path("p/<str:public_id>/", views.proposal_detail, name="proposal"),
    path("p/<str:public_id>/open/", views.proposal_open, name="proposal_open"),
    path("p/<str:public_id>/vote/", views.proposal_vote, name="proposal_vote"),
    path("p/<str:public_id>/close/", views.proposal_close, name="proposal_close"),
    path("cap-table/", views.cap_table, name="cap_table"),
    path("cap-table.csv", views.cap_table_csv, name="cap_table_csv"),
    path("me/", views.my_shares, name="my_shares"),
    path("me/subscribe/", views.subscribe, name="subscribe"),
    path("me/transfer/", views.transfer, name="transfer"),
    path("me/withdraw/", views.withdraw, name="withdraw"),
    path(
        "me/subscriptions/<str:public_id>/cancel/",
        views.board_decide,
        {"decision": "cancel"},
        name="subscription_cancel",
    ),
    path("board/", views.board, name="board"),
    path(
        "board/<str:public_id>/admit/",
        views.board_decide,
        {"decision": "admit"},
        name="subscription_admit",
    ),
    path(
        "board/<str:public_id>/refuse/",
        views.board_decide,
        {"decision": "refuse"},
        name="subscription_refuse",
    ),
    path("distributions/", views.distribution_list, name="distributions"),
    path("distributions/<str:public_id>/", views.distribution_detail, name="distribution"),
    path("distributions/<str:public_id>.csv", views.distribution_csv, name="distribution_csv"),
]

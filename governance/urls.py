"""A city's governance pages, mounted at /c/ (see smartb/urls.py)."""

from django.urls import path

from . import budget_pages, validator_pages, views

app_name = "governance"

urlpatterns = [
    path("", views.city_list, name="city_list"),
    path("<slug:slug>/", views.city_home, name="city_home"),
    path("<slug:slug>/join/", views.city_join, name="join"),
    path("<slug:slug>/proposals/", views.proposal_list, name="proposal_list"),
    path("<slug:slug>/proposals/new/", views.proposal_create, name="proposal_create"),
    path("<slug:slug>/p/<str:public_id>/", views.proposal_detail, name="proposal_detail"),
    path("<slug:slug>/p/<str:public_id>/amend/", views.proposal_amend, name="proposal_amend"),
    path("<slug:slug>/p/<str:public_id>/open/", views.proposal_open, name="proposal_open"),
    path("<slug:slug>/p/<str:public_id>/vote/", views.proposal_vote, name="proposal_vote"),
    path(
        "<slug:slug>/p/<str:public_id>/budget-vote/",
        budget_pages.budget_vote,
        name="budget_vote",
    ),
    path("<slug:slug>/p/<str:public_id>/comments/", views.comment_add, name="comment_add"),
    path(
        "<slug:slug>/p/<str:public_id>/receipt.json",
        views.receipt_download,
        name="receipt_download",
    ),
    path("<slug:slug>/my-votes/", views.my_votes, name="my_votes"),
    path("<slug:slug>/treasury/", views.treasury, name="treasury"),
    path("<slug:slug>/admin/", views.admin_portal, name="admin"),
    path("<slug:slug>/admin/validators/", validator_pages.validators, name="admin_validators"),
    path(
        "<slug:slug>/admin/memberships/<str:public_id>/approve/",
        views.membership_approve,
        name="membership_approve",
    ),
    path(
        "<slug:slug>/admin/memberships/<str:public_id>/refuse/",
        views.membership_refuse,
        name="membership_refuse",
    ),
    path(
        "<slug:slug>/admin/memberships/<str:public_id>/revoke/",
        views.membership_revoke,
        name="membership_revoke",
    ),
]

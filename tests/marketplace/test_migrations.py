"""The data migration gives cities created before the app store the accounts its fees
post to; new cities get them from governance's chart of accounts."""

import importlib

from django.apps import apps

from governance.models import Account

fee_accounts = importlib.import_module("marketplace.migrations.0002_fee_accounts")


def test_new_cities_have_the_fee_accounts(city):
    codes = set(Account.objects.filter(city=city).values_list("code", "kind"))
    assert {("operator-payable", "liability"), ("data-owners-payable", "liability")} <= codes


def test_the_migration_adds_them_to_older_cities_once(city, other_city):
    Account.objects.filter(code__in=["operator-payable", "data-owners-payable"]).delete()
    fee_accounts.add_accounts(apps, None)
    fee_accounts.add_accounts(apps, None)
    for place in (city, other_city):
        assert Account.objects.filter(city=place, kind="liability").count() == 2

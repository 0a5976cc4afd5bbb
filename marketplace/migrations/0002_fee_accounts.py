"""Give every existing city the treasury accounts the revenue split posts to; new cities get
them from governance.services.DEFAULT_ACCOUNTS."""

from django.db import migrations

FEE_ACCOUNTS = [
    ("operator-payable", "liability"),
    ("data-owners-payable", "liability"),
]


def add_accounts(apps, schema_editor):
    City = apps.get_model("governance", "City")
    Account = apps.get_model("governance", "Account")
    for city in City.objects.all():
        for code, kind in FEE_ACCOUNTS:
            Account.objects.get_or_create(
                city=city, code=code, defaults={"name": code, "kind": kind}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
        ("governance", "0003_account_kind_liability"),
    ]

    operations = [migrations.RunPython(add_accounts, migrations.RunPython.noop)]

from django.db import migrations


def create_network_chain(apps, schema_editor):
    Chain = apps.get_model("ledger", "Chain")
    Chain.objects.get_or_create(slug="network", defaults={"name": "SMART B network"})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_network_chain, migrations.RunPython.noop)]

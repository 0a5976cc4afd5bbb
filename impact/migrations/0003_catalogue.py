"""Load the SDG catalogue, token classes and methodologies of impact/data/sdg.json."""

from types import SimpleNamespace

from django.db import migrations


def forwards(apps, schema_editor):
    from impact.catalogue import MODEL_NAMES, catalogue_load

    catalogue_load(SimpleNamespace(**{name: apps.get_model("impact", name) for name in MODEL_NAMES}))


class Migration(migrations.Migration):
    dependencies = [("impact", "0002_no_overlapping_serials")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

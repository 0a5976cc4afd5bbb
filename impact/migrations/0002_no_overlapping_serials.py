"""On PostgreSQL, the database itself refuses two batches (or two holdings of a batch) whose
serial ranges overlap: exclusion constraints over int8range, with btree_gist for the
equality parts. Other databases rely on the unique range ends and the locked serial
counter (impact.services.tokens)."""

from django.db import migrations

BATCH = """
ALTER TABLE impact_batch ADD CONSTRAINT batch_serials_never_overlap EXCLUDE USING gist (
    city_id WITH =, token_class_id WITH =, vintage WITH =,
    int8range(first_serial, last_serial, '[]') WITH &&
)"""
HOLDING = """
ALTER TABLE impact_holding ADD CONSTRAINT holding_serials_never_overlap EXCLUDE USING gist (
    batch_id WITH =, int8range(first_serial, last_serial, '[]') WITH &&
) DEFERRABLE INITIALLY DEFERRED"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(BATCH)
    schema_editor.execute(HOLDING)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE impact_holding DROP CONSTRAINT holding_serials_never_overlap")
    schema_editor.execute("ALTER TABLE impact_batch DROP CONSTRAINT batch_serials_never_overlap")


class Migration(migrations.Migration):
    dependencies = [("impact", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_validator_quorums"),
    ]

    operations = [
        migrations.AddField(
            model_name="validatorchange",
            name="successor_signature",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
    ]

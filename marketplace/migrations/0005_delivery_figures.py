import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0004_data_creditor_account"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("variant", models.CharField(max_length=64)),
                ("bytes", models.PositiveBigIntegerField()),
                ("records", models.PositiveBigIntegerField()),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "distribution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="delivery_figures",
                        to="marketplace.distribution",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "delivery figures",
                "ordering": ["distribution", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("distribution", "variant"),
                        name="delivery_figures_once_per_variant",
                    )
                ],
            },
        ),
    ]

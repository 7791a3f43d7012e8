"""Risk method v2: finding exposure and saving; jewels, compute abuse and routes on the system's
risk row. The per-finding Monte Carlo state of v1 is gone (v2 simulates per jewel)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("threats", "0008_library_v2")]

    operations = [
        migrations.AddField(model_name="finding", name="current_exposure", field=models.FloatField(blank=True, null=True)),
        migrations.AddField(model_name="finding", name="current_saving", field=models.FloatField(blank=True, null=True)),
        migrations.RemoveField(model_name="systemrisk", name="loss_state"),
        migrations.AddField(
            model_name="systemrisk",
            name="jewels",
            field=models.JSONField(default=dict, help_text="Per jewel: value and, per view, its yearly loss and rates."),
        ),
        migrations.AddField(
            model_name="systemrisk",
            name="compute",
            field=models.JSONField(default=dict, help_text="Per endpoint: compute abuse per view."),
        ),
        migrations.AddField(
            model_name="systemrisk",
            name="routes",
            field=models.JSONField(default=list, help_text="Best routes per profile and jewel (current view)."),
        ),
        migrations.AlterField(
            model_name="systemrisk",
            name="reach",
            field=models.JSONField(default=dict, help_text="Per attacker profile: odds of stealing each jewel per attempt."),
        ),
    ]

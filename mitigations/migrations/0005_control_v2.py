# Library format v2 (issue 14, point 2): how a control is priced, how its effectiveness decays
# against attackers above its RAND level, whether it can be put on flows; per threat, the
# effectiveness against each OC level and whether it counts only on the stolen jewel.

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


def effectiveness_by_oc_from_v1(apps, schema_editor):
    """v1 links had one figure for every attacker; keep it for all five levels until a reseed."""
    ThreatControl = apps.get_model("mitigations", "ThreatControl")
    for link in ThreatControl.objects.only("pk", "effectiveness"):
        link.effectiveness_by_oc = [float(link.effectiveness)] * 5
        link.save(update_fields=["effectiveness_by_oc"])


class Migration(migrations.Migration):
    dependencies = [
        ("mitigations", "0004_plan_revision_authors"),
    ]

    operations = [
        migrations.AddField(
            model_name="control",
            name="pricing",
            field=models.CharField(
                choices=[("per_element", "Per covered asset or flow"), ("per_system", "Once per system")],
                default="per_system",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="control",
            name="capability_decay",
            field=models.DecimalField(
                decimal_places=3,
                default=Decimal("0.7"),
                help_text="Multiplier on effectiveness per OC level above rand_sl.",
                max_digits=4,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("1")),
                ],
            ),
        ),
        migrations.AddField(
            model_name="control",
            name="flows",
            field=models.BooleanField(default=False, help_text="Can be put in force on data flows."),
        ),
        migrations.AddField(
            model_name="threatcontrol",
            name="effectiveness_by_oc",
            field=models.JSONField(default=list, help_text="Effectiveness against OC1..OC5."),
        ),
        migrations.AddField(
            model_name="threatcontrol",
            name="on",
            field=models.CharField(
                choices=[("any", "On the target, a flow end or system-wide"), ("jewel", "On the stolen jewel itself")],
                default="any",
                max_length=8,
            ),
        ),
        migrations.RunPython(effectiveness_by_oc_from_v1, migrations.RunPython.noop),
    ]

# Library format v2 (issue 14, point 2): a threat's role, actors, positions, loss form and
# yields, enabler boosts, and every RAND vector it maps (a list; v1 had exactly one).

from django.db import migrations, models


def rand_list_from_v1(apps, schema_editor):
    """Rows seeded from v1 keep their one vector as the list's only entry until a v2 reseed."""
    ThreatTemplate = apps.get_model("threats", "ThreatTemplate")
    for template in ThreatTemplate.objects.exclude(rand_category="").only("pk", "rand_category", "rand_vector"):
        template.rand_vectors = [{"category": template.rand_category, "vector": template.rand_vector}]
        template.save(update_fields=["rand_vectors"])


class Migration(migrations.Migration):
    dependencies = [
        ("threats", "0007_atlas_case_studies"),
    ]

    operations = [
        migrations.AlterField(
            model_name="threattemplate",
            name="rand_category",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AlterField(
            model_name="threattemplate",
            name="rand_vector",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="rand_vectors",
            field=models.JSONField(default=list, help_text="RAND vectors: [{category, vector}], may be empty."),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="role",
            field=models.CharField(
                choices=[("access", "Access"), ("theft", "Theft"), ("enabler", "Enabler")],
                default="access",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="actors",
            field=models.JSONField(default=list, help_text="Actor types that can realise it."),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="position",
            field=models.CharField(default="", help_text="The first of positions.", max_length=16),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="positions",
            field=models.JSONField(default=list, help_text="Where the attacker must stand to try it."),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="loss_form",
            field=models.CharField(blank=True, default="", help_text="theft, compute or '' (no loss).", max_length=8),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="loss_yields",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="loss_value",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="loss_fraction",
            field=models.FloatField(blank=True, help_text="Only with loss_value 'fraction'.", null=True),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="query_goal",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="boosts",
            field=models.JSONField(default=list, help_text="Enablers: the techniques they boost on the same target."),
        ),
        migrations.AddField(
            model_name="threattemplate",
            name="boost",
            field=models.FloatField(default=0.0),
        ),
        migrations.RunPython(rand_list_from_v1, migrations.RunPython.noop),
    ]

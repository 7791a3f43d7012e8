# Audit chain keyed with HMAC (issue 13, point 7) and two smaller hardening changes (point 8).
#
# - AuditEvent.scheme: 1 for events hashed the old way (plain SHA-256, system and actor links not
#   covered), 2 for events sealed with HMAC-SHA256 over every column. Existing rows are scheme 1
#   and keep verifying as such until `verify_audit --reseal` re-seals them (docs/audit-chain.md).
# - System slugs are unique per team rather than site-wide: a global slug leaked whether (and by
#   which suffix) another team had a system of the same name.
# - Names refuse control and text-direction characters (workbench.validators); the validator runs
#   in full_clean() only, so these AlterField operations do not touch the database.

from django.db import migrations, models

import workbench.validators


def _name(max_length=120):
    return models.CharField(max_length=max_length, validators=[workbench.validators.PlainTextValidator()])


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0007_element_team_matches_system"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (legacy)"), (2, "HMAC-SHA256")],
                default=1,
            ),
        ),
        migrations.AlterField(
            model_name="system",
            name="slug",
            field=models.SlugField(max_length=80),
        ),
        migrations.AddConstraint(
            model_name="system",
            constraint=models.UniqueConstraint(fields=("team", "slug"), name="workbench_system_unique_slug"),
        ),
        migrations.AlterField(model_name="team", name="name", field=_name()),
        migrations.AlterField(model_name="system", name="name", field=_name()),
        migrations.AlterField(model_name="trustzone", name="name", field=_name()),
        migrations.AlterField(model_name="asset", name="name", field=_name()),
        migrations.AlterField(model_name="dataflow", name="name", field=_name()),
        migrations.AlterField(model_name="attackerprofile", name="name", field=_name()),
    ]

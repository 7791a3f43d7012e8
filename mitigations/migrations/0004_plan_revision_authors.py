# Issue 13, points 2 and 8: every author of a plan's content (four eyes over all revisions), the
# "obsolete" state for a plan whose scope was deleted, and renewals of risk acceptances.

import django.db.models.deletion
from django.db import migrations, models


def backfill_authors(apps, schema_editor):
    """Authors of existing plans: proposer, last editor and every actor of a propose/update event."""
    MitigationPlan = apps.get_model("mitigations", "MitigationPlan")
    AuditEvent = apps.get_model("workbench", "AuditEvent")
    written: dict[str, set[int]] = {}
    events = AuditEvent.objects.filter(
        object_type="mitigationplan", verb__in=("propose", "update"), actor_id__isnull=False
    ).values_list("object_id", "actor_id")
    for object_id, actor_id in events.iterator():
        written.setdefault(object_id, set()).add(actor_id)
    for plan in MitigationPlan.objects.only("pk", "proposed_by_id", "edited_by_id").iterator():
        ids = written.get(str(plan.pk), set()) | {i for i in (plan.proposed_by_id, plan.edited_by_id) if i}
        if ids:
            first = [plan.proposed_by_id] if plan.proposed_by_id else []
            authors = first + sorted(ids - set(first))
            MitigationPlan.objects.filter(pk=plan.pk).update(authors=authors)


class Migration(migrations.Migration):
    dependencies = [
        ("mitigations", "0003_plans_approvals_acceptances"),
        ("workbench", "0002_audit_plain_refs"),
    ]

    operations = [
        migrations.AddField(
            model_name="mitigationplan",
            name="authors",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="mitigationplan",
            name="status",
            field=models.CharField(
                choices=[
                    ("proposed", "Proposed"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("implemented", "Implemented"),
                    ("verified", "Verified"),
                    ("withdrawn", "Withdrawn"),
                    ("obsolete", "Obsolete"),
                ],
                default="proposed",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="riskacceptance",
            name="renews",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="renewed_by",
                to="mitigations.riskacceptance",
            ),
        ),
        migrations.RunPython(backfill_authors, migrations.RunPython.noop),
    ]

# Existing rows in the v2 domain (issue 14, point 1). Kept apart from 0009 so that its inserts
# (deferred foreign-key checks) never share a transaction with 0009's ALTER TABLEs on PostgreSQL.
#
# 1. A data asset's hosted_on becomes its first stored copy (its system of record) and hosted_on
#    is cleared: from now on hosted_on is for services on hosts. A data asset "hosted" on another
#    data asset (which v1 allowed) is left as it was: such a copy would be refused, and dropping
#    the link would lose what the team wrote; the asset form then asks for a real store.
# 2. LLM endpoints that said "label" meant "text only" (v1 had one choice for both): now "text".
# 3. Attacker profiles seeded as "Malicious insider" and "Compromised supplier" get their actor
#    types (insider, supplier); every other profile keeps the default, external.

from django.db import migrations

DATA_KINDS = ("model_weights", "checkpoint", "adapter", "training_data", "eval_data", "embeddings", "system_prompt")
ACTOR_TYPES = {"Malicious insider": "insider", "Compromised supplier": "supplier"}


def forwards(apps, schema_editor):
    Asset = apps.get_model("workbench", "Asset")
    AssetCopy = apps.get_model("workbench", "AssetCopy")
    AttackerProfile = apps.get_model("workbench", "AttackerProfile")
    hosted = (
        Asset.objects.filter(kind__in=DATA_KINDS, hosted_on__isnull=False)
        .exclude(hosted_on__kind__in=DATA_KINDS)
        .values_list("id", "team_id", "system_id", "hosted_on_id")
    )
    copies = [
        AssetCopy(team_id=team, system_id=system, asset_id=asset, holder_id=host, mode="stored", position=0)
        for asset, team, system, host in hosted.iterator(chunk_size=2000)
    ]
    AssetCopy.objects.bulk_create(copies, batch_size=2000)
    moved = [copy.asset_id for copy in copies]
    for start in range(0, len(moved), 2000):
        Asset.objects.filter(pk__in=moved[start : start + 2000]).update(hosted_on=None)
    Asset.objects.filter(model_class="llm", output_granularity="label").update(output_granularity="text")
    for name, actor_type in ACTOR_TYPES.items():
        AttackerProfile.objects.filter(name=name).update(actor_type=actor_type)


def backwards(apps, schema_editor):
    """Back to v1: the system of record becomes hosted_on again; "text" reads as "label"."""
    Asset = apps.get_model("workbench", "Asset")
    AssetCopy = apps.get_model("workbench", "AssetCopy")
    first = AssetCopy.objects.filter(mode="stored", position=0).values_list("asset_id", "holder_id")
    for asset, holder in first.iterator(chunk_size=2000):
        Asset.objects.filter(pk=asset).update(hosted_on=holder)
    AssetCopy.objects.all().delete()
    Asset.objects.filter(output_granularity="text").update(output_granularity="label")


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0009_domain_v2"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

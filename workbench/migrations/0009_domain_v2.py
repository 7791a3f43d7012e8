# Risk method v2 domain (issue 14, point 1; DESIGN.md §3-4, shared/scenarios/README.md).
#
# - AssetCopy: where a data asset's copies are, stored (ordered; the first is the system of
#   record) or loaded in a host's memory. Replaces hosted_on for data assets (0010 moves them).
# - Asset.serves: the models an endpoint, gateway or agent answers for.
# - Asset: runs_untrusted_code, prompt_cache_shared, streaming, instances, a replication value
#   (models only, each figure <= the value) and a compute cost per day (serving kinds only), both
#   all-three-or-none and ordered; checked by the database as well as by clean().
# - DataFlow.initiator (which end opens the connection), AttackerProfile.actor_type.
# - New vocabulary: agent_tool kind, token / iam authentication, text / embeddings granularity.
# - On PostgreSQL the copy table gets 0007's composite key (system_id, team_id) -> system.

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

COPY_TABLE = "workbench_assetcopy"
COLUMNS = ("system_id", "team_id")


def _single_fks(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, COPY_TABLE)
    return [
        name
        for name, info in constraints.items()
        if info["foreign_key"] and len(info["columns"]) == 1 and info["columns"][0] in COLUMNS
    ]


def copy_team_key(apps, schema_editor):
    """The copy's team must be its system's team: one composite key, as 0007 did for elements."""
    if schema_editor.connection.vendor != "postgresql":
        return
    system = apps.get_model("workbench", "System")._meta.db_table
    for constraint in _single_fks(schema_editor):
        schema_editor.execute(f'ALTER TABLE "{COPY_TABLE}" DROP CONSTRAINT "{constraint}"')
    schema_editor.execute(
        f'ALTER TABLE "{COPY_TABLE}" ADD CONSTRAINT "{COPY_TABLE}_system_team_fk" FOREIGN KEY (system_id, team_id) '
        f'REFERENCES "{system}" (id, team_id) DEFERRABLE INITIALLY DEFERRED'
    )


def v1_granularity(apps, schema_editor):
    """Going back: "embeddings" does not fit v1's 8-character column; v1 filed it under logits."""
    apps.get_model("workbench", "Asset").objects.filter(output_granularity="embeddings").update(
        output_granularity="logits"
    )


def copy_single_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("workbench", "AssetCopy")
    schema_editor.execute(f'ALTER TABLE "{COPY_TABLE}" DROP CONSTRAINT "{COPY_TABLE}_system_team_fk"')
    for field in ("system", "team"):
        schema_editor.execute(
            schema_editor._create_fk_sql(model, model._meta.get_field(field), "_fk_%(to_table)s_%(to_column)s")
        )


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0008_audit_keyed_chain'),
    ]

    operations = [
        migrations.CreateModel(
            name='AssetCopy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mode', models.CharField(choices=[('stored', 'Stored (persistent copy)'), ('loaded', 'Loaded in memory while in use')], max_length=6)),
                ('position', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['asset', 'mode', 'position'],
            },
        ),
        migrations.AddField(
            model_name='asset',
            name='compute_cost_likely',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='Endpoints, gateways, agents: compute an abuser can burn per day (min / likely / max).', max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='compute_cost_max',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='compute_cost_min',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='instances',
            field=models.PositiveIntegerField(default=1, help_text='Identical instances (a fleet of hosts, devices); each holds its own copy of what is stored on it.', validators=[django.core.validators.MinValueValidator(1)]),
        ),
        migrations.AddField(
            model_name='asset',
            name='prompt_cache_shared',
            field=models.BooleanField(default=False, help_text='The prompt / KV cache is shared across users or tenants (timing side channel).'),
        ),
        migrations.AddField(
            model_name='asset',
            name='replication_value_likely',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='Models only: what a functional clone is worth (min / likely / max, each ≤ the value).', max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='replication_value_max',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='replication_value_min',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AddField(
            model_name='asset',
            name='runs_untrusted_code',
            field=models.BooleanField(default=False, help_text='Runs code that users supply or an agent writes from untrusted input.'),
        ),
        migrations.AddField(
            model_name='asset',
            name='serves',
            field=models.ManyToManyField(blank=True, help_text='Endpoints, gateways, agents: the models whose answers they return.', related_name='served_by', to='workbench.asset'),
        ),
        migrations.AddField(
            model_name='asset',
            name='streaming',
            field=models.BooleanField(default=False, help_text='Answers are streamed token by token.'),
        ),
        migrations.AddField(
            model_name='attackerprofile',
            name='actor_type',
            field=models.CharField(choices=[('external', 'External'), ('insider', 'Insider (staff with legitimate access)'), ('supplier', 'Supplier (vendor, contractor, licensee, third-party source)'), ('physical', 'Physical (can touch facilities or hardware)')], default='external', help_text='Insiders misuse the access they hold; suppliers act through what they supply.', max_length=8),
        ),
        migrations.AddField(
            model_name='dataflow',
            name='initiator',
            field=models.CharField(choices=[('source', 'Source opens the connection (push)'), ('target', 'Target opens the connection (pull)')], default='source', help_text='Which end opens the connection; the flow points the way its payload moves.', max_length=6),
        ),
        migrations.AlterField(
            model_name='asset',
            name='authentication',
            field=models.CharField(choices=[('none', 'None (anonymous)'), ('password', 'Password'), ('api_key', 'API key (static, per client)'), ('token', 'Bearer token (often long-lived or shared)'), ('sso', 'Single sign-on'), ('mtls', 'Mutual TLS / workload identity'), ('iam', 'Cloud IAM (signed requests, roles)')], default='sso', max_length=16),
        ),
        migrations.AlterField(
            model_name='asset',
            name='hosted_on',
            field=models.ForeignKey(blank=True, help_text='For services and agents: the machine they run on. Data assets have copies instead.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='hosted_assets', to='workbench.asset'),
        ),
        migrations.AlterField(
            model_name='asset',
            name='kind',
            field=models.CharField(choices=[('model_weights', 'Model weights'), ('checkpoint', 'Checkpoint'), ('adapter', 'Adapter (LoRA, fine-tune delta)'), ('training_data', 'Training data'), ('eval_data', 'Evaluation data'), ('embeddings', 'Embeddings'), ('system_prompt', 'System prompt / agent config'), ('inference_endpoint', 'Inference endpoint'), ('api_gateway', 'API gateway'), ('ai_agent', 'AI agent'), ('agent_tool', 'AI agent tool / MCP server'), ('vector_store', 'Vector store / RAG index'), ('model_registry', 'Model registry'), ('object_store', 'Object store'), ('container_registry', 'Container registry'), ('model_hub', 'External model hub'), ('code_repository', 'Code repository'), ('training_cluster', 'Training cluster'), ('gpu_host', 'GPU host'), ('mlops_service', 'MLOps service (orchestrator, tracking)'), ('notebook', 'Notebook server'), ('ci_pipeline', 'CI pipeline'), ('package_source', 'Package source'), ('secrets_store', 'Secrets store / KMS'), ('identity_provider', 'Identity provider'), ('monitoring', 'Monitoring / logging'), ('workstation', 'Workstation'), ('edge_device', 'Edge / on-prem device'), ('human_role', 'Person or role'), ('external_service', 'External service')], max_length=32),
        ),
        migrations.AlterField(
            model_name='asset',
            name='output_granularity',
            field=models.CharField(blank=True, choices=[('', 'Not an interface'), ('text', 'Generated text only (no logprobs)'), ('label', 'Top-1 label / class'), ('score', 'Scores / top-k probabilities'), ('logits', 'Logprobs / logits'), ('embeddings', 'Embedding vectors')], default='', max_length=10),
        ),
        migrations.RunPython(migrations.RunPython.noop, v1_granularity, elidable=False),
        migrations.AddConstraint(
            model_name='asset',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(models.Q(('replication_value_likely__isnull', True), ('replication_value_max__isnull', True), ('replication_value_min__isnull', True)), models.Q(('replication_value_likely__isnull', False), ('replication_value_max__isnull', False), ('replication_value_min__isnull', False), ('replication_value_likely__lte', models.F('replication_value_max')), ('replication_value_min__lte', models.F('replication_value_likely'))), _connector='OR'), models.Q(('replication_value_min__isnull', True), models.Q(('kind__in', ['adapter', 'checkpoint', 'model_weights']), ('replication_value_likely__lte', models.F('value_likely')), ('replication_value_max__lte', models.F('value_max')), ('replication_value_min__lte', models.F('value_min'))), _connector='OR')), name='workbench_asset_replication_value_valid'),
        ),
        migrations.AddConstraint(
            model_name='asset',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(models.Q(('compute_cost_likely__isnull', True), ('compute_cost_max__isnull', True), ('compute_cost_min__isnull', True)), models.Q(('compute_cost_likely__isnull', False), ('compute_cost_max__isnull', False), ('compute_cost_min__isnull', False), ('compute_cost_likely__lte', models.F('compute_cost_max')), ('compute_cost_min__lte', models.F('compute_cost_likely'))), _connector='OR'), models.Q(('compute_cost_min__isnull', True), ('kind__in', ['ai_agent', 'api_gateway', 'inference_endpoint']), _connector='OR')), name='workbench_asset_compute_cost_valid'),
        ),
        migrations.AddField(
            model_name='assetcopy',
            name='asset',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='copies', to='workbench.asset'),
        ),
        migrations.AddField(
            model_name='assetcopy',
            name='holder',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='held_copies', to='workbench.asset'),
        ),
        migrations.AddField(
            model_name='assetcopy',
            name='system',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='asset_copies', to='workbench.system'),
        ),
        migrations.AddField(
            model_name='assetcopy',
            name='team',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workbench.team'),
        ),
        migrations.AddIndex(
            model_name='assetcopy',
            index=models.Index(fields=['system'], name='workbench_a_system__843491_idx'),
        ),
        migrations.AddConstraint(
            model_name='assetcopy',
            constraint=models.UniqueConstraint(fields=('asset', 'holder', 'mode'), name='workbench_assetcopy_unique_holder'),
        ),
        migrations.AddConstraint(
            model_name='assetcopy',
            constraint=models.UniqueConstraint(fields=('asset', 'mode', 'position'), name='workbench_assetcopy_unique_position'),
        ),
        migrations.AddConstraint(
            model_name='assetcopy',
            constraint=models.CheckConstraint(condition=models.Q(('asset', models.F('holder')), _negated=True), name='workbench_assetcopy_not_itself'),
        ),
        migrations.RunPython(copy_team_key, copy_single_keys, elidable=False),
    ]

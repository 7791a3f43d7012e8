# Diagrams, their render cache and attack paths (issue 5).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('threats', '0004_systemrisk_loss_state'),
        ('workbench', '0002_audit_plain_refs'),
    ]

    operations = [
        migrations.CreateModel(
            name='RenderedDiagram',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dot_hash', models.CharField(max_length=64, unique=True)),
                ('dot', models.TextField(help_text='The DOT text, kept to render the PNG on demand.')),
                ('svg', models.BinaryField()),
                ('png', models.BinaryField(blank=True, null=True)),
                ('png_error', models.TextField(blank=True, help_text='Why the PNG could not be rendered (not retried).')),
                ('nodes', models.PositiveIntegerField(default=0)),
                ('edges', models.PositiveIntegerField(default=0)),
                ('render_seconds', models.FloatField(default=0.0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('used_at', models.DateTimeField(default=django.utils.timezone.now, help_text='Last time a render was answered from here.')),
            ],
            options={
                'indexes': [models.Index(fields=['used_at'], name='threats_ren_used_at_e6b092_idx')],
            },
        ),
        migrations.CreateModel(
            name='SystemAttackPaths',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveBigIntegerField(default=0, help_text='System version of these paths.')),
                ('computed_at', models.DateTimeField(blank=True, null=True)),
                ('k', models.PositiveSmallIntegerField(default=5)),
                ('pairs', models.JSONField(default=list)),
                ('summary', models.JSONField(default=dict, help_text='Crown jewels found and analysed, pairs cut by the time limit.')),
                ('system', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='attack_paths', to='workbench.system')),
            ],
        ),
        migrations.CreateModel(
            name='SystemDiagram',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('dfd', 'Data-flow diagram'), ('attack-paths', 'Attack paths')], max_length=16)),
                ('version', models.PositiveBigIntegerField(default=0, help_text='System version this diagram shows.')),
                ('state', models.CharField(choices=[('ready', 'Ready'), ('failed', 'Failed')], default='ready', max_length=8)),
                ('error', models.TextField(blank=True)),
                ('dot_hash', models.CharField(blank=True, max_length=64)),
                ('capped', models.BooleanField(default=False, help_text='Above the node or edge cap: only part is drawn.')),
                ('summary', models.JSONField(default=dict, help_text='Drawn nodes and edges, what was left out, render time.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('rendered', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='diagrams', to='threats.rendereddiagram')),
                ('system', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='diagrams', to='workbench.system')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('system', 'kind'), name='threats_systemdiagram_unique_kind')],
            },
        ),
    ]

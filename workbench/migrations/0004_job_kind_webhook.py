# Job rows for outbound webhook deliveries of the mitigations app (issue 6).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0003_inventorysync'),
    ]

    operations = [
        migrations.AlterField(
            model_name='job',
            name='kind',
            field=models.CharField(choices=[('recompute', 'Risk recompute'), ('render', 'Diagram render'), ('sync', 'Inventory sync'), ('import', 'Import'), ('audit_verify', 'Audit chain verification'), ('webhook', 'Webhook delivery')], max_length=16),
        ),
    ]

# Queued sync bodies and answers become compressed binary (workbench.services.packed).
# The text column is dropped rather than cast: PostgreSQL's text-to-bytea cast reads backslashes
# as escapes, which JSON bodies contain. A sync still queued during the upgrade finds no body and
# its Job fails asking the client to send it again.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0005_asset_positions'),
    ]

    operations = [
        migrations.RemoveField(model_name='inventorysync', name='payload'),
        migrations.AddField(
            model_name='inventorysync',
            name='payload',
            field=models.BinaryField(blank=True, default=b''),
        ),
        migrations.AddField(
            model_name='inventorysync',
            name='answer',
            field=models.BinaryField(blank=True, default=b''),
        ),
    ]

# ATLAS case studies by id and name (issue 13: the shipped ATLAS data).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('threats', '0006_finding_comments'),
    ]

    operations = [
        migrations.CreateModel(
            name='AtlasCaseStudy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('atlas_id', models.CharField(max_length=20, unique=True)),
                ('name', models.CharField(max_length=200)),
            ],
            options={
                'verbose_name': 'ATLAS case study',
                'verbose_name_plural': 'ATLAS case studies',
                'ordering': ['atlas_id'],
            },
        ),
    ]

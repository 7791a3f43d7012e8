"""App config for controls, mitigation plans and approvals."""

from django.apps import AppConfig


class MitigationsConfig(AppConfig):
    name = "mitigations"
    verbose_name = "Mitigations"
    default_auto_field = "django.db.models.BigAutoField"

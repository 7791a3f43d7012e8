"""App config for the threat library, rule and risk engines."""

from django.apps import AppConfig


class ThreatsConfig(AppConfig):
    name = "threats"
    verbose_name = "Threat library"
    default_auto_field = "django.db.models.BigAutoField"

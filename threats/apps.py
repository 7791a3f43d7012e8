"""App config for the threat library, rule and risk engines."""

from django.apps import AppConfig


class ThreatsConfig(AppConfig):
    name = "threats"
    verbose_name = "Threat library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every committed change to a system's model schedules a recompute (DESIGN.md §6).
        from threats.services.recompute import enqueue_recompute
        from workbench.services.common import system_changed_hooks

        if enqueue_recompute not in system_changed_hooks:
            system_changed_hooks.append(enqueue_recompute)

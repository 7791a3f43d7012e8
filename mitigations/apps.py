"""App config for controls, mitigation plans and approvals."""

from django.apps import AppConfig


class MitigationsConfig(AppConfig):
    name = "mitigations"
    verbose_name = "Mitigations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After every committed change to a system: plans whose scope was deleted become obsolete
        # (issue 13.8), so they stop reading as approved controls.
        from mitigations.services.obsolete import on_system_changed
        from workbench.services.common import system_changed_hooks

        if on_system_changed not in system_changed_hooks:
            system_changed_hooks.append(on_system_changed)

"""Risk results of a system, tagged with the system version they were computed for.

``SystemRisk`` is also the recompute claim: a worker claims a version with a conditional update
(healthchecks' pattern) before computing, so concurrent or redelivered tasks for the same
version do the work once, and results for an older version never overwrite newer ones.
"""

from __future__ import annotations

from django.db import models

from workbench.models import System


class SystemRisk(models.Model):
    """The latest computed risk of one system, and who is computing which version."""

    system = models.OneToOneField(System, on_delete=models.CASCADE, related_name="risk")
    computed_version = models.PositiveBigIntegerField(default=0, help_text="System version of these results.")
    claimed_version = models.PositiveBigIntegerField(default=0)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    seed = models.PositiveIntegerField(default=0)
    draws = models.PositiveIntegerField(default=0)
    # {"inherent": {"mean": .., "p90": ..}, "current": {...}, "projected": {...}}
    totals = models.JSONField(default=dict)
    heatmap = models.JSONField(default=dict, help_text="Per view: 5x5 counts [likelihood][impact].")
    extraction = models.JSONField(default=list, help_text="Extraction budgets of API-extraction findings.")
    reach = models.JSONField(default=dict, help_text="Per attacker profile: odds of stealing each jewel per attempt.")
    jewels = models.JSONField(default=dict, help_text="Per jewel: value and, per view, its yearly loss and rates.")
    compute = models.JSONField(default=dict, help_text="Per endpoint: compute abuse per view.")
    routes = models.JSONField(default=list, help_text="Best routes per profile and jewel (current view).")
    plan_effects = models.JSONField(
        default=dict,
        help_text="Per implemented or pending plan id: the system's expected loss without and with it, "
        "current and projected (threats.engine.plan_effect).",
    )

    def __str__(self) -> str:
        return f"risk of {self.system} at v{self.computed_version}"

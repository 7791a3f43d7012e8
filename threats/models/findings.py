"""Findings: a threat template applied to one target (asset or flow) of a system.

A finding is never deleted by the engine: when its rule stops matching it is closed as
``not_applicable`` (with the version it closed at) and reopened if it matches again, so its
history and any decisions taken on it survive. If the target itself is deleted the finding keeps
its ``target_key`` and ``target_repr``.
"""

from __future__ import annotations

from django.db import models

from threats.models.library import TargetType, ThreatTemplate
from workbench.models import Asset, DataFlow, System, Team
from workbench.querysets import ElementQuerySet

# The columns a recompute writes on each finding: the figures of the views and their JSON. One
# list for the writer (``threats.services.risk``) and the API serializer.
RISK_FIELDS = (
    "inherent_mean",
    "current_mean",
    "current_p90",
    "projected_mean",
    "current_frequency",
    "current_exposure",
    "current_saving",
    "likelihood_band",
    "impact_band",
    "risk",
    "risk_version",
)


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    MITIGATED = "mitigated", "Mitigated"
    ACCEPTED = "accepted", "Accepted"
    NOT_APPLICABLE = "not_applicable", "No longer applies"


class FindingQuerySet(ElementQuerySet):
    def applicable(self) -> FindingQuerySet:
        return self.exclude(status=FindingStatus.NOT_APPLICABLE)


class Finding(models.Model):
    """System x threat x target, with the rule's explanation of why it applies."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="findings")
    template = models.ForeignKey(ThreatTemplate, on_delete=models.PROTECT, related_name="findings")
    target_type = models.CharField(max_length=8, choices=TargetType.choices)
    target_key = models.CharField(max_length=40, help_text="'asset:<id>' or 'flow:<id>'; stable if deleted.")
    target_repr = models.CharField(max_length=200)
    asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings")
    flow = models.ForeignKey(DataFlow, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings")
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    explanation = models.JSONField(default=list)
    computed_version = models.PositiveBigIntegerField(help_text="System version the finding was last computed for.")
    closed_version = models.PositiveBigIntegerField(null=True, blank=True)
    # Risk of the last recompute (DESIGN.md §4, risk method v2): per view the expected yearly
    # loss of the routes through this finding, bands, and the factors behind every number
    # (``risk`` holds the full explanation per view).
    inherent_mean = models.FloatField(null=True, blank=True)
    current_mean = models.FloatField(null=True, blank=True)
    current_p90 = models.FloatField(null=True, blank=True)
    projected_mean = models.FloatField(null=True, blank=True)
    current_frequency = models.FloatField(null=True, blank=True)
    # Risk method v2: its share of the jewels' loss (shares of one jewel add up to it), and what
    # fixing it saves (computed for the current view's top findings only).
    current_exposure = models.FloatField(null=True, blank=True)
    current_saving = models.FloatField(null=True, blank=True)
    likelihood_band = models.PositiveSmallIntegerField(null=True, blank=True)
    impact_band = models.PositiveSmallIntegerField(null=True, blank=True)
    risk = models.JSONField(default=dict, blank=True)
    risk_version = models.PositiveBigIntegerField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["template__code", "target_repr"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "template", "target_key"], name="%(app_label)s_%(class)s_unique_target"
            ),
        ]
        indexes = [models.Index(fields=["system", "status"])]

    def __str__(self) -> str:
        return f"{self.template.code} on {self.target_repr}"
